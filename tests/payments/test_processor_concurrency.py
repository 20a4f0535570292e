"""Real threads against real PostgreSQL: one application per event id, refunds never exceed."""

from collections import Counter

import pytest
from django.test import Client

from payflow.accounts.services import api_token_create
from payments.models import PaymentEvent, ProcessorEvent, Refund, WebhookDelivery
from tests.payments.factories import make_payment
from tests.payments.test_concurrency import run_in_threads
from tests.payments.webhook_helpers import payment_event, post_event
from transactions.models import StreamEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_event_delivered_20_times_at_once_applies_once(operator):
    payment = make_payment(user=operator, status="processing")
    event = payment_event(payment, "succeeded")
    history, streamed = PaymentEvent.objects.count(), StreamEvent.objects.count()

    results = run_in_threads(20, lambda _: post_event(Client(), event).json()["outcome"])

    assert Counter(results) == {"applied": 1, "duplicate": 19}, results
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert PaymentEvent.objects.count() == history + 1
    assert StreamEvent.objects.count() == streamed + 1
    assert ProcessorEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 20


def test_32_concurrent_refunds_never_exceed_the_payment(operator):
    payment = make_payment(user=operator, status="succeeded", amount=1000)
    _, token = api_token_create(user=operator)

    def ask(i):
        client = Client(headers={"Authorization": f"Bearer {token}"})
        response = client.post(
            f"/api/v1/payments/{payment.public_id}/refunds",
            {"amount": 70, "reason": f"part {i}"},
            content_type="application/json",
            headers={"Idempotency-Key": f"refund-{i}"},
        )
        return response.status_code, response.json().get("code")

    results = run_in_threads(32, ask)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Counter(results) == {(201, None): 14, (409, "refund_exceeds_refundable"): 18}
    assert sum(Refund.objects.values_list("amount", flat=True)) == 980


def test_different_events_for_one_payment_at_once_leave_a_legal_history(operator):
    payment = make_payment(user=operator, status="submitted")
    events = [
        payment_event(payment, kind, created=1_800_000_000 + i)
        for i, kind in enumerate(["processing", "requires_action", "processing", "succeeded"])
    ]
    results = run_in_threads(4, lambda i: post_event(Client(), events[i]).status_code)
    assert results == [200, 200, 200, 200]
    payment.refresh_from_db()
    assert payment.status == "succeeded"
