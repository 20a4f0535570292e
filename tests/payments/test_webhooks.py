"""POST /webhooks/processor: signatures, exactly-once, ordering, unknown payments, bad input."""

import json
import time

import pytest

from payflow.accounts.decorators import PUBLIC, access_of
from payments.models import (
    PaymentEvent,
    ProcessorEvent,
    WebhookDelivery,
)
from payments.processor import event_body
from payments.signatures import HEADER, signature_header
from tests.payments.webhook_helpers import payment_event, post_event, post_raw
from transactions.models import StreamEvent

pytestmark = pytest.mark.django_db
DEV_SECRET = "whsec_payflow_development_only"


def test_valid_signature_applies_the_event_through_the_transition_service(client, payment_factory):
    payment = payment_factory("processing")
    streamed = StreamEvent.objects.count()
    response = post_event(client, payment_event(payment, "succeeded"))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "applied"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    last = PaymentEvent.objects.filter(payment=payment).last()
    assert (last.actor_name, last.to_status) == ("processor", "succeeded")
    assert "evt_" in last.reason
    assert StreamEvent.objects.count() == streamed + 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.verdict, delivery.outcome, delivery.payment_ref) == (
        "valid",
        "applied",
        payment.public_id,
    )


def test_missing_header_is_401_and_never_processed(client, payment_factory):
    payment = payment_factory("processing")
    raw = json.dumps(payment_event(payment, "succeeded")).encode()
    response = client.post("/webhooks/processor", raw, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "signature_missing"
    assert HEADER in response.json()["fields"]
    payment.refresh_from_db()
    assert payment.status == "processing"
    assert ProcessorEvent.objects.count() == 0
    assert WebhookDelivery.objects.get().outcome == "rejected"
    assert WebhookDelivery.objects.get().verdict == "missing"


def test_wrong_secret_is_401(client, payment_factory):
    payment = payment_factory("processing")
    response = post_event(client, payment_event(payment, "succeeded"), secret="whsec_attacker")
    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    payment.refresh_from_db()
    assert payment.status == "processing"
    assert WebhookDelivery.objects.get().verdict == "mismatch"


def test_body_changed_after_signing_is_401(client, payment_factory):
    payment = payment_factory("processing")
    raw = json.dumps(payment_event(payment, "succeeded")).encode()
    header = signature_header(secrets=[DEV_SECRET], timestamp=int(time.time()), body=raw)
    tampered = raw.replace(b"succeeded", b"failed")
    response = client.post(
        "/webhooks/processor", tampered, content_type="application/json", headers={HEADER: header}
    )
    assert response.status_code == 401
    payment.refresh_from_db()
    assert payment.status == "processing"


@pytest.mark.parametrize("offset", [-400, 400, -3600])
def test_stale_timestamp_is_401(client, payment_factory, offset):
    payment = payment_factory("processing")
    response = post_event(
        client, payment_event(payment, "succeeded"), timestamp=int(time.time()) + offset
    )
    assert response.status_code == 401
    assert response.json()["code"] == "signature_stale"
    payment.refresh_from_db()
    assert payment.status == "processing"
    assert WebhookDelivery.objects.get().verdict == "stale"


def test_timestamp_within_tolerance_is_accepted(client, payment_factory):
    payment = payment_factory("processing")
    response = post_event(
        client, payment_event(payment, "succeeded"), timestamp=int(time.time()) - 290
    )
    assert response.status_code == 200


def test_every_configured_secret_is_accepted_for_rotation(client, payment_factory, settings):
    settings.PROCESSOR_WEBHOOK_SECRETS = ["whsec_new", "whsec_old"]
    first, second = payment_factory("processing"), payment_factory("processing")
    assert post_event(client, payment_event(first, "succeeded"), secret="whsec_old").status_code
    assert post_event(client, payment_event(second, "failed"), secret="whsec_new").status_code
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("succeeded", "failed")
    assert post_event(client, payment_event(first, "failed"), secret=DEV_SECRET).status_code == 401


def test_a_header_with_old_and_new_signatures_is_accepted(client, payment_factory, settings):
    settings.PROCESSOR_WEBHOOK_SECRETS = ["whsec_new"]
    payment = payment_factory("processing")
    raw = json.dumps(payment_event(payment, "succeeded")).encode()
    header = signature_header(secrets=["whsec_retired", "whsec_new"], timestamp=int(time.time()),
                              body=raw)  # fmt: skip
    response = client.post(
        "/webhooks/processor", raw, content_type="application/json", headers={HEADER: header}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "nonsense",
        "t=abc,v1=" + "0" * 64,
        "v1=" + "0" * 64,
        "t=1700000000",
        "t=1700000000,v1=xyz",
        "t=1,t=2,v1=" + "0" * 64,
        "t=99999999999999999999,v1=" + "0" * 64,
    ],
)
def test_malformed_header_is_400_naming_the_header(client, payment_factory, header):
    payment = payment_factory("processing")
    response = post_event(client, payment_event(payment, "succeeded"), header=header)
    assert response.status_code == 400
    assert response.json()["code"] == "signature_malformed"
    assert HEADER in response.json()["fields"]
    payment.refresh_from_db()
    assert payment.status == "processing"


