"""The janitor: stuck payments resolved by asking the (simulated) processor, one runner at once."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments import processor
from payments.janitor import janitor_run, single_runner
from payments.models import JanitorRun, Payment, PaymentEvent

pytestmark = pytest.mark.django_db


def stuck(payment, *, minutes=30):
    Payment.objects.filter(pk=payment.pk).update(
        status_changed_at=timezone.now() - timedelta(minutes=minutes)
    )
    return payment


def test_janitor_resolves_a_stuck_payment_and_leaves_an_explained_record(payment_factory):
    payment = stuck(payment_factory("processing"))
    processor.remember(payment_ref=payment.public_id, status="succeeded")
    run = janitor_run(stuck_after_seconds=900)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    last = PaymentEvent.objects.filter(payment=payment).last()
    assert last.actor_name == "janitor"
    assert last.reason.startswith("janitor:")
    assert "reports succeeded" in last.reason
    assert (run.examined, run.resolved, run.unresolved) == (1, 1, 0)
    assert run.notes[0]["payment_id"] == payment.public_id
    assert run.finished_at is not None


def test_janitor_applies_a_failure_with_its_code(payment_factory):
    payment = stuck(payment_factory("requires_action"))
    processor.remember(payment_ref=payment.public_id, status="failed", failure_code="do_not_honor")
    janitor_run(stuck_after_seconds=900)
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "do_not_honor")


def test_what_the_processor_cannot_answer_is_left_unresolved_and_listed(payment_factory):
    payment = stuck(payment_factory("processing"))
    run = janitor_run(
        stuck_after_seconds=900, ask=lambda payment_ref: processor.ProcessorStatus("processing")
    )
    payment.refresh_from_db()
    assert payment.status == "processing"
    assert (run.resolved, run.unresolved, run.unresolved_refs) == (0, 1, [payment.public_id])
    assert "no final answer" in run.notes[0]["reason"]


def test_payments_not_yet_stuck_are_left_alone(payment_factory):
    payment = payment_factory("processing")
    processor.remember(payment_ref=payment.public_id, status="succeeded")
    run = janitor_run(stuck_after_seconds=900)
    assert run.examined == 0
    payment.refresh_from_db()
    assert payment.status == "processing"


def test_a_second_runner_waits_while_one_holds_the_lease(payment_factory):
    from django.db import connection

    if connection.vendor == "postgresql":  # one connection re-enters its own advisory lock
        pytest.skip("SQLite's lease row; PostgreSQL is covered across connections below")
    stuck(payment_factory("processing"))
    with single_runner("first") as held:
        assert held
        assert janitor_run(stuck_after_seconds=900, label="second") is None
    assert janitor_run(stuck_after_seconds=900, label="second") is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_advisory_lock_admits_one_runner_across_connections(payment_factory):
    import threading

    results = {}
    with single_runner("first") as held:
        assert held

        def other():
            from django.db import connection

            with single_runner("second") as second_held:
                results["second"] = second_held
            connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert results["second"] is False


def test_janitor_command_prints_counts_and_unresolved(payment_factory, capsys):
    payment = stuck(payment_factory("processing"))
    processor.remember(payment_ref=payment.public_id, status="requires_action")
    call_command("janitor", "--stuck-after", "60")
    out = capsys.readouterr().out
    assert "examined 1" in out
    assert JanitorRun.objects.count() == 1


def test_janitor_command_refuses_a_negative_threshold():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--stuck-after"):
        call_command("janitor", "--stuck-after", "-5")


def test_overview_lists_what_the_janitor_could_not_resolve(client, viewer, password,
                                                           payment_factory):  # fmt: skip
    payment = stuck(payment_factory("processing"))
    janitor_run(
        stuck_after_seconds=900, ask=lambda payment_ref: processor.ProcessorStatus("unknown")
    )
    client.login(username=viewer.username, password=password)
    page = client.get("/").content.decode()
    assert "janitor" in page.lower()
    assert payment.public_id in page
