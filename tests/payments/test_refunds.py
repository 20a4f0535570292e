"""Refunds: API, limits, states driven by refund.* webhooks, history, stream events."""

import pytest

from payments.models import Refund, RefundEvent
from payments.processor import event_body
from tests.payments.webhook_helpers import post_event
from transactions.models import StreamEvent

pytestmark = pytest.mark.django_db


def refund(api, payment, *, amount=500, reason="Customer returned goods", key="r-1"):
    return api.post(
        f"/api/v1/payments/{payment.public_id}/refunds",
        {"amount": amount, "reason": reason},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_partial_refund_of_a_succeeded_payment_is_pending_with_history_and_stream_event(
    operator_api, payment_factory
):
    payment = payment_factory("succeeded", amount=1250)
    response = refund(operator_api, payment)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("re_")
    assert (body["amount"], body["status"], body["payment_id"]) == (
        500,
        "pending",
        payment.public_id,
    )
    event = RefundEvent.objects.get()
    assert (event.to_status, event.actor_name) == ("pending", "operator-user")
    streamed = StreamEvent.objects.order_by("-id").first()
    assert (streamed.kind, streamed.status, streamed.amount) == ("refund", "pending", 500)
    shown = operator_api.get(f"/api/v1/payments/{payment.public_id}").json()
    assert (shown["refunded_amount"], shown["refundable_amount"]) == (0, 750)
    assert shown["refunds"] == [
        {
            "id": body["id"],
            "amount": 500,
            "status": "pending",
            "reason": "Customer returned goods",
            "created_at": body["created_at"],
        }
    ]


def test_multiple_partial_refunds_up_to_the_amount_then_refused(operator_api, payment_factory):
    payment = payment_factory("succeeded", amount=1000)
    assert refund(operator_api, payment, amount=600, key="a").status_code == 201
    assert refund(operator_api, payment, amount=400, key="b").status_code == 201
    refused = refund(operator_api, payment, amount=1, key="c")
    assert refused.status_code == 409
    assert refused.json()["code"] == "refund_exceeds_refundable"
    assert "amount" in refused.json()["fields"]
    assert Refund.objects.count() == 2


def test_refund_over_the_refundable_amount_names_what_is_left(operator_api, payment_factory):
    payment = payment_factory("succeeded", amount=1000)
    refund(operator_api, payment, amount=700, key="a")
    refused = refund(operator_api, payment, amount=400, key="b")
    assert refused.status_code == 409
    assert "$3.00" in refused.json()["message"] or "3.00" in refused.json()["message"]
    assert refused.json()["refundable_amount"] == 300


@pytest.mark.parametrize("status", ["draft", "submitted", "processing", "requires_action",
                                    "failed", "canceled"])  # fmt: skip
def test_refund_of_a_payment_that_did_not_succeed_is_refused_with_the_reason(
    operator_api, payment_factory, status
):
    payment = payment_factory(status)
    response = refund(operator_api, payment)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "refund_not_allowed"
    assert "Only a succeeded payment can be refunded" in body["message"]
    assert body["payment_status"] == status
    assert Refund.objects.count() == 0
    assert not StreamEvent.objects.filter(kind="refund").exists()


def test_refund_replays_with_the_same_key(operator_api, payment_factory):
    payment = payment_factory("succeeded")
    first = refund(operator_api, payment)
    again = refund(operator_api, payment)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Refund.objects.count() == 1
    other = refund(operator_api, payment, amount=7)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_refund_needs_an_idempotency_key(operator_api, payment_factory):
    payment = payment_factory("succeeded")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/refunds",
        {"amount": 5, "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"


def test_viewer_cannot_refund(viewer_api, payment_factory):
    payment = payment_factory("succeeded")
    response = refund(viewer_api, payment)
    assert response.status_code == 403
    assert "Operator" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": -5, "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": "5", "reason": "x"}, "amount"),
        ({"amount": True, "reason": "x"}, "amount"),
        ({"amount": 2**70, "reason": "x"}, "amount"),
        ({"amount": 5}, "reason"),
        ({"amount": 5, "reason": "   "}, "reason"),
        ({"amount": 5, "reason": "x" * 501}, "reason"),
        ({"amount": 5, "reason": 5}, "reason"),
        ({"amount": 5, "reason": "x", "currency": "USD"}, "currency"),
    ],
)
def test_bad_refund_input_is_422_naming_the_field(operator_api, payment_factory, body, field):
    payment = payment_factory("succeeded")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/refunds",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "bad-1"},
    )
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert Refund.objects.count() == 0