def test_redelivery_answers_200_without_effect(client, payment_factory):
    payment = payment_factory("processing")
    event = payment_event(payment, "succeeded")
    assert post_event(client, event).json()["outcome"] == "applied"
    history = PaymentEvent.objects.count()
    streamed = StreamEvent.objects.count()
    again = post_event(client, event)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert (PaymentEvent.objects.count(), StreamEvent.objects.count()) == (history, streamed)
    assert ProcessorEvent.objects.count() == 1
    assert list(WebhookDelivery.objects.order_by("id").values_list("outcome", flat=True)) == [
        "applied",
        "duplicate",
    ]


def test_out_of_order_events_end_right_and_the_rest_are_recorded_ignored(client, payment_factory):
    payment = payment_factory("submitted")
    now = int(time.time())
    processing = payment_event(payment, "processing", created=now - 3)
    needs_action = payment_event(payment, "requires_action", created=now - 2)
    processing_again = payment_event(payment, "processing", created=now - 1)
    succeeded = payment_event(payment, "succeeded", created=now)
    for event in (succeeded, processing_again, needs_action, processing):
        assert post_event(client, event).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    outcomes = dict(ProcessorEvent.objects.values_list("event_id", "outcome"))
    assert outcomes[succeeded["id"]] == "applied"
    assert {outcomes[e["id"]] for e in (processing, needs_action, processing_again)} == {"ignored"}
    ignored = ProcessorEvent.objects.filter(outcome="ignored")
    assert all("already succeeded" in event.reason for event in ignored)
    path = list(PaymentEvent.objects.filter(payment=payment).values_list("to_status", flat=True))
    assert path == ["draft", "submitted", "processing", "succeeded"]


def test_requires_action_then_older_processing_stays_requiring_action(client, payment_factory):
    payment = payment_factory("submitted")
    now = int(time.time())
    post_event(client, payment_event(payment, "requires_action", created=now))
    response = post_event(client, payment_event(payment, "processing", created=now - 5))
    assert response.json()["outcome"] == "ignored"
    payment.refresh_from_db()
    assert payment.status == "requires_action"
    newer = post_event(client, payment_event(payment, "processing", created=now + 5))
    assert newer.json()["outcome"] == "applied"


def test_failed_event_carries_its_failure_code(client, payment_factory):
    payment = payment_factory("processing")
    post_event(client, payment_event(payment, "failed", failure_code="insufficient_funds"))
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "insufficient_funds")


def test_unknown_failure_code_is_kept_in_the_reason(client, payment_factory):
    payment = payment_factory("processing")
    post_event(client, payment_event(payment, "failed", failure_code="xq_77"))
    payment.refresh_from_db()
    assert payment.failure_code == "unspecified"
    assert "xq_77" in PaymentEvent.objects.filter(payment=payment).last().reason


def test_event_for_an_unknown_payment_is_kept_for_inspection(client):
    event = event_body(type="payment.succeeded", payment_ref="pay_doesnotexist")
    response = post_event(client, event)
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_payment"
    kept = ProcessorEvent.objects.get(event_id=event["id"])
    assert kept.outcome == "unknown_payment"
    assert kept.payload == event


