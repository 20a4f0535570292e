"""The JSON API at /api/v1/: one NinjaAPI, its authentication, and one error shape.

Every error body is ``{"code": ..., "message": ..., "fields": {...}}``: apps raise subclasses of
``payflow.exceptions.DomainError`` and one handler here renders them. Apps contribute a
``router`` in ``<app>/api.py``; ``build_api`` mounts the ones that exist.
"""

import importlib
import logging

from django.conf import settings
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from payflow.accounts.roles import Action, can, denial_message, role_of
from payflow.accounts.selectors import bearer_token_from_header, user_for_bearer_token
from payflow.exceptions import DomainError, Forbidden, NotAuthenticated

logger = logging.getLogger(__name__)

API_APPS = ["payments", "payouts", "transactions", "chaos", "reconciliation"]
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
    if parts and parts[0] in {"body", "query", "path", "header", "form", "cookie"}:
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


def build_api() -> NinjaAPI:
    api = NinjaAPI(
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

    for app in API_APPS:
        try:
            module = importlib.import_module(f"{app}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.api":
                raise
            continue
        api.add_router("", module.router)
    return api


api = build_api()
