"""Whether a refund may be made: pure rules over plain values, called under the payment's lock.

A payment can be refunded only once it succeeded (money moved); refunds may be partial and
many, but pending and succeeded refunds together never exceed the payment's amount. Failed
refunds free their amount again.
"""

from dataclasses import dataclass

from payments.transitions import PaymentStatus

# Refund states that hold part of the payment's amount.
RESERVING_STATES = ("pending", "succeeded")


@dataclass(frozen=True)
class RefundRefusal:
    code: str  # refund_not_allowed | refund_exceeds_refundable
    message: str


def refundable_amount(*, payment_amount: int, reserved: int) -> int:
    """What may still be refunded: the amount less pending and succeeded refunds."""
    return max(0, payment_amount - reserved)


def refund_refusal(
    *, payment_status: str, payment_amount: int, reserved: int, amount: int, money
) -> RefundRefusal | None:
    """Why a refund of ``amount`` is refused now, or None. ``money`` formats minor units."""
    if payment_status != PaymentStatus.SUCCEEDED:
        label = PaymentStatus(payment_status).label.lower()
        why = {
            PaymentStatus.FAILED: "no money moved, so there is nothing to return",
            PaymentStatus.CANCELED: "it was canceled before any money moved",
        }.get(payment_status, "the processor has not confirmed it yet; wait until it succeeds")
        return RefundRefusal(
            "refund_not_allowed",
            f"Only a succeeded payment can be refunded; this payment is {label}: {why}.",
        )
    left = refundable_amount(payment_amount=payment_amount, reserved=reserved)
    if amount > left:
        if left == 0:
            message = "Nothing is left to refund: pending and succeeded refunds cover the amount."
        else:
            message = (
                f"At most {money(left)} can still be refunded (pending and succeeded refunds "
                f"hold {money(reserved)} of {money(payment_amount)})."
            )
        return RefundRefusal("refund_exceeds_refundable", message)
    return None
