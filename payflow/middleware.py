"""The request edge: bad input and outages become one clear answer before any app sees them.

``InputGuardMiddleware`` refuses, for every page, API operation and stream:

- a NUL byte or a lone UTF-16 surrogate in the path, a query parameter (name or value), a form
  field or anywhere in a JSON body: 400 for the path, 422 naming the field otherwise;
- a body over its limit: 413 ``payload_too_large`` (``PAYFLOW_MAX_BODY_BYTES``; multipart
  uploads to the paths in ``PAYFLOW_UPLOAD_PATH_PREFIXES`` get ``PAYFLOW_MAX_UPLOAD_BYTES``);
- a body that is not JSON on an API write: 415 ``unsupported_media_type`` (multipart only where
  an upload path allows it).

``ServiceUnavailableMiddleware`` turns a database or channel-layer outage into 503
``service_unavailable`` with ``Retry-After``, wherever in the stack it was raised.

Both answer through ``payflow.errors.error_response``: JSON for the API and streams, the HTML
error page for people.
"""

import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, is_valid_path, resolve

from payflow.access import SELF_GOVERNED_NAMESPACES, route_access
from payflow.errors import error_response, is_outage, outage_error
from payflow.exceptions import (
    DomainError,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from payflow.observability import REQUEST_ID_HEADER, SyncAndAsyncMiddleware

_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def bad_character_problem(text: str) -> str | None:
    """The sentence for a NUL byte or lone surrogate in ``text``, or None when it is clean."""
    found = _BAD_CHARACTERS.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Contains a NUL byte (\\u0000), which PayFlow does not accept in any text."
    return "Contains a lone UTF-16 surrogate, which is not valid Unicode text."


@dataclass(frozen=True)
class BodyRule:
    limit: int
    multipart: bool


@dataclass(frozen=True)
class DeclaredOperation:
    body_types: frozenset[str]  # empty: the operation takes no body
    query_names: frozenset[str]


@lru_cache(maxsize=1)
def _api_operations() -> list[tuple[re.Pattern, str, DeclaredOperation]]:
    """(path regex, method, what it declares) of every API operation, from its OpenAPI
    document."""
    from payflow.api import api

    found = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "/?$")
        for method, doc in methods.items():
            declared = DeclaredOperation(
                body_types=frozenset(doc.get("requestBody", {}).get("content", {})),
                query_names=frozenset(
                    p["name"] for p in doc.get("parameters", []) if p.get("in") == "query"
                ),
            )
            found.append((pattern, method.upper(), declared))
    return found


def declared_operation(path: str, method: str) -> DeclaredOperation | None:
    for pattern, declared_method, declared in _api_operations():
        if declared_method == method and pattern.match(path):
            return declared
    return None


def declared_body_types(path: str, method: str) -> frozenset[str] | None:
    """The media types the API operation at ``path`` accepts, or None if none is there."""
    declared = declared_operation(path, method)
    return declared.body_types if declared else None


def body_rule(path: str, method: str = "POST") -> BodyRule:
    """How large a body may be at ``path``, and whether it may be a multipart upload: where an
    operation declares a multipart body, or under PAYFLOW_UPLOAD_PATH_PREFIXES."""
    declared = declared_body_types(path, method) if path.startswith("/api/") else None
    if (declared and "multipart/form-data" in declared) or any(
        path.startswith(prefix) for prefix in settings.PAYFLOW_UPLOAD_PATH_PREFIXES
    ):
        return BodyRule(settings.PAYFLOW_MAX_UPLOAD_BYTES, multipart=True)
    return BodyRule(settings.PAYFLOW_MAX_BODY_BYTES, multipart=False)


def checks_own_body(view):
    """Mark a view that judges its raw bytes itself (a signed webhook records even a malformed
    delivery as rejected): the edge leaves its body's characters alone; its size limit and
    everything else still apply."""
    view.checks_own_body = True
    return view


