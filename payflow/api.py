"""The JSON API at /api/v1/: one NinjaAPI, its authentication, and one error shape.

Every error body is ``{"code": ..., "message": ..., "fields": {...}}``: apps raise subclasses of
``payflow.exceptions.DomainError`` and one handler here renders them. Apps contribute a
``router`` in ``<app>/api.py``; ``build_api`` mounts them.
"""

import logging
import re
from datetime import UTC, datetime
from typing import Annotated

from django.conf import settings
from django.http import Http404, JsonResponse
from ninja import Header, NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from payflow.accounts.roles import Action, can, denial_message, required_role, role_of
from payflow.accounts.selectors import bearer_token_from_header, user_for_bearer_token
from payflow.currencies import CURRENCIES
from payflow.errors import is_outage, outage_error
from payflow.exceptions import DomainError, Forbidden, NotAuthenticated
from payflow.preconditions import IF_MATCH_PATTERN, MAX_IF_MATCH_LENGTH

logger = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BearerOrSession(HttpBearer):
    """``Authorization: Bearer <token>``, else the browser session (with CSRF on writes).

    A request that offers a bearer token is judged on it alone: a bad token is a 401 even
    when a session cookie is present, so a client learns its token is wrong.
    """

    def __call__(self, request):
        header = request.headers.get("Authorization")
        if header is not None:
            raw = bearer_token_from_header(header)
            user = user_for_bearer_token(raw) if raw else None
            if user is None:
                raise NotAuthenticated(
                    "The bearer token is malformed, unknown or revoked.",
                    code="invalid_token",
                    fields={"Authorization": ["Send 'Bearer <token>' with an active token."]},
                )
            request.user = user
            return user
        user = request.user
        if not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise Forbidden(
                "The CSRF check failed; send the X-CSRFToken header with a session, "
                "or use a bearer token.",
                code="csrf_failed",
            )
        return user

    def authenticate(self, request, token):  # required by HttpBearer; __call__ does the work
        return user_for_bearer_token(token)


class RoleRequired(BearerOrSession):
    """Authenticate, then demand the role ``action`` needs: 401 without a user, 403 without it.

    Every API operation declares one with ``auth=needs(Action.X)``; this is the API's one
    access check (pages use ``payflow.accounts.decorators.requires``).
    """

    def __init__(self, action: Action):
        super().__init__()
        self.action = action

    def __call__(self, request):
        user = super().__call__(request)
        if user is None:
            return None
        if not can(user, self.action):
            raise Forbidden(denial_message(self.action))
        return user


class UndeclaredAccess(BearerOrSession):
    """The API's default: an operation that declares no role is refused to everyone."""

    def __call__(self, request):
        user = super().__call__(request)
        if user is None:
            return None
        raise Forbidden("This operation declares no role, so it is refused to everyone.")


def needs(action: Action) -> RoleRequired:
    return RoleRequired(action)


def _field_name(loc) -> str:
    parts = [str(part) for part in loc]
    # ninja prefixes locations with the source and the parameter name: body/payload/amount.
    if parts and parts[0] in {"body", "query", "path", "header", "form", "file", "cookie"}:
        parts = parts[1:]
        if len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts) or "body"


def _error_response(api, request, status: int, body: dict, headers: dict | None = None):
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _install_error_handlers(api: NinjaAPI) -> None:
    def on_domain_error(request, exc: DomainError):
        return _error_response(api, request, exc.status, exc.body(), exc.headers)

    def on_validation_error(request, exc: ValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(error.get("loc", ())), []).append(error.get("msg", ""))
        names = ", ".join(sorted(fields))
        body = {
            "code": "validation_error",
            "message": f"Invalid value for: {names}.",
            "fields": fields,
        }
        return _error_response(api, request, 422, body)

    def on_authentication_error(request, exc: AuthenticationError):
        body = {
            "code": "not_authenticated",
            "message": "Log in or send 'Authorization: Bearer <token>'.",
            "fields": {},
        }
        return _error_response(api, request, 401, body)

    def on_http_error(request, exc: HttpError):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        message = str(exc) if exc.status_code != 400 else "The request body is not valid JSON."
        fields = {"body": [message]} if exc.status_code == 400 else {}
        return _error_response(
            api, request, exc.status_code, {"code": code, "message": message, "fields": fields}
        )

    def on_not_found(request, exc: Http404):
        message = str(exc) or "Not found."
        return _error_response(
            api, request, 404, {"code": "not_found", "message": message, "fields": {}}
        )

    def on_unexpected(request, exc: Exception):
        if is_outage(exc):
            return on_domain_error(request, outage_error(exc))
        logger.exception("Unhandled API error", exc_info=exc)
        body = {
            "code": "internal_error",
            "message": "Something went wrong on our side; nothing was changed. "
            "Quote the request id to support.",
            "fields": {},
            "request_id": getattr(request, "request_id", ""),
        }
        return _error_response(api, request, 500, body)

    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Exception, on_unexpected)


ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable error code."},
        "message": {"type": "string", "description": "A sentence for people."},
        "fields": {
            "type": "object",
            "description": "The fields at fault: name -> what is wrong with it.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "additionalProperties": True,
}

