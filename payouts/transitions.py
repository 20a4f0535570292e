"""The payout batch state machine of SPEC section 4: the one table and the reasons for refusals."""

from django.db import models


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    IN_TRANSIT = "in_transit", "In transit"
    PARTIALLY_SETTLED = "partially_settled", "Partially settled"
    REQUIRES_RECONCILIATION = "requires_reconciliation", "Requires reconciliation"
    SETTLED = "settled", "Settled"
    FAILED = "failed", "Failed"
    RETURNED = "returned", "Returned"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SETTLED = "settled", "Settled"
    FAILED = "failed", "Failed"
    RETURNED = "returned", "Returned"


S = BatchStatus

# The only legal moves; anything not listed is illegal.
BATCH_TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PENDING: (S.PROCESSING, S.FAILED),
    S.PROCESSING: (S.IN_TRANSIT, S.FAILED, S.REQUIRES_RECONCILIATION),
    S.IN_TRANSIT: (
        S.SETTLED,
        S.PARTIALLY_SETTLED,
        S.FAILED,
        S.RETURNED,
        S.REQUIRES_RECONCILIATION,
    ),
    S.PARTIALLY_SETTLED: (S.SETTLED, S.REQUIRES_RECONCILIATION),
    S.REQUIRES_RECONCILIATION: (S.SETTLED, S.PARTIALLY_SETTLED, S.FAILED, S.RETURNED),
    S.SETTLED: (),
    S.FAILED: (),
    S.RETURNED: (),
}
TERMINAL = frozenset(status for status, targets in BATCH_TRANSITIONS.items() if not targets)
# Statuses the bank has not confirmed yet: past the settlement deadline they are overdue.
UNCONFIRMED = frozenset({S.PENDING, S.PROCESSING, S.IN_TRANSIT})
RECONCILIATION_OUTCOMES = (S.SETTLED, S.PARTIALLY_SETTLED, S.FAILED, S.RETURNED)

# Items: pending -> settled | failed; settled -> returned (the beneficiary bank sent it back).
ITEM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ItemStatus.PENDING: (ItemStatus.SETTLED, ItemStatus.FAILED),
    ItemStatus.SETTLED: (ItemStatus.RETURNED,),
    ItemStatus.FAILED: (),
    ItemStatus.RETURNED: (),
}


def sources_of(target: str) -> list[str]:
    return [source for source, targets in BATCH_TRANSITIONS.items() if target in targets]


def is_legal(source: str, target: str) -> bool:
    return target in BATCH_TRANSITIONS.get(source, ())


def blocked_reason(source: str, target: str) -> str:
    """The human sentence for a refused move (empty when the move is legal)."""
    if is_legal(source, target):
        return ""
    source_label, target_label = S(source).label.lower(), S(target).label.lower()
    if source in TERMINAL:
        return (
            f"A {source_label} batch is final and cannot become {target_label}; "
            "you can still add a reconciliation note with the outcome "
            f"'{source_label}'."
        )
    if source == target:
        return f"The batch is already {source_label}."
    allowed = ", ".join(S(t).label.lower() for t in BATCH_TRANSITIONS[source])
    return (
        f"A {source_label} batch cannot become {target_label}; from {source_label} it can "
        f"only become {allowed}."
    )
