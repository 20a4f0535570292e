"""Domain errors of the payments app, subclasses of the one base in ``payflow.exceptions``."""

from payflow.exceptions import DomainError


class PaymentError(DomainError):
    status = 400
    code = "payment_error"


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


class WebhookRejected(PaymentError):
    """A delivery refused before anything is processed; ``verdict`` names the signature check."""

    status = 401
    code = "signature_invalid"
    verdict = "mismatch"


class SignatureMissing(WebhookRejected):
    code = "signature_missing"
    verdict = "missing"


class SignatureMalformed(WebhookRejected):
    status = 400
    code = "signature_malformed"
    verdict = "malformed"


class SignatureMismatch(WebhookRejected):
    code = "signature_invalid"
    verdict = "mismatch"


class SignatureStale(WebhookRejected):
    code = "signature_stale"
    verdict = "stale"


class WebhookEventInvalid(WebhookRejected):
    """Signed correctly but not an event PayFlow understands: 400 naming the field."""

    status = 400
    code = "invalid_event"
    verdict = "valid"


class RefundNotAllowed(PaymentError):
    status = 409
    code = "refund_not_allowed"


class RefundExceedsRefundable(PaymentError):
    status = 409
    code = "refund_exceeds_refundable"
