"""Payout batches built through the real services, walked to any status along legal moves."""

import datetime as dt

from django.utils import timezone

from payouts.models import PayoutBatch
from payouts.services import (
    ItemResult,
    NewItem,
    payout_batch_create,
    payout_batch_transition,
    payout_item_results_record,
)
from payouts.transitions import BatchStatus

S = BatchStatus

# A legal path from pending to each status.
PATH_TO = {
    S.PENDING: [],
    S.PROCESSING: [S.PROCESSING],
    S.IN_TRANSIT: [S.PROCESSING, S.IN_TRANSIT],
    S.REQUIRES_RECONCILIATION: [S.PROCESSING, S.REQUIRES_RECONCILIATION],
    # The first item fails (R03), the rest settle: the batch becomes partially settled.
    S.PARTIALLY_SETTLED: [S.PROCESSING, S.IN_TRANSIT],
    S.SETTLED: [S.PROCESSING, S.IN_TRANSIT, S.SETTLED],
    S.FAILED: [S.FAILED],
    S.RETURNED: [S.PROCESSING, S.IN_TRANSIT, S.RETURNED],
}


def make_batch(
    *,
    status: str = S.PENDING,
    items: int = 3,
    amount: int = 10_000,
    currency: str = "USD",
    rail: str = "ach",
    business_days: int = 2,
    submitted_at: dt.datetime | None = None,
    name: str = "Test payouts",
    actor=None,
) -> PayoutBatch:
    batch = payout_batch_create(
        name=name,
        currency=currency,
        rail=rail,
        business_days=business_days,
        submitted_at=submitted_at or timezone.now(),
        items=[NewItem(f"Recipient {n}", f"••••{1000 + n}", amount + n) for n in range(items)],
        actor=actor,
    )
    for step in PATH_TO[status]:
        payout_batch_transition(batch_id=batch.public_id, to=step, reason="test setup")
    if status == S.PARTIALLY_SETTLED:
        ids = list(batch.items.order_by("pk").values_list("public_id", flat=True))
        payout_item_results_record(
            results=[ItemResult(ids[0], "failed", reason_code="R03")]
            + [ItemResult(item_id, "settled") for item_id in ids[1:]],
            actor=None,
            source="test",
            confirmed=False,
        )
    return PayoutBatch.objects.get(pk=batch.pk)
