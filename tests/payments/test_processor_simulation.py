"""The simulated processor: real signed webhooks (over HTTP to a real server, or in-process)."""

from collections import Counter

import pytest
from django.core.management import call_command

from payments import processor
from payments.models import Payment, PaymentEvent, ProcessorEvent, WebhookDelivery
from payments.simulation import simulate_payments
from payments.transitions import is_legal


def _legal_histories() -> bool:
    for payment in Payment.objects.all():
        path = [e.to_status for e in PaymentEvent.objects.filter(payment=payment).order_by("id")]
        if not all(is_legal(a, b) for a, b in zip(path, path[1:], strict=False)):
            return False
        if path[-1] != payment.status:
            return False
    return True


@pytest.mark.django_db
def test_duplicated_and_reordered_webhooks_leave_legal_histories_and_apply_each_event_once():
    plan = processor.DeliveryPlan(duplicate_rate=0.5, reorder=True, seed=5)
    result = simulate_payments(count=40, seed=5, failure_rate=0.2, plan=plan)
    assert result["created"] == 40
    assert _legal_histories()
    outcomes = Counter(WebhookDelivery.objects.values_list("outcome", flat=True))
    assert outcomes["duplicate"] > 0
    assert outcomes["applied"] > 0
    assert outcomes["rejected"] == 0
    # Every applied event moved exactly the states its rule named; none was recorded twice.
    assert ProcessorEvent.objects.count() == len(set(ProcessorEvent.objects.values_list(
        "event_id", flat=True)))  # fmt: skip
    assert result["succeeded"] > 0


def test_simulate_payments_command_sends_signed_webhooks_over_http(server_factory):
    server = server_factory(JANITOR_INTERVAL_SECONDS=0)
    call_command(
        "simulate",
        "payments",
        "--count",
        "6",
        "--seed",
        "11",
        "--duplicate-rate",
        "0.3",
        "--reorder",
        "--webhook-url",
        f"{server.url}/webhooks/processor",
        "--quiet",
    )
    assert Payment.objects.count() == 6
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.exists()
    assert {d.verdict for d in deliveries} == {"valid"}
    assert {d.outcome for d in deliveries} <= {"applied", "duplicate", "ignored"}
    assert _legal_histories()
    assert PaymentEvent.objects.filter(actor_name="processor").exists()


def test_a_server_with_other_secrets_refuses_the_simulators_webhooks(server_factory, capsys):
    server = server_factory(
        PROCESSOR_WEBHOOK_SECRETS="whsec_someone_else", JANITOR_INTERVAL_SECONDS=0
    )
    call_command("simulate", "payments", "--count", "2", "--seed", "1",
                 "--webhook-url", f"{server.url}/webhooks/processor")  # fmt: skip
    assert "were not accepted" in capsys.readouterr().err
    assert not PaymentEvent.objects.filter(actor_name="processor").exists()
    assert set(WebhookDelivery.objects.values_list("verdict", flat=True)) == {"mismatch"}


@pytest.mark.django_db
def test_bad_delivery_options_are_refused_naming_them():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--duplicate-rate"):
        call_command("simulate", "payments", "--count", "1", "--duplicate-rate", "2")
    with pytest.raises(CommandError, match="--webhook-delay"):
        call_command("simulate", "payments", "--count", "1", "--webhook-delay", "-1")
    assert Payment.objects.count() == 0
