"""Item-level truth: every amount a batch shows comes from its items, its status never claims
more than they do, and only a confirmed failure can be paid again (the reported defects)."""

import uuid

import pytest

from payouts.models import PayoutBatch, PayoutItem, PayoutItemResult, PayoutReconciliation
from payouts.services import ItemResult, payout_item_results_record
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
S = BatchStatus
URL = "/api/v1/payouts"


def post(client, path, body, key=None):
    return client.post(
        URL + path,
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def partly_settled(currency="USD", amount=10_000):
    """Three items: the first failed with R03 (a rail report), the other two settled."""
    return make_batch(status=S.PARTIALLY_SETTLED, currency=currency, amount=amount)


def amounts_add_up(body):
    a = body["amounts"]
    return a["settled"] + a["failed"] + a["returned"] + a["pending"] == a["total"]


def test_defect_reconciling_a_partly_settled_batch_as_settled_is_refused(operator_api):
    batch = partly_settled()
    response = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {"outcome": "settled", "note": "Bank says all good"},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "outcome_contradicts_items"
    assert "cannot be settled" in body["message"]
    assert "1 failed (100.00 USD)" in body["message"]
    assert "outcome" in body["fields"]
    detail = operator_api.get(f"{URL}/{batch.public_id}").json()
    assert detail["status"] == "partially_settled"
    assert detail["amounts"] == {
        "total": 30_003,
        "settled": 20_003,
        "failed": 10_000,
        "returned": 0,
        "pending": 0,
    }
    assert detail["attention"]["level"] == "action_required"
    assert PayoutReconciliation.objects.count() == 0


def test_defect_failed_jpy_items_are_never_both_settled_and_paid_again(operator_api):
    batch = partly_settled(currency="JPY", amount=7_756)
    failed = batch.items.get(status="failed")
    # Unconfirmed failure: no "Pay again" yet.
    detail = operator_api.get(f"{URL}/{batch.public_id}").json()
    row = next(item for item in detail["items"] if item["id"] == failed.public_id)
    assert row["can_pay_again"] is False
    assert "reconciliation" in row["pay_again_refused"]
    refused = post(operator_api, f"/items/{failed.public_id}/pay-again", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "retry_not_allowed"
    # "Settled" is refused; the honest outcome confirms the failure.
    assert (
        post(
            operator_api, f"/{batch.public_id}/reconciliations", {"outcome": "settled", "note": "x"}
        ).status_code
        == 409
    )
    confirmed = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {"outcome": "partially_settled", "note": "R03 confirmed by phone"},
    )
    assert confirmed.status_code == 201
    body = confirmed.json()["batch"]
    assert body["amounts"]["settled"] == 7_757 + 7_758
    assert body["amounts"]["failed"] == 7_756
    row = next(item for item in body["items"] if item["id"] == failed.public_id)
    assert (row["status"], row["confirmed"], row["can_pay_again"]) == ("failed", True, True)
    assert all(not item["can_pay_again"] for item in body["items"] if item["status"] == "settled")
    paid = post(operator_api, f"/items/{failed.public_id}/pay-again", {"account": "••••7777"})
    assert paid.status_code == 201
    assert paid.json()["item"]["account_reference"] == "••••7777"
    assert PayoutItem.objects.get(retry_of=failed).amount == 7_756
    # Once paid again the original can never be counted settled.
    with pytest.raises(Exception, match="paid again"):
        payout_item_results_record(
            results=[ItemResult(failed.public_id, "settled")], actor=None, source="test"
        )
    assert PayoutItem.objects.get(pk=failed.pk).status == "failed"


def test_defect_a_failed_batch_has_failed_items_and_stays_in_attention(operator_api):
    batch = make_batch(status=S.FAILED)
    detail = operator_api.get(f"{URL}/{batch.public_id}").json()
    assert {item["status"] for item in detail["items"]} == {"failed"}
    assert all(item["reason_code"] for item in detail["items"])
    assert detail["amounts"]["failed"] == detail["amounts"]["total"] == 30_003
    reconciled = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {"outcome": "failed", "note": "File rejected, confirmed"},
    )
    assert reconciled.status_code == 201
    body = reconciled.json()["batch"]
    assert all(item["can_pay_again"] for item in body["items"])
    assert body["attention"]["level"] == "action_required"
    listed = operator_api.get(f"{URL}?needs_attention=1").json()["items"]
    assert batch.public_id in {row["id"] for row in listed}


