"""The payout batch state machine: the one table, the reasons for refusals, and the rule that
derives a batch's status from its items (a batch never claims more than its items)."""

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
    # A settled item the beneficiary bank sends back later turns the batch returned.
    S.PARTIALLY_SETTLED: (S.SETTLED, S.REQUIRES_RECONCILIATION, S.RETURNED),
    S.REQUIRES_RECONCILIATION: (S.SETTLED, S.PARTIALLY_SETTLED, S.FAILED, S.RETURNED),
    # Final for people; only a later return of settled items (the bank's word) moves it.
    S.SETTLED: (S.PARTIALLY_SETTLED, S.RETURNED),
    S.FAILED: (),
    S.RETURNED: (),
}
# Final: no person moves these any more (a reconciliation may still add a note).
TERMINAL = frozenset({S.SETTLED, S.FAILED, S.RETURNED})
# Outcomes only items can justify: a batch reaches them when its items say so.
ITEM_DERIVED = frozenset({S.SETTLED, S.PARTIALLY_SETTLED, S.FAILED, S.RETURNED})
# Submitted to the bank: its items can take the bank's results.
SUBMITTED = frozenset({S.PROCESSING, S.IN_TRANSIT, S.REQUIRES_RECONCILIATION, S.PARTIALLY_SETTLED})
# Statuses the bank has not confirmed yet: past the settlement deadline they are overdue.
UNCONFIRMED = frozenset({S.PENDING, S.PROCESSING, S.IN_TRANSIT})
RECONCILIATION_OUTCOMES = (S.SETTLED, S.PARTIALLY_SETTLED, S.FAILED, S.RETURNED)

# Items: pending -> settled | failed | returned; settled -> returned (the beneficiary bank sent
# it back); failed -> settled only as a correction while it has not been paid again (the
# statement shows the money left after all). The same outcome again only confirms an
# unconfirmed result (a rail report confirmed by a statement or a reconciliation).
ITEM_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ItemStatus.PENDING: (ItemStatus.SETTLED, ItemStatus.FAILED, ItemStatus.RETURNED),
    ItemStatus.SETTLED: (ItemStatus.RETURNED,),
    ItemStatus.FAILED: (ItemStatus.SETTLED,),
    ItemStatus.RETURNED: (),
}
UNSUCCESSFUL = frozenset({ItemStatus.FAILED, ItemStatus.RETURNED})


def derived_status(counts: dict[str, int]) -> str | None:
    """The batch status its items justify, or None while some item is still pending.

    All settled: settled. Some settled, the rest failed or returned: partially settled.
    None settled: failed when every item failed, else returned.
    """
    pending = counts.get(ItemStatus.PENDING, 0)
    settled = counts.get(ItemStatus.SETTLED, 0)
    failed = counts.get(ItemStatus.FAILED, 0)
    returned = counts.get(ItemStatus.RETURNED, 0)
    if pending or not (settled + failed + returned):
        return None
    if settled and not (failed or returned):
        return S.SETTLED
    if settled:
        return S.PARTIALLY_SETTLED
    return S.FAILED if not returned else S.RETURNED


def sources_of(target: str) -> list[str]:
    return [source for source, targets in BATCH_TRANSITIONS.items() if target in targets]


def is_legal(source: str, target: str) -> bool:
    return target in BATCH_TRANSITIONS.get(source, ())


def blocked_reason(source: str, target: str) -> str:
    """The human sentence for a refused move (empty when the move is legal)."""
    if is_legal(source, target):
        return ""
    source_label, target_label = S(source).label.lower(), S(target).label.lower()
    if not BATCH_TRANSITIONS[source]:
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


# What the bank's failure and return codes mean (ACH R-codes, ISO 20022 reason codes), for
# people deciding whether to pay again.
REASON_TEXT = {
    "R01": "Insufficient funds",
    "R02": "Account closed",
    "R03": "No account / unable to locate account",
    "R04": "Invalid account number",
    "R06": "Returned at the originator's request",
    "R16": "Account frozen",
    "AC01": "Incorrect account number",
    "AC04": "Closed account number",
    "AC06": "Blocked account",
    "AM05": "Duplicate payment",
    "MD07": "End customer deceased",
    "BATCH_REJECTED": "The bank rejected the whole batch file",
    "BATCH_RETURNED": "The bank returned the whole batch",
}


def reason_text(code: str) -> str:
    return REASON_TEXT.get((code or "").upper(), "")
