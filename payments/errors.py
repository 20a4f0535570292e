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