def test_per_item_reconciliation_derives_the_batch_status(operator_api):
    batch = make_batch(status=S.IN_TRANSIT)
    first, second, third = batch.items.order_by("pk")
    response = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {
            "note": "Statement of 3 March",
            "items": [
                {"id": first.public_id, "outcome": "settled", "bank_reference": "ST-1"},
                {"id": second.public_id, "outcome": "settled", "amount": 10_001},
                {"id": third.public_id, "outcome": "failed", "reason_code": "AC04"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reconciliation"]["outcome"] == "partially_settled"
    assert len(body["reconciliation"]["items"]) == 3
    batch_json = body["batch"]
    assert batch_json["status"] == "partially_settled"
    assert amounts_add_up(batch_json)
    rows = {item["id"]: item for item in batch_json["items"]}
    assert rows[first.public_id]["bank_reference"] == "ST-1"
    assert rows[first.public_id]["confirmed_amount"] == 10_000
    assert rows[first.public_id]["statement_line"] is None
    assert rows[third.public_id]["reason_code"] == "AC04"
    assert PayoutItemResult.objects.filter(item__batch=batch).count() == 3


def test_items_that_contradict_the_outcome_are_refused_and_change_nothing(operator_api):
    batch = make_batch(status=S.IN_TRANSIT)
    first = batch.items.order_by("pk").first()
    response = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {
            "outcome": "settled",
            "note": "n",
            "items": [{"id": first.public_id, "outcome": "failed", "reason_code": "R03"}],
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "outcome_contradicts_items"
    assert set(batch.items.values_list("status", flat=True)) == {"pending"}
    assert PayoutReconciliation.objects.count() == 0


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"id": "poi_nope", "outcome": "settled"}, "items[0].id"),
        ({"outcome": "failed"}, "items[0].reason_code"),
        ({"outcome": "settled", "amount": 0}, "items.0.amount"),
        ({"outcome": "lost"}, "items.0.outcome"),
    ],
)
def test_bad_item_outcomes_are_4xx_naming_the_field(operator_api, item, field):
    batch = make_batch(status=S.IN_TRANSIT)
    body_item = {"id": batch.items.first().public_id, **item}
    response = post(
        operator_api, f"/{batch.public_id}/reconciliations", {"note": "n", "items": [body_item]}
    )
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert PayoutReconciliation.objects.count() == 0


