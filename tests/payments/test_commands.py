"""purge_idempotency_keys, the payments simulation, and the demo data."""

import io
import random
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from payflow.idempotency.models import IdempotencyKey
from payments.demo import seed_demo_data
from payments.models import Payment, PaymentEvent
from payments.services import payment_create_idempotent
from payments.simulation import simulate_payments
from payments.transitions import ALL_STATES, is_legal
from tests.payments.factories import payment_input

pytestmark = pytest.mark.django_db


def test_purge_deletes_only_keys_older_than_asked(operator):
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=30), tick=False):
        payment_create_idempotent(user=operator, idempotency_key="old", data=payment_input())
    payment_create_idempotent(user=operator, idempotency_key="new", data=payment_input())
    out = io.StringIO()
    call_command("purge_idempotency_keys", "--older-than", "24h", stdout=out)
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert "Deleted 1" in out.getvalue()
    assert Payment.objects.count() == 2  # the payments stay


@pytest.mark.parametrize("value", ["1h", "23h", "90m"])
def test_purge_refuses_less_than_24h(operator, value):
    payment_create_idempotent(user=operator, idempotency_key="k", data=payment_input())
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_idempotency_keys", "--older-than", value)
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("value", ["yesterday", "24", "-5h", "h"])
def test_purge_refuses_a_malformed_duration(value):
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_idempotency_keys", "--older-than", value)


def test_purge_accepts_days_and_dry_run(operator):
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        payment_create_idempotent(user=operator, idempotency_key="old", data=payment_input())
    out = io.StringIO()
    call_command("purge_idempotency_keys", "--older-than", "2d", "--dry-run", stdout=out)
    assert "Would delete 1" in out.getvalue()
    assert IdempotencyKey.objects.count() == 1


def test_simulation_plays_realistic_legal_lifecycles():
    ticks = []
    result = simulate_payments(count=60, seed=3, failure_rate=0.2, progress=ticks.append)
    assert result["created"] == 60 == Payment.objects.count() == sum(ticks)
    assert sum(result[state] for state in ALL_STATES) == 60
    assert result["succeeded"] > result["failed"] > 0
    assert Payment.objects.filter(failure_code="").filter(status="failed").count() == 0
    for payment in Payment.objects.all():
        path = [e.to_status for e in PaymentEvent.objects.filter(payment=payment).order_by("id")]
        assert all(is_legal(a, b) for a, b in zip(path, path[1:], strict=False))
        assert path[-1] == payment.status


def test_simulation_is_repeatable_with_a_seed():
    first = simulate_payments(count=15, seed=42)
    amounts = list(Payment.objects.order_by("id").values_list("amount", "currency", "status"))
    second = simulate_payments(count=15, seed=42)
    later = list(Payment.objects.order_by("id").values_list("amount", "currency", "status"))[15:]
    assert first == second
    assert amounts == later


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"count": 0, "seed": 1}, "--count"),
        ({"count": -3, "seed": 1}, "--count"),
        ({"count": 5, "seed": "x"}, "--seed"),
        ({"count": 5, "seed": 1, "failure_rate": 1.5}, "--failure-rate"),
        ({"count": 5, "seed": 1, "failure_rate": -0.1}, "--failure-rate"),
    ],
)
def test_simulation_refuses_bad_options_naming_them(kwargs, option):
    with pytest.raises(ValueError, match=option):
        simulate_payments(**kwargs)
    assert Payment.objects.count() == 0


def test_demo_data_covers_every_state_and_is_idempotent(operator):
    users = {"operator": operator}
    seed_demo_data(users=users, rng=random.Random(7), stdout=io.StringIO())
    states = set(Payment.objects.values_list("status", flat=True))
    assert states == set(ALL_STATES)
    count = Payment.objects.count()
    seed_demo_data(users=users, rng=random.Random(7), stdout=io.StringIO())
    assert Payment.objects.count() == count