def test_refund_of_an_unknown_payment_is_404_naming_it(operator_api):
    response = operator_api.post(
        "/api/v1/payments/pay_nope/refunds",
        {"amount": 5, "reason": "x"},
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 404
    assert "payment_id" in response.json()["fields"]


def _refund_event(refund_body, kind, **kwargs):
    return event_body(
        type=f"refund.{kind}",
        payment_ref=refund_body["payment_id"],
        refund_ref=refund_body["id"],
        **kwargs,
    )


def test_refund_succeeded_webhook_completes_it_and_counts_as_refunded(
    client, operator_api, payment_factory
):
    payment = payment_factory("succeeded", amount=1000)
    body = refund(operator_api, payment, amount=400).json()
    response = post_event(client, _refund_event(body, "succeeded"))
    assert response.json()["outcome"] == "applied"
    stored = Refund.objects.get()
    assert stored.status == "succeeded"
    history = list(stored.events.values_list("to_status", "actor_name"))
    assert history == [("pending", "operator-user"), ("succeeded", "processor")]
    assert StreamEvent.objects.order_by("-id").first().status == "refunded"
    shown = operator_api.get(f"/api/v1/payments/{payment.public_id}").json()
    assert (shown["refunded_amount"], shown["refundable_amount"]) == (400, 600)
    assert shown["status"] == "succeeded"


def test_failed_refund_frees_its_amount(client, operator_api, payment_factory):
    payment = payment_factory("succeeded", amount=1000)
    body = refund(operator_api, payment, amount=1000).json()
    post_event(client, _refund_event(body, "failed", failure_code="account_closed"))
    stored = Refund.objects.get()
    assert (stored.status, stored.failure_code) == ("failed", "account_closed")
    assert refund(operator_api, payment, amount=1000, key="again").status_code == 201


def test_a_late_refund_event_for_a_final_refund_is_ignored(client, operator_api, payment_factory):
    payment = payment_factory("succeeded", amount=1000)
    body = refund(operator_api, payment, amount=400).json()
    post_event(client, _refund_event(body, "succeeded"))
    late = post_event(client, _refund_event(body, "failed"))
    assert late.json()["outcome"] == "ignored"
    assert Refund.objects.get().status == "succeeded"


def test_refund_event_naming_another_payment_changes_nothing(client, operator_api, payment_factory):
    payment, other = payment_factory("succeeded"), payment_factory("succeeded")
    body = refund(operator_api, payment, amount=100).json()
    event = event_body(type="refund.succeeded", payment_ref=other.public_id, refund_ref=body["id"])
    assert post_event(client, event).json()["outcome"] == "ignored"
    assert Refund.objects.get().status == "pending"


def test_list_filters_refunded(operator_api, client, payment_factory):
    refunded, plain = payment_factory("succeeded"), payment_factory("succeeded")
    body = refund(operator_api, refunded, amount=100).json()
    post_event(client, _refund_event(body, "succeeded"))
    only = operator_api.get("/api/v1/payments?refunded=true").json()["items"]
    assert [item["id"] for item in only] == [refunded.public_id]
    others = operator_api.get("/api/v1/payments?refunded=false").json()["items"]
    assert refunded.public_id not in [item["id"] for item in others]
    assert plain.public_id in [item["id"] for item in others]
    assert operator_api.get("/api/v1/payments?refunded=maybe").status_code == 422


def test_refund_history_is_append_only(operator_api, payment_factory):
    from payflow.models import AppendOnlyError

    payment = payment_factory("succeeded")
    refund(operator_api, payment)
    event = RefundEvent.objects.get()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.parametrize("path", ["refund", "processorevent", "webhookdelivery", "janitorrun"])
def test_admin_shows_the_processor_records_read_only(client, admin, password, path):
    client.login(username=admin.username, password=password)
    assert client.get(f"/admin/payments/{path}/").status_code == 200
    assert client.get(f"/admin/payments/{path}/add/").status_code == 403


@pytest.mark.parametrize("reason", ["bad\x00reason", "lone \ud800"])
def test_refund_reason_with_nul_or_lone_surrogate_is_422(operator_api, payment_factory, reason):
    import json

    payment = payment_factory("succeeded")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/refunds",
        json.dumps({"amount": 5, "reason": reason}),
        content_type="application/json",
        headers={"Idempotency-Key": "nul-1"},
    )
    assert response.status_code == 422
    assert "reason" in response.json()["fields"]
