"""The payouts API: list with filters and cursor pages, detail, reconciliations and roles."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from payouts.models import PayoutBatch, PayoutReconciliation
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
S = BatchStatus
NY = ZoneInfo("America/New_York")
URL = "/api/v1/payouts"


def reconcile(client, batch, key=None, **body):
    return client.post(
        f"{URL}/{batch.public_id}/reconciliations",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def test_list_shows_status_attention_and_totals(viewer_api):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION, items=2, amount=500)
    response = viewer_api.get(URL)
    assert response.status_code == 200
    [row] = response.json()["items"]
    assert row["id"] == batch.public_id
    assert row["status"] == "requires_reconciliation"
    assert (row["item_count"], row["total_amount"]) == (2, 1001)
    assert row["attention"]["level"] == "action_required"
    assert row["attention"]["reason"]
    assert response.json()["needs_attention_count"] == 1


def test_list_filters_by_status_currency_attention_and_settlement_dates(viewer_api):
    usd = make_batch(status=S.IN_TRANSIT, submitted_at=dt.datetime(2026, 3, 2, 10, tzinfo=NY))
    eur = make_batch(status=S.FAILED, currency="EUR", rail="sepa")
    ids = lambda query: {row["id"] for row in viewer_api.get(URL + query).json()["items"]}  # noqa: E731
    assert ids("?status=in_transit") == {usd.public_id}
    assert ids("?currency=EUR") == {eur.public_id}
    assert ids("?needs_attention=1") == {eur.public_id, usd.public_id}  # usd is overdue by now
    assert ids("?settlement_from=2026-03-04&settlement_to=2026-03-04") == {usd.public_id}
    assert ids("?settlement_to=2026-03-03") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("currency=XXX", "currency"),
        ("settlement_from=yesterday", "settlement_from"),
        ("needs_attention=maybe", "needs_attention"),
        ("cursor=garbage", "cursor"),
        ("limit=0", "limit"),
    ],
)
def test_bad_filters_get_422_naming_the_field(viewer_api, query, field):
    response = viewer_api.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_cursor_pages_walk_every_batch_once(viewer_api):
    created = {make_batch().public_id for _ in range(5)}
    seen, cursor = [], ""
    while True:
        body = viewer_api.get(f"{URL}?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [row["id"] for row in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(created)


def test_detail_has_items_attention_and_timeline(viewer_api):
    batch = make_batch(status=S.IN_TRANSIT, submitted_at=dt.datetime(2026, 9, 4, 18, tzinfo=NY))
    body = viewer_api.get(f"{URL}/{batch.public_id}").json()
    assert len(body["items"]) == 3
    assert body["items"][0]["currency"] == "USD"
    assert body["attention"]["level"] == "action_required"
    kinds = [(day["date"], day["kind"], day["holiday"]) for day in body["timeline"]["days"]]
    assert ("2026-09-07", "holiday", "Labor Day") in kinds
    assert body["timeline"]["before_cutoff"] is False
    assert body["expected_settlement_date"] == "2026-09-10"


def test_unknown_batch_is_404(viewer_api):
    response = viewer_api.get(f"{URL}/po_nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_viewer_cannot_reconcile(viewer_api):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = reconcile(viewer_api, batch, outcome="settled", note="ok")
    assert response.status_code == 403
    assert "Operator" in response.json()["message"]
    assert PayoutReconciliation.objects.count() == 0


def test_operator_reconciles(operator_api, operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = reconcile(
        operator_api, batch, outcome="settled", note="Statement line 7", bank_reference="B-1"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["reconciliation"]["actor"] == operator.username
    assert body["reconciliation"]["outcome"] == "settled"
    assert body["batch"]["status"] == "settled"
    assert body["batch"]["history"][0]["kind"] == "reconciliation"
    assert body["batch"]["history"][0]["bank_reference"] == "B-1"


@pytest.mark.parametrize("note", ["", "   "])
def test_reconciliation_without_a_note_is_422_naming_note(operator_api, note):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = reconcile(operator_api, batch, outcome="settled", note=note)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["note"]
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.REQUIRES_RECONCILIATION


def test_reconciliation_missing_the_note_field_is_422(operator_api):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = reconcile(operator_api, batch, outcome="settled")
    assert response.status_code == 422
    assert "note" in response.json()["fields"]


def test_reconciliation_with_an_unknown_outcome_is_422(operator_api):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = reconcile(operator_api, batch, outcome="vanished", note="n")
    assert response.status_code == 422
    assert "outcome" in response.json()["fields"]


def test_illegal_outcome_is_409_with_from_to_allowed_and_reason(operator_api):
    batch = make_batch(status=S.PROCESSING)
    response = reconcile(operator_api, batch, outcome="settled", note="n")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert (body["from"], body["to"]) == ("processing", "settled")
    assert body["allowed"] == ["in_transit", "failed", "requires_reconciliation"]
    assert body["reason"]
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.PROCESSING


def test_note_on_a_final_batch_keeps_its_status(operator_api):
    batch = make_batch(status=S.RETURNED)
    response = reconcile(operator_api, batch, outcome="returned", note="Funds back on 3 Mar")
    assert response.status_code == 201
    assert response.json()["batch"]["status"] == "returned"


def test_detail_history_is_newest_first(viewer_api):
    batch = make_batch(status=S.IN_TRANSIT)
    body = viewer_api.get(f"{URL}/{batch.public_id}").json()
    assert [(h["kind"], h["to"]) for h in body["history"]] == [
        ("status", "in_transit"),
        ("status", "processing"),
        ("created", "pending"),
    ]
