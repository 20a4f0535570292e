"""What a processor event does to a payment or refund: apply (and by which steps) or ignore.

Pure functions over plain values, no database: the webhook service and the janitor call them
with the current state under the row lock. Events arrive late, twice and out of order, so:

- A final answer (succeeded, failed) is the processor's last word: it applies from any state
  still open, through ``processing`` first when the payment had not got there yet (a lost
  ``payment.processing`` does not block a ``payment.succeeded``).
- An answer for a state the payment has passed, or is already in, is ignored with the reason.
- ``processing`` and ``requires_action`` can follow each other (customer authentication, then
  back to processing), so between them the processor's ``created`` time decides: a step back
  applies only when the event is strictly newer than the last one applied (for requires_action
  after processing, at least as new, as that is their usual order within one second).
- Drafts never reached the processor: nothing the processor says applies to them.
"""

from dataclasses import dataclass

from payments.transitions import TERMINAL_STATES, PaymentStatus

S = PaymentStatus

PAYMENT_EVENT_TARGETS: dict[str, str] = {
    "payment.processing": S.PROCESSING,
    "payment.requires_action": S.REQUIRES_ACTION,
    "payment.succeeded": S.SUCCEEDED,
    "payment.failed": S.FAILED,
}
REFUND_EVENT_TARGETS: dict[str, str] = {
    "refund.succeeded": "succeeded",
    "refund.failed": "failed",
}
EVENT_TYPES: tuple[str, ...] = (*PAYMENT_EVENT_TARGETS, *REFUND_EVENT_TARGETS)


@dataclass(frozen=True)
class Decision:
    apply: bool
    steps: tuple[str, ...]  # the states to move through, in order (empty when ignored)
    reason: str


def _ignore(reason: str) -> Decision:
    return Decision(False, (), reason)


def decide_payment_event(
    *, status: str, event_type: str, created: int, last_applied_created: int | None
) -> Decision:
    """What ``event_type`` (sent at ``created``) does to a payment now in ``status``.

    ``last_applied_created`` is the ``created`` time of the newest payment event already
    applied to this payment (None if none was).
    """
    target = PAYMENT_EVENT_TARGETS[event_type]
    label = S(target).label.lower()
    if status in TERMINAL_STATES:
        return _ignore(
            f"The payment is already {S(status).label.lower()} (final); a later '{label}' "
            "answer changes nothing."
        )
    if status == S.DRAFT:
        return _ignore("The payment is a draft: it was never sent to the processor.")
    if status == target:
        return _ignore(f"The payment is already {label}.")
    newer = last_applied_created is None or created > last_applied_created
    as_new = last_applied_created is None or created >= last_applied_created
    if target in (S.SUCCEEDED, S.FAILED):
        if status == S.SUBMITTED and target == S.SUCCEEDED:
            return Decision(True, (S.PROCESSING, S.SUCCEEDED), "Final answer from the processor.")
        return Decision(True, (target,), "Final answer from the processor.")
    if target == S.REQUIRES_ACTION:
        if status == S.SUBMITTED:
            return Decision(True, (S.PROCESSING, S.REQUIRES_ACTION), "The processor needs action.")
        if as_new:  # status is processing
            return Decision(True, (S.REQUIRES_ACTION,), "The processor needs action.")
        return _ignore(
            "The event is older than the last one applied (the payment was already back in "
            "processing after it)."
        )
    # target is processing; status is submitted or requires_action
    if status == S.SUBMITTED:
        return Decision(True, (S.PROCESSING,), "The processor started on the payment.")
    if newer:
        return Decision(True, (S.PROCESSING,), "The action was completed; processing again.")
    return _ignore(
        "The event is not newer than the one that asked for action; the payment already passed "
        "processing."
    )


def decide_refund_event(*, refund_status: str, event_type: str) -> Decision:
    """What a refund event does to a refund now in ``refund_status`` (pending/succeeded/failed)."""
    target = REFUND_EVENT_TARGETS[event_type]
    if refund_status == "pending":
        return Decision(True, (target,), f"The processor reports the refund {target}.")
    if refund_status == target:
        return _ignore(f"The refund is already {target}.")
    return _ignore(f"The refund is already {refund_status} (final); '{target}' changes nothing.")