def _view_checks_own_body(request) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "checks_own_body", False)


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _json_problems(value, where: str, problems: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        problem = bad_character_problem(value)
        if problem:
            problems.setdefault(where or "body", []).append(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            problem = bad_character_problem(key_text)
            if problem:
                problems.setdefault(where or "body", []).append(f"A field name: {problem}")
                continue
            _json_problems(item, f"{where}.{key_text}" if where else key_text, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_problems(item, f"{where}.{index}" if where else str(index), problems)


def _querydict_problems(data, problems: dict[str, list[str]]) -> None:
    for key, values in data.lists():
        key_problem = bad_character_problem(key)
        if key_problem:
            printable = _BAD_CHARACTERS.sub("?", key)
            problems.setdefault(printable or "?", []).append(f"The parameter name: {key_problem}")
            continue
        for value in values:
            problem = bad_character_problem(value)
            if problem:
                problems.setdefault(key, []).append(problem)


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def check_request(request) -> None:
    """Raise the DomainError this request deserves, or return when its input is acceptable."""
    problem = bad_character_problem(request.path)
    if problem:
        raise DomainError(
            f"The address is not valid: {problem}",
            status=400,
            code="bad_request",
            fields={"path": [problem]},
        )
    problems: dict[str, list[str]] = {}
    _querydict_problems(request.GET, problems)
    if problems:
        raise InvalidInput.for_fields(problems)
    if _is_api(request.path) and request.GET:
        # An API operation takes the query parameters it documents; a misspelt filter must
        # not silently widen a list.
        operation = declared_operation(request.path, request.method)
        unknown = sorted(set(request.GET) - operation.query_names) if operation else []
        if unknown:
            known = ", ".join(sorted(operation.query_names)) or "none"
            raise InvalidInput.for_fields(
                {
                    name: [f"Unknown query parameter; this operation takes: {known}."]
                    for name in unknown
                }
            )

    rule = body_rule(request.path, request.method)
    content_type = request.content_type or ""
    length = _content_length(request)
    if length > rule.limit:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; the limit here is {rule.limit} bytes.",
            fields={"body": [f"At most {rule.limit} bytes."]},
        )
    declared = declared_body_types(request.path, request.method) if _is_api(request.path) else None
    # A JSON API write with a body must send JSON; an operation that takes no body ignores one.
    if declared and request.method in WRITE_METHODS and length > 0:
        is_json = content_type == "application/json" or content_type.endswith("+json")
        is_multipart = content_type == "multipart/form-data"
        if not (is_json or (is_multipart and rule.multipart)):
            allowed = "application/json" + (" or multipart/form-data" if rule.multipart else "")
            raise UnsupportedMediaType(
                f"Send the body as {allowed}, not {content_type or 'an unnamed type'}.",
                fields={"Content-Type": [f"Use {allowed}."]},
            )
    if request.method not in WRITE_METHODS or _view_checks_own_body(request):
        return
    try:
        if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            if length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                # Read the raw bytes first, so a view that verifies them (a signed webhook)
                # can still read request.body after the form was parsed here.
                request.body  # noqa: B018
            _querydict_problems(request.POST, problems)
        elif content_type == "application/json" or content_type.endswith("+json"):
            try:
                parsed = json.loads(request.body)
            except ValueError:
                return  # not JSON at all: the API's parser names that
            _json_problems(parsed, "", problems)
    except RequestDataTooBig:
        raise PayloadTooLarge(
            f"The request body is larger than the limit here ({rule.limit} bytes).",
            fields={"body": [f"At most {rule.limit} bytes."]},
        ) from None
    if problems:
        raise InvalidInput.for_fields(problems)


class InputGuardMiddleware(SyncAndAsyncMiddleware):
    def before(self, request):
        try:
            check_request(request)
        except DomainError as exc:
            return error_response(request, exc)
        return None


def _remember_outage(sender, request=None, **kwargs):
    """Django turns an exception raised in any middleware or view into a 500 response at that
    layer; note an outage on the request so the outer middleware can answer 503 instead."""
    exc = sys.exc_info()[1]
    if request is not None and is_outage(exc):
        request._payflow_outage = exc


signals.got_request_exception.connect(_remember_outage, dispatch_uid="payflow-outage")


class ServiceUnavailableMiddleware(SyncAndAsyncMiddleware):
    """Outermost outage handler: 503 with Retry-After instead of a 500 for a dead dependency."""

    def after(self, request, response):
        if response.status_code >= 500 and getattr(request, "_payflow_outage", None):
            replaced = error_response(request, outage_error(request._payflow_outage))
            if response.has_header(REQUEST_ID_HEADER):
                replaced[REQUEST_ID_HEADER] = response[REQUEST_ID_HEADER]
            return replaced
        return response

    def process_exception(self, request, exception):
        if is_outage(exception):
            return error_response(request, outage_error(exception))
        return None


class PageAccessMiddleware(SyncAndAsyncMiddleware):
    """Deny by default for pages: a view that declares no access (``@requires``/``@public``)
    is refused to everyone. The API and the admin own their routes (payflow.access)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or (set(match.namespaces) & SELF_GOVERNED_NAMESPACES):
            return None
        if route_access(match.view_name, view_func) is not None:
            return None
        return error_response(
            request,
            Forbidden("This page declares no role, so it is refused to everyone."),
        )


class PermissionsPolicyMiddleware(SyncAndAsyncMiddleware):
    """Turn off the browser features PayFlow never uses (camera, geolocation, payment...)."""

    def after(self, request, response):
        response.setdefault("Permissions-Policy", settings.PAYFLOW_PERMISSIONS_POLICY)
        return response


class StripTrailingSlashMiddleware(SyncAndAsyncMiddleware):
    """``/payments/`` (the slash most people type) redirects to the canonical ``/payments``:
    any GET that 404s with a trailing slash whose slash-less form is a route."""

    def after(self, request, response):
        path = request.path_info
        if (
            response.status_code == 404
            and request.method in {"GET", "HEAD"}
            and len(path) > 1
            and path.endswith("/")
            and not path.startswith("/api/")
            and is_valid_path(path.rstrip("/"), getattr(request, "urlconf", None))
        ):
            target = request.path.rstrip("/")
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)
        return response


class DomainErrorMiddleware(SyncAndAsyncMiddleware):
    """Pages (and streams' plain HTTP answers) render a DomainError a view did not handle once:
    the error page with its message for people, the JSON body for clients. The API renders
    its own (payflow.api), in the same shape."""

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return error_response(request, exception)
        return None
