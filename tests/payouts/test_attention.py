"""The one attention rule, table-driven over statuses, item mixes and the overdue clock; and the
database filter for "needs attention" agrees with it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from payouts.attention import (
    ACTION_REQUIRED,
    INFO,
    NONE,
    WARNING,
    action_required_q,
    batch_attention,
)
from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors import item_totals_for
from payouts.services import (
    ItemResult,
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_record_result,
    payout_item_retry,
)
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
S = BatchStatus
# Submitted Monday 2 March 2026 10:00 New York, T+2: expected Wednesday 4 March.
SUBMITTED = dt.datetime(2026, 3, 2, 10, tzinfo=NY)
CLOCKS = {
    "before": dt.datetime(2026, 3, 3, 12, tzinfo=NY),
    "due today": dt.datetime(2026, 3, 4, 12, tzinfo=NY),
    "overdue": dt.datetime(2026, 3, 5, 9, tzinfo=NY),
}


@pytest.fixture(autouse=True)
def us_bank(settings):
    settings.PAYOUT_CALENDAR, settings.PAYOUT_BANK_TIME_ZONE, settings.PAYOUT_CUTOFF = (
        "US",
        "",
        "17:00",
    )


def build(status, mix, reconciled, operator, paid_again=False):
    """A batch in ``status`` whose items are ``mix`` ("pending", "one failed" (the rest pending
    unless the status is partially settled), "all settled"), optionally reconciled with
    ``status`` as the outcome and its failed items paid again."""
    in_flight = status not in (S.PENDING, S.PROCESSING, S.FAILED, S.REQUIRES_RECONCILIATION)
    batch = make_batch(
        status=S.IN_TRANSIT if in_flight else status, submitted_at=SUBMITTED, business_days=2
    )
    items = list(batch.items.all())
    if mix == "one failed":
        payout_item_record_result(item_id=items[0].public_id, to="failed", failure_code="R01")
        if status == S.PARTIALLY_SETTLED:
            for item in items[1:]:
                payout_item_record_result(item_id=item.public_id, to="settled")
    if mix == "all settled":
        for item in items:
            payout_item_record_result(item_id=item.public_id, to="settled")
    if status == S.RETURNED:
        payout_batch_transition(batch_id=batch.public_id, to=status, reason_code="R06")
    if reconciled:
        payout_batch_reconcile(
            batch_id=batch.public_id,
            outcome=status,
            note="Confirmed with the bank.",
            actor=operator,
            source="page",
        )
    if paid_again:
        for item in PayoutItem.objects.filter(batch=batch, status__in=["failed", "returned"]):
            payout_item_retry(item_id=item.public_id, actor=operator, source="page")
    return PayoutBatch.objects.get(pk=batch.pk)


CASES = [
    # status, item mix, clock, reconciled, paid again, level, words in the reason
    (S.PENDING, "pending", "before", False, False, INFO, "Waiting to be sent"),
    (S.PROCESSING, "pending", "before", False, False, INFO, "processed by the bank"),
    (S.IN_TRANSIT, "pending", "before", False, False, INFO, "expected to settle on Wed 4 Mar"),
    (S.IN_TRANSIT, "pending", "due today", False, False, WARNING, "due today"),
    (S.IN_TRANSIT, "one failed", "before", False, False, ACTION_REQUIRED, "1 of 3 items failed"),
    (S.IN_TRANSIT, "pending", "overdue", False, False, ACTION_REQUIRED, "has not confirmed"),
    (S.IN_TRANSIT, "one failed", "overdue", False, False, ACTION_REQUIRED, "has not confirmed"),
    (S.PENDING, "pending", "overdue", False, False, ACTION_REQUIRED, "Wed 4 Mar 2026"),
    (S.PROCESSING, "pending", "overdue", False, False, ACTION_REQUIRED, "chase the bank"),
    (
        S.REQUIRES_RECONCILIATION,
        "pending",
        "before",
        False,
        False,
        ACTION_REQUIRED,
        "record what the bank",
    ),
    (S.PARTIALLY_SETTLED, "one failed", "before", False, False, ACTION_REQUIRED, "(100.00 USD)"),
    (S.PARTIALLY_SETTLED, "one failed", "overdue", False, False, ACTION_REQUIRED, "before paying"),
    (S.PARTIALLY_SETTLED, "one failed", "before", True, False, ACTION_REQUIRED, "pay them again"),
    (S.PARTIALLY_SETTLED, "one failed", "before", True, True, INFO, "paid again"),
    (S.FAILED, "pending", "before", False, False, ACTION_REQUIRED, "3 of 3 items failed"),
    (S.FAILED, "pending", "overdue", True, False, ACTION_REQUIRED, "not paid again"),
    (S.FAILED, "pending", "overdue", True, True, NONE, "reconciled by operator-user"),
    (S.RETURNED, "all settled", "before", False, False, ACTION_REQUIRED, "has not confirmed"),
    (S.RETURNED, "all settled", "before", True, True, NONE, "reconciled by"),
    (S.SETTLED, "all settled", "before", False, False, NONE, "Settled (300.03 USD)"),
    (S.SETTLED, "all settled", "overdue", False, False, NONE, "Settled"),
    (S.SETTLED, "all settled", "overdue", True, False, NONE, "reconciled by"),
]


@pytest.mark.parametrize(
    ("status", "mix", "clock", "reconciled", "paid_again", "level", "words"),
    CASES,
    ids=[
        f"{c[0]}-{c[1]}-{c[2]}{'-reconciled' if c[3] else ''}{'-paid-again' if c[4] else ''}"
        for c in CASES
    ],
)
def test_attention_rule(status, mix, clock, reconciled, paid_again, level, words, operator):
    batch = build(status, mix, reconciled, operator, paid_again)
    now = CLOCKS[clock]
    attention = batch_attention(batch, item_totals_for([batch.pk])[batch.pk], now)
    assert (attention.level, batch.status) == (level, status)
    assert words in attention.reason
    assert attention.reason.endswith(".")
    assert attention.headline == (
        "Action required" if level == ACTION_REQUIRED else "No action required"
    )
    # The database filter behind "Needs attention" says the same thing.
    assert PayoutBatch.objects.filter(action_required_q(now), pk=batch.pk).exists() == (
        level == ACTION_REQUIRED
    )


def test_partially_settled_reached_by_reconciliation_keeps_unpaid_money_in_sight(operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION, submitted_at=SUBMITTED)
    first, *rest = batch.items.all()
    payout_batch_reconcile(
        batch_id=batch.public_id,
        items=[ItemResult(first.public_id, "failed", reason_code="R03")]
        + [ItemResult(item.public_id, "settled") for item in rest],
        note="One bounced.",
        actor=operator,
        source="page",
    )
    batch = PayoutBatch.objects.get(pk=batch.pk)
    assert batch.status == S.PARTIALLY_SETTLED
    attention = batch_attention(batch, item_totals_for([batch.pk])[batch.pk], CLOCKS["before"])
    assert attention.level == ACTION_REQUIRED
    assert "confirmed by the bank and not paid again" in attention.reason
