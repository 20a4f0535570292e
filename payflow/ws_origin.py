"""WebSocket origin checks that guard cookie sessions and only them.

A browser sends its session cookie with any WebSocket it opens, whichever site's page opened
it, so a cookie session must come from an exact allowed origin (scheme, host and port): the
page's own origin (the Host header, which must be in ALLOWED_HOSTS, with the connection's
scheme) or one listed in CSRF_TRUSTED_ORIGINS. A client that authenticates with a bearer token
(``Authorization`` header or ``?token=``) carries no ambient credential and needs no Origin;
the consumer judges its token alone. A connection with neither token nor session cookie passes
to the consumer, which refuses it without the role.
"""

import inspect
from urllib.parse import parse_qs

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from payflow.proxies import is_trusted_proxy


def _headers(scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _has_token(scope, headers) -> bool:
    if b"authorization" in headers:
        return True
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return bool(query.get("token"))


def _has_session_cookie(headers) -> bool:
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    name = settings.SESSION_COOKIE_NAME
    return any(part.strip().startswith(f"{name}=") for part in cookie.split(";"))


def _scheme(scope, headers) -> str:
    scheme = scope.get("scheme", "ws")
    forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
    client = (scope.get("client") or ("", 0))[0]
    if forwarded and is_trusted_proxy(client):
        return "https" if forwarded in {"https", "wss"} else "http"
    return "https" if scheme in {"wss", "https"} else "http"


def allowed_origins(scope) -> set[str]:
    headers = _headers(scope)
    origins = {origin.rstrip("/").lower() for origin in settings.CSRF_TRUSTED_ORIGINS}
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    domain, _port = split_domain_port(host)
    if host and domain and validate_host(domain, settings.ALLOWED_HOSTS):
        origins.add(f"{_scheme(scope, headers)}://{host}")
    return origins


def origin_allowed(scope) -> bool:
    headers = _headers(scope)
    if _has_token(scope, headers) or not _has_session_cookie(headers):
        return True
    origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
    if not origin:
        return False
    # The default port is implied: http://host:80 is http://host.
    for default in (":80", ":443"):
        if origin.endswith(default) and origin.startswith(
            "http://" if default == ":80" else "https://"
        ):
            origin = origin[: -len(default)]
    return origin in allowed_origins(scope)


class CookieSessionOriginValidator:
    def __init__(self, application):
        self.application = application

    @inspect.markcoroutinefunction  # hands over the app's coroutine: see payflow/asgi.py
    def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return WebsocketDenier()(scope, receive, send)
        return self.application(scope, receive, send)