def test_a_settled_item_cannot_be_settled_twice(operator_api):
    batch = make_batch(status=S.IN_TRANSIT)
    item = batch.items.first()
    payout_item_results_record(
        results=[ItemResult(item.public_id, "settled")], actor=None, source="t"
    )
    response = post(
        operator_api,
        f"/{batch.public_id}/reconciliations",
        {"note": "again", "items": [{"id": item.public_id, "outcome": "settled"}]},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "item_result_refused"


def test_a_retried_reconciliation_records_nothing_new(operator_api):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    body = {"outcome": "settled", "note": "Statement line 7"}
    first = post(operator_api, f"/{batch.public_id}/reconciliations", body, key="k-1")
    again = post(operator_api, f"/{batch.public_id}/reconciliations", body, key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PayoutReconciliation.objects.filter(batch=batch).count() == 1
    other = post(
        operator_api, f"/{batch.public_id}/reconciliations", {**body, "note": "x"}, key="k-1"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    missing = operator_api.post(
        f"{URL}/{batch.public_id}/reconciliations", body, content_type="application/json"
    )
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"


CREATE = {
    "name": "Creator payouts",
    "currency": "JPY",
    "rail": "wire",
    "business_days": 1,
    "items": [
        {"recipient": {"name": "Ada", "account": "••••1815"}, "amount": 7756, "reference": "INV-1"},
        {"recipient": {"name": "Grace", "account": "••••1906"}, "amount": 500},
    ],
    "submit": True,
}


def test_create_a_batch_with_items_once_per_key(operator_api):
    response = post(operator_api, "", CREATE, key="create-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("po_")
    assert body["status"] == "processing"
    assert [item["id"][:4] for item in body["items"]] == ["poi_", "poi_"]
    assert body["items"][0]["reference"] == "INV-1"
    assert body["amounts"] == {
        "total": 8256,
        "settled": 0,
        "failed": 0,
        "returned": 0,
        "pending": 8256,
    }
    again = post(operator_api, "", CREATE, key="create-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == body["id"]
    assert PayoutBatch.objects.count() == 1
    reused = post(operator_api, "", {**CREATE, "name": "Other"}, key="create-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XXX"}, "currency"),
        ({"rail": "pigeon"}, "rail"),
        ({"items": []}, "items"),
        ({"business_days": 99}, "business_days"),
        ({"items": [{"recipient": {"name": "A", "account": "1"}, "amount": -5}]}, "items.0.amount"),
        (
            {"items": [{"recipient": {"name": " ", "account": "1"}, "amount": 5}]},
            "items[0].recipient.name",
        ),
        ({"calendar": "MARS"}, "calendar"),
    ],
)
def test_bad_create_input_is_422_naming_the_field_and_creates_nothing(operator_api, change, field):
    response = post(operator_api, "", {**CREATE, **change})
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert PayoutBatch.objects.count() == 0


def test_create_needs_a_key_and_the_operator_role(operator_api, viewer_api):
    missing = operator_api.post(URL, CREATE, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert post(viewer_api, "", CREATE).status_code == 403
    assert PayoutBatch.objects.count() == 0


def test_open_items_for_matching_and_items_by_ids():
    from payouts.selectors import items_by_ids, open_items_for_matching

    waiting = make_batch(status=S.PENDING)  # not sent: nothing to match
    sent = make_batch(status=S.IN_TRANSIT, currency="JPY", amount=7756)
    partial = partly_settled()
    open_ids = {item.item_id for item in open_items_for_matching()}
    assert open_ids == set(sent.items.values_list("public_id", flat=True)) | set(
        partial.items.filter(status="settled").values_list("public_id", flat=True)
    )
    jpy = list(open_items_for_matching(currency="JPY"))
    assert {item.currency for item in jpy} == {"JPY"}
    assert jpy[0].batch_id == sent.public_id
    assert jpy[0].expected_settlement_date == sent.expected_settlement_date
    assert jpy[0].calendar == "US"
    named = items_by_ids(item_ids=[waiting.items.first().public_id, "poi_nope"])
    assert list(named) == [waiting.items.first().public_id]


def test_a_statement_line_settles_and_is_shown_on_the_item(operator_api):
    batch = make_batch(status=S.IN_TRANSIT, items=1)
    item = batch.items.get()
    written = payout_item_results_record(
        results=[ItemResult(item.public_id, "settled", amount=9_999, statement_line_id="bsl_7")],
        actor=None,
        source="statement",
        note="camt.053 import",
    )
    item.refresh_from_db()
    assert written == 1
    assert (item.confirmed_amount, item.statement_line_id) == (9_999, "bsl_7")
    body = operator_api.get(f"{URL}/{batch.public_id}").json()
    assert body["status"] == "settled"
    assert body["items"][0]["statement_line"] == "bsl_7"
    assert body["items"][0]["confirmed_amount"] == 9_999
    assert amounts_add_up(body)


def test_a_reported_return_of_a_confirmed_settlement_needs_confirming_before_pay_again():
    batch = make_batch(status=S.IN_TRANSIT, items=1)
    item = batch.items.get()
    payout_item_results_record(
        results=[ItemResult(item.public_id, "settled")], actor=None, source="statement"
    )
    payout_item_results_record(
        results=[ItemResult(item.public_id, "returned", reason_code="R06")],
        actor=None,
        source="simulation",
        confirmed=False,
    )
    item.refresh_from_db()
    assert (item.status, item.confirmed_at) == ("returned", None)
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.RETURNED
    payout_item_results_record(
        results=[ItemResult(item.public_id, "returned", statement_line_id="bsl_9")],
        actor=None,
        source="statement",
    )
    item.refresh_from_db()
    assert item.confirmed_at is not None
    assert item.reason_code == "R06"


def test_one_statement_import_applies_all_its_lines_or_none():
    from django.db import transaction

    batch = make_batch(status=S.IN_TRANSIT, items=2)
    first, second = batch.items.order_by("pk")
    with pytest.raises(Exception, match="reason_code"), transaction.atomic():
        payout_item_results_record(
            results=[
                ItemResult(first.public_id, "settled", statement_line_id="bsl_1"),
                ItemResult(second.public_id, "failed"),  # no reason code: refused
            ],
            actor=None,
            source="statement",
        )
    assert set(batch.items.values_list("status", flat=True)) == {"pending"}
