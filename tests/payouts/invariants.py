"""The money invariants every test that writes payouts can check after each step."""

from collections import Counter

from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors import item_totals_for
from payouts.transitions import ITEM_DERIVED, BatchStatus, ItemStatus, derived_status


def assert_payout_invariants() -> None:
    """Amounts add up for every batch; its status agrees with its items; no item is both
    counted settled and paid again; every failed or returned item carries a reason code."""
    batches = list(PayoutBatch.objects.all())
    totals = item_totals_for([batch.pk for batch in batches])
    for batch in batches:
        amounts = totals[batch.pk].amounts_json
        parts = amounts["settled"] + amounts["failed"] + amounts["returned"] + amounts["pending"]
        assert parts == amounts["total"], (batch.public_id, amounts)
        counts = Counter(batch.items.values_list("status", flat=True))
        derived = derived_status(counts)
        if batch.status in ITEM_DERIVED:
            assert derived == batch.status, (batch.public_id, batch.status, dict(counts))
        elif batch.status == BatchStatus.PENDING:
            assert set(counts) == {ItemStatus.PENDING}, (batch.public_id, dict(counts))
        else:
            assert derived is None, (batch.public_id, batch.status, dict(counts))
    paid_again = PayoutItem.objects.filter(retried_as__isnull=False)
    assert not paid_again.exclude(status__in=["failed", "returned"]).exists()
    assert not PayoutItem.objects.filter(status__in=["failed", "returned"], reason_code="").exists()
