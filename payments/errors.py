"""Domain errors of the payments app; the API and the pages turn them into answers.

Each carries the HTTP status, the stable ``code`` of SPEC section 3, a sentence for people,
the fields it is about, and any extra keys the error body needs (``from``, ``to``, ...).
"""


class PaymentError(Exception):
    status = 400
    code = "payment_error"

    def __init__(self, message: str, *, fields: dict | None = None, headers=None, **extra):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra


class PaymentInvalid(PaymentError):
    status = 422
    code = "validation_error"


class PaymentNotFound(PaymentError):
    status = 404
    code = "not_found"


class PaymentForbidden(PaymentError):
    status = 403
    code = "forbidden"


class IllegalTransition(PaymentError):
    status = 409
    code = "illegal_transition"


class TransitionConflict(PaymentError):
    status = 409
    code = "transition_conflict"


class IdempotencyKeyMissing(PaymentError):
    status = 400
    code = "idempotency_key_missing"


class IdempotencyKeyInvalid(PaymentError):
    status = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyReused(PaymentError):
    status = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(PaymentError):
    status = 409
    code = "idempotency_key_in_use"
