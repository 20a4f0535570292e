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
from payouts.models import PayoutBatch
from payouts.selectors import item_totals_for
from payouts.services import (
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_record_result,
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


def build(status, mix, reconciled, operator):
    """A batch in ``status`` whose items are ``mix`` ("pending", "one failed", "all settled")."""
    in_flight = status not in (S.PENDING, S.PROCESSING, S.FAILED, S.REQUIRES_RECONCILIATION)
    batch = make_batch(
        status=S.IN_TRANSIT if in_flight else status, submitted_at=SUBMITTED, business_days=2
    )
    items = list(batch.items.all())
    if mix in ("one failed", "all settled"):
        for item in items[1:] if mix == "one failed" else items:
            payout_item_record_result(item_id=item.public_id, to="settled")
    if mix == "one failed":
        payout_item_record_result(item_id=items[0].public_id, to="failed", failure_code="R01")
    if in_flight and status != S.IN_TRANSIT:
        payout_batch_transition(batch_id=batch.public_id, to=status)
    if reconciled:
        payout_batch_reconcile(
            batch_id=batch.public_id,
            outcome=status,
            note="Confirmed with the bank.",
            actor=operator,
            source="page",
        )
    return PayoutBatch.objects.get(pk=batch.pk)


CASES = [
    # status, item mix, clock, reconciled, level, words in the reason
    (S.PENDING, "pending", "before", False, INFO, "Waiting to be sent"),
    (S.PROCESSING, "pending", "before", False, INFO, "processed by the bank"),
    (S.IN_TRANSIT, "pending", "before", False, INFO, "expected to settle on Wed 4 Mar 2026"),
    (S.IN_TRANSIT, "pending", "due today", False, WARNING, "due today"),
    (S.IN_TRANSIT, "one failed", "before", False, WARNING, "1 of 3 items failed"),
    (S.IN_TRANSIT, "pending", "overdue", False, ACTION_REQUIRED, "has not confirmed"),
    (S.IN_TRANSIT, "one failed", "overdue", False, ACTION_REQUIRED, "has not confirmed"),
    (S.PENDING, "pending", "overdue", False, ACTION_REQUIRED, "Wed 4 Mar 2026"),
    (S.PROCESSING, "pending", "overdue", False, ACTION_REQUIRED, "chase the bank"),
    (
        S.REQUIRES_RECONCILIATION,
        "pending",
        "before",
        False,
        ACTION_REQUIRED,
        "record what the bank",
    ),
    (S.PARTIALLY_SETTLED, "one failed", "before", False, ACTION_REQUIRED, "1 of 3 items failed"),
    (S.PARTIALLY_SETTLED, "one failed", "overdue", False, ACTION_REQUIRED, "before paying them"),
    (S.FAILED, "pending", "before", False, ACTION_REQUIRED, "The batch failed (3 items"),
    (S.FAILED, "pending", "overdue", True, NONE, "reconciled by operator-user"),
    (S.RETURNED, "all settled", "before", False, ACTION_REQUIRED, "returned the batch"),
    (S.RETURNED, "all settled", "before", True, NONE, "reconciled by"),
    (S.SETTLED, "all settled", "before", False, NONE, "Settled (300.03 USD)"),
    (S.SETTLED, "all settled", "overdue", False, NONE, "Settled"),
    (S.SETTLED, "all settled", "overdue", True, NONE, "reconciled by"),
]


@pytest.mark.parametrize(
    ("status", "mix", "clock", "reconciled", "level", "words"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}{'-reconciled' if c[3] else ''}" for c in CASES],
)
def test_attention_rule(status, mix, clock, reconciled, level, words, operator):
    batch = build(status, mix, reconciled, operator)
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


def test_partially_settled_reached_by_reconciliation_is_information_only(operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION, submitted_at=SUBMITTED)
    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.PARTIALLY_SETTLED,
        note="Two items bounced.",
        actor=operator,
        source="page",
    )
    batch = PayoutBatch.objects.get(pk=batch.pk)
    attention = batch_attention(batch, item_totals_for([batch.pk])[batch.pk], CLOCKS["before"])
    assert attention.level == INFO
    assert "reconciled by operator-user" in attention.reason


def test_a_move_after_a_reconciliation_needs_attention_again(operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION, submitted_at=SUBMITTED)
    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.PARTIALLY_SETTLED,
        note="Two bounced.",
        actor=operator,
        source="page",
    )
    payout_batch_transition(batch_id=batch.public_id, to=S.REQUIRES_RECONCILIATION)
    batch = PayoutBatch.objects.get(pk=batch.pk)
    attention = batch_attention(batch, item_totals_for([batch.pk])[batch.pk], CLOCKS["before"])
    assert attention.level == ACTION_REQUIRED
