"""A payment as JSON (SPEC section 3): the API's answers and the stored idempotent responses."""

from payflow.currencies import exponent_of
from payments.models import Payment, PaymentEvent
from payments.selectors import payment_actions


def event_as_json(event: PaymentEvent) -> dict:
    return {
        "from": event.from_status or None,
        "to": event.to_status,
        "actor": event.actor_name,
        "reason": event.reason,
        "failure_code": event.failure_code or None,
        "request_id": event.request_id or None,
        "at": event.created_at.isoformat(),
    }


def payment_as_json(payment: Payment, *, user, history: list[PaymentEvent] | None = None) -> dict:
    body = {
        "id": payment.public_id,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "currency_exponent": exponent_of(payment.currency),
        "beneficiary": {
            "name": payment.beneficiary_name,
            "account": payment.beneficiary_account,
        },
        "method": payment.method,
        "description": payment.description,
        "failure_code": payment.failure_code or None,
        "failure_message": payment.failure_message or None,
        "version": payment.version,
        "created_by": payment.created_by.get_username() if payment.created_by else None,
        "created_at": payment.created_at.isoformat(),
        "updated_at": payment.updated_at.isoformat(),
        "status_changed_at": payment.status_changed_at.isoformat(),
        "actions": [action.as_json() for action in payment_actions(payment=payment, user=user)],
    }
    if history is not None:
        body["history"] = [event_as_json(event) for event in history]
    return body