# Every operation can answer these; the codes are the ``code`` values each status carries.
COMMON_ERRORS = {
    "400": ("bad_request", "The address or the body could not be read (e.g. a NUL byte)."),
    "401": ("not_authenticated, invalid_token", "No session and no valid bearer token."),
    "403": ("forbidden, csrf_failed", "The user's role does not allow this operation."),
    "422": ("validation_error", "A parameter or body field is invalid; `fields` names it."),
    "503": (
        "service_unavailable",
        "The database or the channel layer is unreachable; retry after `Retry-After` seconds.",
    ),
}
BODY_ERRORS = {
    "413": ("payload_too_large", "The body is over the size limit."),
    "415": ("unsupported_media_type", "The body is not JSON (or multipart where allowed)."),
}
PATH_ERRORS = {"404": ("not_found", "Nothing has the id in the path.")}
WRITE_ERRORS = {
    "409": ("conflict and more specific codes", "The resource changed or the move is illegal.")
}

PRECONDITION_ERRORS = {
    "412": ("precondition_failed", "If-Match does not match the resource's current ETag.")
}


def _error_response_doc(codes: str, description: str) -> dict:
    return {
        "description": f"{description} Codes: {codes}.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


# Text PayFlow accepts: no NUL byte (the edge refuses it, and lone surrogates, which are not
# Unicode text and so never valid JSON Schema strings anyway).
TEXT_PATTERN = "^[^\\u0000]*$"
# Text that must say something: at least one character that is not whitespace.
NON_BLANK_TEXT = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    # ISO 8601 admits offsets up to ±23:59, so an instant on the calendar's first or last day
    # can fall outside it once moved to UTC: as a bound it means the calendar's end anyway.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year == EARLIEST.year else LATEST


# RFC 3339 date-time, as the OpenAPI format states: pydantic alone would also take a number of
# seconds since 1970 ("-245122542749") or a date without its time.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value):
    if isinstance(value, str) and RFC3339.fullmatch(value):
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("Send an RFC 3339 date-time with its offset, e.g. 2026-12-01T09:30:00Z.")


# A timezone-aware instant, normalised to UTC before any query sees it.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_as_utc)]


# Shared parameter documentation for the apps' schemas.
IF_MATCH_DOC = (
    "The ETag of the resource as you last read it; if it changed since, nothing is done and "
    "the answer is 412 precondition_failed. Optional."
)
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=IF_MATCH_DOC,
        pattern=IF_MATCH_PATTERN,
        max_length=MAX_IF_MATCH_LENGTH,
    ),
]
CURRENCY_ENUM = {"enum": sorted(CURRENCIES)}
CURSOR_DOC = {
    "pattern": "^[A-Za-z0-9_-]+$",
    "description": "The next_cursor of the previous page; any other value is refused (422).",
}


# List parameters take "" as "not given": the pages' filter forms (and so their export links)
# send every field, filled in or not.


def sort_choices(names) -> tuple[str, ...]:
    """Every ``?sort=`` value a list takes: each column, ascending or with '-' descending."""
    return (*(choice for name in names for choice in (name, f"-{name}")), "")


def sort_doc(names, default: str) -> str:
    return f"{', '.join(names)}; '-' first for descending. Default (or empty) {default}."


def list_pattern(item: str, *, max_items: int) -> str:
    """A regex for up to ``max_items`` comma-separated values, each matching ``item``."""
    return f"^(?:(?:{item})(?:,(?:{item})){{0,{max_items - 1}}})?$"


def enum_list_pattern(values, *, max_items: int) -> str:
    """``list_pattern`` for a closed set of values (regex-escaped)."""
    return list_pattern("|".join(re.escape(value) for value in values), max_items=max_items)


