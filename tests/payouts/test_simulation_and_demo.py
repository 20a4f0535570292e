"""The payouts simulator and the demo seed."""

import io
import random

import pytest

from payouts.demo import DEMO_PREFIX, seed_demo_data
from payouts.models import PayoutBatch, PayoutItem
from payouts.simulation import simulate_payouts
from payouts.transitions import BatchStatus
from tests.payouts.invariants import assert_payout_invariants

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"batches": 0}, "--batches"),
        ({"batches": "ten"}, "--batches"),
        ({"items_per_batch": 0}, "--items-per-batch"),
        ({"failure_rate": 1.5}, "--failure-rate must be between 0 and 1"),
        ({"failure_rate": -0.1}, "--failure-rate"),
        ({"seed": "x"}, "--seed"),
    ],
)
def test_bad_options_are_refused_naming_the_option(kwargs, option):
    arguments = {"batches": 2, "items_per_batch": 2, "failure_rate": 0.1, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=option):
        simulate_payouts(**arguments)
    assert PayoutBatch.objects.count() == 0


def test_simulation_creates_batches_across_rails_and_reports_progress():
    ticks = []
    summary = simulate_payouts(
        batches=40, items_per_batch=3, failure_rate=0.3, seed=7, progress=ticks.append
    )
    assert sum(ticks) == 40
    assert summary["batches"] == PayoutBatch.objects.count() == 40
    assert PayoutItem.objects.count() == 120
    assert len(set(PayoutBatch.objects.values_list("rail", flat=True))) >= 4
    assert len(set(PayoutBatch.objects.values_list("business_days", flat=True))) >= 3
    assert sum(summary["by_status"].values()) == 40
    assert summary["by_status"].get("settled", 0) > 0
    assert summary["needs_attention"] > 0  # overdue or partly failed batches are left for people
    assert PayoutItem.objects.filter(status="failed").exists()
    assert not PayoutItem.objects.filter(retry_of__isnull=False).exists()  # no automatic retry
    assert_payout_invariants()
    # The rail's reports are not the bank's confirmation: nothing can be paid again yet.
    assert not PayoutItem.objects.filter(confirmed_at__isnull=False).exists()


def test_without_a_seed_one_is_picked_and_reported():
    summary = simulate_payouts(batches=1, items_per_batch=1, failure_rate=0, seed=None)
    assert isinstance(summary["seed"], int)


def test_the_same_seed_gives_the_same_outcome():
    first = simulate_payouts(batches=15, items_per_batch=2, failure_rate=0.4, seed=3)
    second = simulate_payouts(batches=15, items_per_batch=2, failure_rate=0.4, seed=3)
    assert first["by_status"] == second["by_status"]


def test_demo_seed_covers_every_status_and_is_idempotent(operator):
    out = io.StringIO()
    users = {"operator": operator}
    seed_demo_data(users=users, rng=random.Random(1), stdout=out)
    statuses = set(PayoutBatch.objects.values_list("status", flat=True))
    assert statuses == set(BatchStatus.values)
    count = PayoutBatch.objects.count()
    seed_demo_data(users=users, rng=random.Random(1), stdout=out)
    assert PayoutBatch.objects.count() == count
    assert PayoutBatch.objects.filter(name__startswith=DEMO_PREFIX).count() == count
    from payouts.selectors import needs_attention_count

    assert needs_attention_count() >= 4


def test_demo_batches_have_items_that_agree_with_them(operator):
    seed_demo_data(users={"operator": operator}, rng=random.Random(2), stdout=io.StringIO())
    assert_payout_invariants()
    for status in (BatchStatus.FAILED, BatchStatus.RETURNED):
        batch = PayoutBatch.objects.get(status=status)
        items = list(batch.items.all())
        assert {item.status for item in items} == {status}
        assert all(item.reason_code and item.failure_message for item in items)
    reconciled = PayoutBatch.objects.get(name__startswith=DEMO_PREFIX + "Charity")
    failed = reconciled.items.get(status="failed")
    assert failed.confirmed_at is not None  # "Pay again" is offered for it
