"""Payments in any state, built through the real services so history and events are real."""

from payments.models import Payment
from payments.services import PaymentInput, payment_create, payment_transition
from payments.transitions import PaymentStatus

# The legal route from draft to each state.
ROUTE_TO: dict[str, list[str]] = {
    PaymentStatus.DRAFT: [],
    PaymentStatus.SUBMITTED: ["submitted"],
    PaymentStatus.PROCESSING: ["submitted", "processing"],
    PaymentStatus.REQUIRES_ACTION: ["submitted", "processing", "requires_action"],
    PaymentStatus.SUCCEEDED: ["submitted", "processing", "succeeded"],
    PaymentStatus.FAILED: ["submitted", "processing", "failed"],
    PaymentStatus.CANCELED: ["canceled"],
}


def payment_input(**overrides) -> PaymentInput:
    values = {
        "amount": 1250,
        "currency": "USD",
        "beneficiary_name": "Acme Supplies Ltd",
        "beneficiary_account": "GB29NWBK60161331926819",
        "method": "ach",
        "description": "Invoice 1042",
        "submit": False,
    }
    values.update(overrides)
    return PaymentInput(**values)


def make_payment(*, user, status: str = PaymentStatus.DRAFT, **overrides) -> Payment:
    payment = payment_create(user=user, data=payment_input(**overrides))
    for target in ROUTE_TO[status]:
        payment = payment_transition(public_id=payment.public_id, to=target, actor=user)
    return Payment.objects.get(pk=payment.pk)


def create_body(**overrides) -> dict:
    body = {
        "amount": 1250,
        "currency": "USD",
        "beneficiary": {"name": "Acme Supplies Ltd", "account": "GB29NWBK60161331926819"},
        "method": "ach",
        "description": "Invoice 1042",
    }
    body.update(overrides)
    return body
