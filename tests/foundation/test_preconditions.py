"""ETag on a payment's and a payout batch's GET; If-Match on their writes (412 when stale).

The comparison runs in the writing service under the resource's row lock, so a stale tag is
refused and nothing changes: no transition, no refund, no reconciliation, no retry.
"""

import uuid

import pytest

from payflow.exceptions import InvalidInput
from payflow.preconditions import entity_tag, parse_if_match
from payments.models import PaymentEvent, Refund
from payouts.models import PayoutItem, PayoutReconciliation
from payouts.transitions import BatchStatus
from tests.payments.factories import make_payment
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db


def _json_post(client, path, body, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def test_if_match_parsing_is_strong_and_names_the_header_when_malformed():
    assert parse_if_match(None) is None
    assert parse_if_match("*").matches('"anything"')
    tags = parse_if_match('"3.0", W/"4.0"')
    assert tags.matches('"3.0"')
    assert not tags.matches('"4.0"'), "a weak tag never matches under strong comparison"
    for bad in ["", "3.0", '"unterminated', '"a"b"', 'W/"', '"é"']:
        with pytest.raises(InvalidInput) as caught:
            parse_if_match(bad)
        assert "If-Match" in caught.value.fields
    assert entity_tag(3, 0) == '"3.0"'


def test_payment_etag_changes_with_a_transition_and_a_stale_if_match_is_412(operator, operator_api):
    payment = make_payment(user=operator, status="draft")
    url = f"/api/v1/payments/{payment.public_id}"
    etag = operator_api.get(url).headers["ETag"]
    moved = _json_post(
        operator_api, f"{url}/transitions", {"to": "submitted"}, **{"If-Match": etag}
    )
    assert moved.status_code == 200, moved.content
    assert moved.headers["ETag"] != etag
    assert operator_api.get(url).headers["ETag"] == moved.headers["ETag"]
    events = PaymentEvent.objects.filter(payment=payment).count()

    stale = _json_post(
        operator_api,
        f"{url}/transitions",
        {"to": "canceled", "reason": "Duplicate"},
        **{"If-Match": etag},
    )
    assert stale.status_code == 412
    body = stale.json()
    assert (body["code"], list(body["fields"])) == ("precondition_failed", ["If-Match"])
    assert stale.headers["ETag"] == moved.headers["ETag"]
    assert PaymentEvent.objects.filter(payment=payment).count() == events
    payment.refresh_from_db()
    assert payment.status == "submitted"


def test_malformed_if_match_is_422_naming_it_and_changes_nothing(operator, operator_api):
    payment = make_payment(user=operator, status="draft")
    url = f"/api/v1/payments/{payment.public_id}/transitions"
    response = _json_post(operator_api, url, {"to": "submitted"}, **{"If-Match": "v1"})
    assert response.status_code == 422
    assert "If-Match" in response.json()["fields"]
    payment.refresh_from_db()
    assert payment.status == "draft"


def test_a_refund_changes_the_payment_etag_and_a_stale_refund_is_412(operator, operator_api):
    payment = make_payment(user=operator, status="succeeded", amount=1_000)
    url = f"/api/v1/payments/{payment.public_id}"
    etag = operator_api.get(url).headers["ETag"]

    def refund(tag):
        return _json_post(
            operator_api,
            f"{url}/refunds",
            {"amount": 100, "reason": "Goods returned"},
            **{"Idempotency-Key": uuid.uuid4().hex, "If-Match": tag},
        )

    assert refund(etag).status_code == 201
    assert operator_api.get(url).headers["ETag"] != etag
    assert refund(etag).status_code == 412
    assert Refund.objects.filter(payment=payment).count() == 1


def test_batch_etag_and_if_match_on_reconciliation_and_pay_again(operator_api):
    batch = make_batch(status=BatchStatus.REQUIRES_RECONCILIATION, items=2)
    url = f"/api/v1/payouts/{batch.public_id}"
    etag = operator_api.get(url).headers["ETag"]
    [first, second] = batch.items.order_by("pk")
    reconciled = _json_post(
        operator_api,
        f"{url}/reconciliations",
        {
            "note": "Statement of the 3rd",
            "items": [
                {"id": first.public_id, "outcome": "settled"},
                {"id": second.public_id, "outcome": "failed", "reason_code": "R03"},
            ],
        },
        **{"Idempotency-Key": uuid.uuid4().hex, "If-Match": etag},
    )
    assert reconciled.status_code == 201, reconciled.content
    fresh = operator_api.get(url).headers["ETag"]
    assert fresh != etag

    stale = _json_post(
        operator_api,
        f"{url}/reconciliations",
        {"outcome": "partially_settled", "note": "again"},
        **{"Idempotency-Key": uuid.uuid4().hex, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert PayoutReconciliation.objects.filter(batch=batch).count() == 1

    pay_again = f"/api/v1/payouts/items/{second.public_id}/pay-again"
    assert _json_post(operator_api, pay_again, {}, **{"If-Match": etag}).status_code == 412
    assert not PayoutItem.objects.filter(retry_of=second).exists()
    assert _json_post(operator_api, pay_again, {}, **{"If-Match": fresh}).status_code == 201
    assert operator_api.get(url).headers["ETag"] != fresh


def test_openapi_documents_if_match_and_412_on_the_writes(viewer_api):
    spec = viewer_api.get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/payments/{payment_id}/transitions",
        "/api/v1/payments/{payment_id}/refunds",
        "/api/v1/payouts/{batch_id}/reconciliations",
        "/api/v1/payouts/items/{item_id}/pay-again",
    ]:
        operation = spec["paths"][path]["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "If-Match" in headers, path
        assert "412" in operation["responses"], path
