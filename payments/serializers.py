"""A payment as JSON: the API's answers and the stored idempotent responses."""

from payflow.currencies import exponent_of
from payments.models import Payment, PaymentEvent, Refund
from payments.refund_rules import RESERVING_STATES, refundable_amount
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
        **refund_summary_json(payment),
    }
    if history is not None:
        body["history"] = [event_as_json(event) for event in history]
    return body


def refund_as_json(refund: Refund, *, with_history: bool = False) -> dict:
    body = {
        "id": refund.public_id,
        "payment_id": refund.payment.public_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "reason": refund.reason,
        "failure_code": refund.failure_code or None,
        "created_by": refund.created_by.get_username() if refund.created_by_id else None,
        "created_at": refund.created_at.isoformat(),
        "status_changed_at": refund.status_changed_at.isoformat(),
    }
    if with_history:
        body["history"] = [
            {
                "from": event.from_status or None,
                "to": event.to_status,
                "actor": event.actor_name,
                "reason": event.reason,
                "failure_code": event.failure_code or None,
                "at": event.created_at.isoformat(),
            }
            for event in refund.events.all()
        ]
    return body


def refund_summary_json(payment: Payment) -> dict:
    """``refunded_amount`` (succeeded), ``refundable_amount`` and ``refunds`` of a payment.

    Uses ``payment.refunds.all()``, so a list that prefetches refunds costs one query.
    """
    refunds = sorted(payment.refunds.all(), key=lambda refund: (refund.created_at, refund.pk))
    refunded = sum(refund.amount for refund in refunds if refund.status == "succeeded")
    reserved = sum(refund.amount for refund in refunds if refund.status in RESERVING_STATES)
    refundable = (
        refundable_amount(payment_amount=payment.amount, reserved=reserved)
        if payment.status == "succeeded"
        else 0
    )
    return {
        "refunded_amount": refunded,
        "refundable_amount": refundable,
        "refunds": [
            {
                "id": refund.public_id,
                "amount": refund.amount,
                "status": refund.status,
                "reason": refund.reason,
                "created_at": refund.created_at.isoformat(),
            }
            for refund in refunds
        ],
    }


def delivery_as_json(delivery, *, payment_exists: bool) -> dict:
    return {
        "id": delivery.pk,
        "received_at": delivery.received_at.isoformat(),
        "signature": delivery.verdict,
        "outcome": delivery.outcome,
        "reason": delivery.reason,
        "status_code": delivery.status_code,
        "event_id": delivery.event_id or None,
        "event_type": delivery.event_type or None,
        "payment_id": delivery.payment_ref or None,
        "payment_exists": payment_exists,
        "raw_body": delivery.raw_body,
        "request_id": delivery.request_id or None,
    }