def _constrain_text(schema) -> None:
    """Add TEXT_PATTERN to every free-text string schema (and to the names of open objects'
    properties), however deeply nested."""
    if isinstance(schema, list):
        for item in schema:
            _constrain_text(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not (
        {"enum", "const", "pattern", "format"} & set(schema)
    ):
        schema["pattern"] = TEXT_PATTERN
    if (schema.get("type") == "object" or "properties" in schema) and schema.get(
        "additionalProperties", True
    ) is not False:
        schema.setdefault("propertyNames", {"pattern": TEXT_PATTERN})
    for value in schema.values():
        if isinstance(value, dict | list):
            _constrain_text(value)


class PayFlowAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document states, for every operation, the role it needs
    (``x-required-role``), every error status it can answer, and required headers."""

    def operations_by_id(self) -> dict:
        found = {}
        for _prefix, router in self._routers:
            for path_view in router.path_operations.values():
                for operation in path_view.operations:
                    found[self.get_openapi_operation_id(operation)] = operation
        return found

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        operations = self.operations_by_id()
        for methods in schema.get("paths", {}).values():
            for method, doc in methods.items():
                operation = operations.get(doc.get("operationId"))
                actions = [
                    callback.action
                    for callback in getattr(operation, "auth_callbacks", [])
                    if isinstance(callback, RoleRequired)
                ]
                if actions:
                    doc["x-required-role"] = required_role(actions[0]).group_name
                errors = dict(COMMON_ERRORS)
                if "requestBody" in doc:
                    errors.update(BODY_ERRORS)
                if any(p.get("in") == "path" for p in doc.get("parameters", [])):
                    errors.update(PATH_ERRORS)
                if method in {"post", "put", "patch", "delete"}:
                    errors.update(WRITE_ERRORS)
                if any(
                    p.get("in") == "header" and p.get("name") == "If-Match"
                    for p in doc.get("parameters", [])
                ):
                    errors.update(PRECONDITION_ERRORS)
                responses = doc.setdefault("responses", {})
                for status, (codes, description) in errors.items():
                    responses.setdefault(status, _error_response_doc(codes, description))
                for parameter in doc.get("parameters", []):
                    if parameter.get("in") == "header":
                        _not_null(parameter)
                    if parameter.get("in") == "header" and parameter["name"] in REQUIRED_HEADERS:
                        parameter["required"] = True
                        parameter["schema"] = {
                            **parameter.get("schema", {}),
                            **{"minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
                        }
                        parameter["schema"].pop("anyOf", None)
                        parameter["schema"]["type"] = "string"
        _constrain_text(schema.get("components", {}))
        for methods in schema.get("paths", {}).values():
            for doc in methods.values():
                _constrain_text(doc.get("parameters", []))
                _constrain_text(doc.get("requestBody", {}))
        return schema


REQUIRED_HEADERS = {"Idempotency-Key"}


def idempotent_response(outcome) -> JsonResponse:
    """An ``idempotent_call`` outcome as the answer: a replay says so in a header."""
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _not_null(parameter: dict) -> None:
    """A header is text or absent, never null: an optional one documents its text alone."""
    schema = parameter.get("schema", {})
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1 and len(options) < len(schema["anyOf"]):
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        parameter["schema"] = {**rest, **options[0]}


def build_api() -> NinjaAPI:
    api = PayFlowAPI(
        title="PayFlow API",
        version="1",
        description="Payments operations: payments, payouts, the transactions stream.",
        auth=UndeclaredAccess(),
        urls_namespace="api",
        openapi_url="/openapi.json",
        docs_url="/docs" if settings.DEBUG else None,
    )
    _install_error_handlers(api)

    @api.get("/", summary="API root", tags=["meta"], auth=needs(Action.VIEW))
    def root(request):
        return {
            "name": "PayFlow API",
            "version": "1",
            "openapi": request.build_absolute_uri("openapi.json"),
            "user": request.auth.get_username(),
        }

    @api.get(
        "/me",
        summary="The authenticated user and what their role allows",
        tags=["meta"],
        auth=needs(Action.VIEW),
    )
    def me(request):
        role = role_of(request.auth)
        return {
            "username": request.auth.get_username(),
            "role": role.group_name if role else None,
            "allowed_actions": sorted(
                action.value for action in Action if can(request.auth, action)
            ),
        }

    # Imported here, not at the top: each app's api module imports ``needs`` from this one.
    from chaos.api import router as chaos_router
    from payments.api import router as payments_router
    from payouts.api import router as payouts_router
    from reconciliation.api import router as reconciliation_router
    from search.api import router as search_router
    from transactions.api import router as transactions_router

    routers = (
        payments_router,
        payouts_router,
        reconciliation_router,
        transactions_router,
        search_router,
        chaos_router,
    )
    for router in routers:
        api.add_router("", router)
    return api


api = build_api()
