"""Real threads against real PostgreSQL: one payment per key, one winner per conflicting move."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from payflow.accounts.services import api_token_create
from payments.errors import PaymentError
from payments.models import Payment, PaymentEvent
from payments.services import payment_transition
from payments.transitions import is_legal
from tests.payments.factories import create_body, make_payment
from transactions.models import StreamEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 32


def run_in_threads(count: int, work) -> list:
    """Start ``count`` threads that call ``work(i)`` at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # a thread's failure must show up in the results, not vanish
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_same_key_and_body_from_32_threads_makes_one_payment(operator):
    _, token = api_token_create(user=operator)
    body = create_body(submit=True)

    def create(_):
        client = Client(headers={"Authorization": f"Bearer {token}"})
        response = client.post(
            "/api/v1/payments",
            body,
            content_type="application/json",
            headers={"Idempotency-Key": "same-key-32"},
        )
        return response.status_code, response.json(), response.headers

    results = run_in_threads(THREADS, create)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    fresh = [r for r in results if r[0] == 201 and "Idempotent-Replayed" not in r[2]]
    replays = [r for r in results if r[0] == 201 and r[2].get("Idempotent-Replayed") == "true"]
    busy = [r for r in results if r[0] == 409]
    assert len(fresh) == 1
    assert len(fresh) + len(replays) + len(busy) == THREADS
    assert all(r[1]["id"] == payment.public_id for r in fresh + replays)
    assert all(r[1]["code"] == "idempotency_key_in_use" for r in busy)
    assert all(int(r[2]["Retry-After"]) >= 1 for r in busy)
    assert PaymentEvent.objects.filter(payment=payment).count() == 2  # created, submitted


def test_32_conflicting_transitions_have_exactly_one_winner(operator):
    payment = make_payment(user=operator, status="processing")
    seen_version = payment.version
    targets = ["succeeded", "failed", "requires_action"]

    def move(i):
        client = Client()
        client.force_login(operator)
        from payments.errors import PaymentError
        from payments.services import payment_transition

        try:
            moved = payment_transition(
                public_id=payment.public_id,
                to=targets[i % 3],
                actor=operator,
                expected_version=seen_version,
            )
            return ("ok", moved.status)
        except PaymentError as exc:
            return (exc.code, None)

    events_before = StreamEvent.objects.count()
    results = run_in_threads(THREADS, move)

    outcomes = Counter(code for code, _ in results)
    assert outcomes == {"ok": 1, "transition_conflict": THREADS - 1}, results
    winner = next(status for code, status in results if code == "ok")
    payment.refresh_from_db()
    assert payment.status == winner
    assert payment.version == seen_version + 1
    steps = PaymentEvent.objects.filter(payment=payment, from_status="processing")
    assert [(e.from_status, e.to_status) for e in steps] == [("processing", winner)]
    assert StreamEvent.objects.count() == events_before + 1


def test_racing_moves_without_a_version_lose_no_update(operator):
    payment = make_payment(user=operator, status="processing")
    history_before = PaymentEvent.objects.filter(payment=payment).count()
    events_before = StreamEvent.objects.count()
    targets = ["requires_action", "processing", "succeeded", "failed", "canceled"]

    def move(i):
        try:
            payment_transition(public_id=payment.public_id, to=targets[i % 5], actor=operator)
            return "ok"
        except PaymentError as exc:
            return exc.code

    results = run_in_threads(THREADS, move)

    assert set(results) <= {"ok", "transition_conflict", "illegal_transition"}, results
    successes = results.count("ok")
    assert successes >= 1
    payment.refresh_from_db()
    history = list(PaymentEvent.objects.filter(payment=payment).order_by("id"))
    assert len(history) == history_before + successes  # one row per successful step
    assert payment.version == 1 + len(history) - 1  # no lost update: every step counted
    assert StreamEvent.objects.count() == events_before + successes
    state = "draft"
    for event in history[1:]:
        assert event.from_status == state
        assert is_legal(state, event.to_status)
        state = event.to_status
    assert state == payment.status
