"""Errors rendered once: JSON ``{"code", "message", "fields"}`` for the API and the streams, the
HTML error page for people. Django's 403/404/500 handlers and the edge middleware use these."""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from payflow.exceptions import DomainError, ServiceUnavailable

RETRY_AFTER_SECONDS = 5
STREAM_PATH_PREFIXES = ("/stream/", "/ws/")

try:  # channels-redis and django's redis cache raise these when Redis is away
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_OUTAGES: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency
    _REDIS_OUTAGES = ()

OUTAGE_ERRORS = (OperationalError, InterfaceError, ConnectionError, *_REDIS_OUTAGES)


def is_outage(exc: BaseException | None) -> bool:
    """True for a database or channel-layer/cache connection failure (not a bug of ours)."""
    return isinstance(exc, OUTAGE_ERRORS)


def outage_error(exc: BaseException | None = None) -> ServiceUnavailable:
    what = (
        "the database"
        if isinstance(exc, OperationalError | InterfaceError)
        else "the cache and channel layer (Redis)"
    )
    return ServiceUnavailable(
        f"PayFlow cannot reach {what} right now; nothing was changed. "
        f"Try again in {RETRY_AFTER_SECONDS} seconds.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def wants_json(request) -> bool:
    path = request.path
    if path.startswith("/api/") or path.startswith(STREAM_PATH_PREFIXES):
        return True
    return "text/event-stream" in request.headers.get("Accept", "")


def error_response(request, exc: DomainError):
    """The one rendering of a DomainError outside the ninja API (which renders the same body)."""
    if wants_json(request):
        response = JsonResponse(exc.body(), status=exc.status)
    else:
        # Rendered without the request: no context processor may touch the session or the
        # database, which may be the very thing that is down.
        html = render_to_string(
            "errors/error.html",
            {"status": exc.status, "message": exc.message, "fields": exc.fields},
        )
        response = HttpResponse(html, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You may not do this."
    if wants_json(request):
        return JsonResponse({"code": "forbidden", "message": message, "fields": {}}, status=403)
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if wants_json(request):
        body = {"code": "not_found", "message": "No such resource.", "fields": {}}
        return JsonResponse(body, status=404)
    return render(request, "errors/404.html", status=404)


def bad_request(request, exception=None):
    error = DomainError("The request could not be understood.", status=400, code="bad_request")
    return error_response(request, error)


def server_error(request):
    request_id = getattr(request, "request_id", "")
    if wants_json(request):
        body = {
            "code": "internal_error",
            "message": "Something went wrong on our side.",
            "fields": {},
            "request_id": request_id,
        }
        return JsonResponse(body, status=500)
    return render(request, "errors/500.html", {"request_id": request_id}, status=500)
