"""The one domain error base: every app raises a subclass, each edge renders it once.

A ``DomainError`` carries what an answer needs: the HTTP status, a stable ``code``, a sentence
for people, the ``fields`` it is about (``{"field": ["what is wrong"]}``), headers such as
``Retry-After``, and any extra keys the body needs (``from``, ``to``, ...). The API renders it
as ``{"code", "message", "fields", ...extra}``; pages render the error page with the message;
streams send it as an ``error`` or ``closing`` message.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        code: str | None = None,
        **extra,
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields, **self.extra}


class InvalidInput(DomainError):
    """Input that names its bad fields; ``for_fields`` writes the one message for them."""

    status = 422
    code = "validation_error"

    @classmethod
    def for_fields(cls, fields: dict[str, list[str]], **kwargs) -> InvalidInput:
        return cls(f"Invalid value for: {', '.join(sorted(fields))}.", fields=fields, **kwargs)


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
