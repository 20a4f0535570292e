"""The answers of the idempotency table: missing, malformed, reused with another body, in use."""

from payflow.exceptions import DomainError


class IdempotencyKeyMissing(DomainError):
    status = 400
    code = "idempotency_key_missing"


class IdempotencyKeyInvalid(DomainError):
    status = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(DomainError):
    status = 409
    code = "idempotency_key_in_use"
