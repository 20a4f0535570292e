import io
import random

import pytest
from django.core.management import CommandError, call_command

from transactions.demo import seed_demo_data
from transactions.models import StreamEvent, Transaction, TransactionKind
from transactions.services import (
    UNITS_PER_USD,
    TrafficPlan,
    minor_units,
    simulate_transactions,
    simulated_transaction,
)

pytestmark = pytest.mark.django_db


def test_minor_units_follow_each_currency_exponent():
    assert minor_units(usd=12.5, currency="USD") == 1250
    assert minor_units(usd=10, currency="JPY") == 1510  # 0 decimals: 1,510 yen
    assert minor_units(usd=10, currency="KWD") == 3100  # 3 decimals: 3.100 KWD


def test_simulated_transactions_are_a_realistic_mix():
    rng = random.Random(7)
    sample = [simulated_transaction(rng, failure_rate=0.1) for _ in range(2000)]
    assert {tx["kind"] for tx in sample} == set(TransactionKind.values)
    assert {tx["currency"] for tx in sample} <= set(UNITS_PER_USD)
    assert all(isinstance(tx["amount"], int) and tx["amount"] > 0 for tx in sample)
    failed = [tx for tx in sample if tx["status"] in {"declined", "failed"}]
    assert 0.05 < len(failed) / len(sample) < 0.15


def test_same_seed_writes_the_same_traffic():
    def run():
        simulate_transactions(plan=TrafficPlan(rate=0, duration=0, count=30), seed=42)
        rows = list(StreamEvent.objects.order_by("id").values_list("kind", "amount", "currency"))
        StreamEvent.objects.all().delete()
        Transaction.objects.all().delete()
        return rows

    assert run() == run()


def test_simulate_command_writes_count_events_through_the_outbox():
    call_command("simulate", "transactions", "--count=25", "--rate=0", "--quiet", "--seed=1")
    assert StreamEvent.objects.count() == 25
    assert Transaction.objects.count() == 25


def test_simulate_command_bursts_add_events():
    call_command(
        "simulate", "transactions", "--count", "40", "--rate", "0", "--burst-every", "0.01",
        "--burst-size", "10", "--quiet",
    )  # fmt: skip
    assert StreamEvent.objects.count() == 40


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--rate", "-1"], "--rate"),
        (["--duration", "-5"], "--duration"),
        (["--failure-rate", "1.5"], "--failure-rate"),
        (["--count", "0"], "--count"),
        (["--burst-size", "-2"], "--burst-size"),
        (["--rate", "0"], "--rate"),
        (["--batches", "0"], "--batches"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args, option):
    with pytest.raises(CommandError, match=option):
        call_command("simulate", "transactions", *args, "--quiet")
    assert StreamEvent.objects.count() == 0


def test_unknown_target_is_refused():
    with pytest.raises(CommandError, match="target"):
        call_command("simulate", "refunds")


def test_demo_history_is_idempotent():
    out = io.StringIO()
    seed_demo_data(users={}, rng=random.Random(1), stdout=out)
    seed_demo_data(users={}, rng=random.Random(1), stdout=out)
    assert Transaction.objects.count() == 300
    assert "already present" in out.getvalue()
