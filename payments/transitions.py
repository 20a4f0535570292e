"""The payment state machine of the contract: states, the only legal moves, why not others.

The model's @transition methods take their sources from ``LEGAL_TRANSITIONS``, so this table
is the single place the machine is defined. ``blocked_reason`` gives the sentence a person
reads when a move is refused.
"""

from django.db import models


class PaymentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    PROCESSING = "processing", "Processing"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


S = PaymentStatus
ALL_STATES: tuple[str, ...] = tuple(S.values)

LEGAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SUBMITTED, S.CANCELED),
    S.SUBMITTED: (S.PROCESSING, S.FAILED, S.CANCELED),
    S.PROCESSING: (S.REQUIRES_ACTION, S.SUCCEEDED, S.FAILED),
    S.REQUIRES_ACTION: (S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELED),
    S.SUCCEEDED: (),
    S.FAILED: (),
    S.CANCELED: (),
}
TERMINAL_STATES = frozenset(state for state, targets in LEGAL_TRANSITIONS.items() if not targets)

# Moves a person makes on our side, versus answers that come from the processor (played by the
# simulation buttons and the simulate command). They need different roles and buttons.
CUSTOMER_TARGETS = frozenset({S.SUBMITTED, S.CANCELED})
PROCESSOR_TARGETS = frozenset({S.PROCESSING, S.REQUIRES_ACTION, S.SUCCEEDED, S.FAILED})

# The verb on each button, by target state.
ACTION_LABELS: dict[str, str] = {
    S.DRAFT: "Back to draft",
    S.SUBMITTED: "Submit",
    S.PROCESSING: "Processor: processing",
    S.REQUIRES_ACTION: "Processor: needs action",
    S.SUCCEEDED: "Processor: succeeded",
    S.FAILED: "Processor: failed",
    S.CANCELED: "Cancel payment",
}

# The reason recorded in the history when the person gives none.
DEFAULT_REASONS: dict[str, str] = {
    S.SUBMITTED: "Submitted for processing.",
    S.PROCESSING: "The processor is processing the payment.",
    S.REQUIRES_ACTION: "The processor needs action (for example customer authentication).",
    S.SUCCEEDED: "The processor confirmed the payment.",
    S.FAILED: "The processor declined the payment.",
    S.CANCELED: "Canceled.",
}

FAILURE_CODES: dict[str, str] = {
    "card_declined": "Card declined",
    "insufficient_funds": "Insufficient funds",
    "account_closed": "Account closed",
    "invalid_account": "Invalid account number",
    "do_not_honor": "Do not honor",
    "authentication_failed": "Customer authentication failed",
    "fraud_suspected": "Suspected fraud",
    "limit_exceeded": "Limit exceeded",
    "processor_error": "Processor error",
    "unspecified": "Unspecified (no code given)",
}

_FINAL_REASONS = {
    S.SUCCEEDED: "A succeeded payment is final; its status does not change. "
    "Refunds are not available yet.",
    S.FAILED: "A failed payment is final; create a new payment to try again.",
    S.CANCELED: "A canceled payment is final; create a new payment if it is still needed.",
}

# Specific sentences for blocked (source, target) pairs; the rest follow the general rules below.
_BLOCKED: dict[tuple[str, str], str] = {
    (S.PROCESSING, S.CANCELED): "A payment already at the processor cannot be canceled; "
    "wait for it to succeed or fail.",
    (S.DRAFT, S.PROCESSING): "Submit the draft first; only submitted payments go to the processor.",
    (S.DRAFT, S.REQUIRES_ACTION): "A draft has not reached the processor, so nothing can be "
    "asked of it yet; submit it first.",
    (S.SUBMITTED, S.REQUIRES_ACTION): "Only a payment the processor is working on can need "
    "action; wait until it is processing.",
    (S.DRAFT, S.SUCCEEDED): "A draft has not been sent anywhere, so it cannot succeed; "
    "submit it first.",
    (S.SUBMITTED, S.SUCCEEDED): "The processor has not started on this payment; it must be "
    "processing before it can succeed.",
    (S.DRAFT, S.FAILED): "A draft has not been sent anywhere, so it cannot fail; cancel it "
    "instead.",
    (S.PROCESSING, S.SUBMITTED): "The payment was submitted already and is at the processor.",
    (S.REQUIRES_ACTION, S.SUBMITTED): "The payment was submitted already; it is waiting for "
    "action at the processor.",
}


def is_legal(source: str, target: str) -> bool:
    return target in LEGAL_TRANSITIONS.get(source, ())


def blocked_reason(source: str, target: str) -> str | None:
    """Why ``source -> target`` is not a legal move, or None if it is one."""
    if is_legal(source, target):
        return None
    if source == target:
        return f"The payment is already {S(target).label.lower()}."
    if source in TERMINAL_STATES:
        return _FINAL_REASONS[source]
    if target == S.DRAFT:
        return "A payment never goes back to draft once it has been submitted or closed."
    return _BLOCKED.get(
        (source, target),
        f"A {S(source).label.lower()} payment cannot become {S(target).label.lower()}.",
    )