def test_event_for_a_draft_is_ignored_with_the_reason(client, payment_factory):
    payment = payment_factory("draft")
    response = post_event(client, payment_event(payment, "succeeded"))
    assert response.json()["outcome"] == "ignored"
    assert "draft" in response.json()["reason"]
    payment.refresh_from_db()
    assert payment.status == "draft"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1,2]", "body"),
        (b'{"id":"evt_1","type":"payment.succeeded","created":1}', "data"),
        (b'{"id":"x","type":"payment.succeeded","created":1,"data":{"payment_id":"pay_a"}}', "id"),
        (b'{"id":"evt_1","type":"payment.won","created":1,"data":{"payment_id":"pay_a"}}', "type"),
        (b'{"id":"evt_1","type":"payment.failed","created":"1","data":{"payment_id":"pay_a"}}',
         "created"),
        (b'{"id":"evt_1","type":"payment.failed","created":1,"data":{"payment_id":7}}',
         "data.payment_id"),
        (b'{"id":"evt_1","type":"refund.failed","created":1,"data":{"payment_id":"pay_a"}}',
         "data.refund_id"),
        (b'{"id":"evt_1","type":"payment.failed","created":1,"data":{"payment_id":"pay_a",'
         b'"failure_code":5}}', "data.failure_code"),
        (b'{"id":"evt_\\u0000","type":"payment.failed","created":1,"data":{"payment_id":"pay_a"}}'
, "body"),
        (b"\xff\xfe", "body"),
    ],
)  # fmt: skip
def test_signed_but_invalid_event_is_400_naming_the_field(client, body, field):
    response = post_raw(client, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_event"
    assert field in response.json()["fields"]
    assert ProcessorEvent.objects.count() == 0
    assert WebhookDelivery.objects.get().outcome == "rejected"


def test_get_is_405_in_the_error_shape(client):
    response = client.get("/webhooks/processor")
    assert response.status_code == 405
    assert set(response.json()) >= {"code", "message", "fields"}


def test_webhook_view_is_marked_public():
    from payments.views import processor_webhook

    assert access_of(processor_webhook) == PUBLIC


def test_the_log_redacts_configured_secrets(client, settings):
    raw = json.dumps({"id": "evt_1", "leak": DEV_SECRET, "api_token": "abc"}).encode()
    post_raw(client, raw)
    stored = WebhookDelivery.objects.get().raw_body
    assert DEV_SECRET not in stored
    assert "abc" not in stored


def test_rejections_are_counted(client):
    from payflow.metrics import WEBHOOK_DELIVERIES

    counter = WEBHOOK_DELIVERIES.labels("missing", "rejected")
    before = counter._value.get()
    client.post("/webhooks/processor", b"{}", content_type="application/json")
    assert counter._value.get() == before + 1


def test_without_configured_secrets_every_delivery_is_refused_503(client, settings,
                                                                  payment_factory):  # fmt: skip
    payment = payment_factory("processing")
    event = payment_event(payment, "succeeded")
    settings.PROCESSOR_WEBHOOK_SECRETS = []
    response = post_event(client, event, secret="whsec_payflow_development_only")
    assert response.status_code == 503
    assert response.json()["code"] == "webhooks_not_configured"
    assert response.headers["Retry-After"] == "60"
    payment.refresh_from_db()
    assert payment.status == "processing"


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"evt_1","type":"payment.failed","created":1,"data":{"payment_id":"pay_a"},'
        b'"note":"\\u0000"}',
        b'{"id":"evt_1","type":"payment.failed","created":1,"data":{"payment_id":"pay_a",'
        b'"x":"\\ud800"}}',
        b'{"id":"evt_1","type":"payment.failed","created":1,"data":{"payment_id":"pay_a",'
        b'"failure_code":"a\\u0000"}}',
        b"\x00\x00",
    ],
)
def test_nul_bytes_and_lone_surrogates_are_400_and_logged(client, body):
    response = post_raw(client, body)
    assert response.status_code == 400
    assert set(response.json()["fields"]) & {"body", "data.failure_code"}
    assert WebhookDelivery.objects.get().outcome == "rejected"


def test_tolerance_is_five_minutes_either_side_exactly():
    from payments.errors import SignatureStale
    from payments.signatures import verify

    body = b"{}"
    for offset in (-300, 300):
        header = signature_header(secrets=[DEV_SECRET], timestamp=1_000_000 + offset, body=body)
        assert verify(header=header, body=body, secrets=[DEV_SECRET], now=1_000_000)
    for offset in (-301, 301):
        header = signature_header(secrets=[DEV_SECRET], timestamp=1_000_000 + offset, body=body)
        with pytest.raises(SignatureStale):
            verify(header=header, body=body, secrets=[DEV_SECRET], now=1_000_000)
