"""The reconciliation API: statement import, the exceptions queue, resolutions and approvals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from payflow.accounts.roles import Role
from reconciliation.models import BankStatement, ReconciliationException
from tests.conftest import _bearer_client
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, camt053, csv

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name="statement.xml", **fields):
    return client.post(
        "/api/v1/bank-statements", {"file": SimpleUploadedFile(name, data), **fields}
    )


@pytest.fixture
def batch():
    return make_batch(status="in_transit", items=2, amount=10_000)


def statement_for(batch, *extra: Entry) -> bytes:
    item = batch.items.order_by("pk").first()
    day = batch.expected_settlement_date
    return camt053(
        [Entry("debit", f"{item.amount / 100:.2f}", item.public_id, value_date=day), *extra],
        currency="USD",
        version="02",
    )


def test_import_answers_201_with_counts(operator_api, batch):
    data = statement_for(batch, Entry("debit", "3.00", "UNKNOWN"))
    response = upload(operator_api, data)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("bst_")
    assert {k: body[k] for k in ("format", "currency", "lines", "matched", "exceptions")} == {
        "format": "camt053",
        "currency": "USD",
        "lines": 2,
        "matched": 1,
        "exceptions": 1,
    }
    assert body["account"] == "DE89370400440532013000"
    assert isinstance(body["opening_balance"], int)


def test_the_same_statement_again_is_200_duplicate(operator_api, batch):
    data = statement_for(batch)
    first = upload(operator_api, data).json()
    again = upload(operator_api, data)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["duplicate"] is True
    assert BankStatement.objects.count() == 1


def test_format_can_be_named(operator_api, batch):
    data = csv([Entry("debit", "1.00", "X")], currency="USD")
    response = upload(operator_api, data, name="s.txt", format="csv")
    assert response.status_code == 201
    assert response.json()["format"] == "csv"


def test_bad_balances_are_422_naming_the_element(operator_api, batch):
    data = camt053([Entry("debit", "1.00")], currency="USD", closing="1.00")
    response = upload(operator_api, data)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "statement_invalid"
    assert "CLBD" in body["message"]
    assert "file" in body["fields"]
    assert BankStatement.objects.count() == 0


def test_missing_file_is_422_on_the_file_field(operator_api):
    response = operator_api.post("/api/v1/bank-statements", {})
    assert response.status_code == 422
    assert "file" in response.json()["fields"]


def test_viewer_cannot_import(viewer_api, batch):
    assert upload(viewer_api, statement_for(batch)).status_code == 403


@pytest.fixture
def exception_id(operator_api, batch):
    upload(operator_api, statement_for(batch, Entry("debit", "3.00", "UNKNOWN")))
    return ReconciliationException.objects.get().public_id


def test_queue_lists_and_filters(viewer_api, exception_id):
    body = viewer_api.get("/api/v1/reconciliation/exceptions?status=open&currency=USD").json()
    assert [row["id"] for row in body["items"]] == [exception_id]
    row = body["items"][0]
    assert row["reason"] == "unmatched_line"
    assert row["escalated"] is False
    assert row["sla_deadline"]
    empty = viewer_api.get("/api/v1/reconciliation/exceptions?status=resolved").json()
    assert empty["items"] == []


def test_queue_refuses_bad_filters(viewer_api):
    response = viewer_api.get("/api/v1/reconciliation/exceptions?status=nope&currency=XXX")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status", "currency"}


def test_queue_pages_with_a_cursor(operator_api, batch):
    upload(
        operator_api, csv([Entry("debit", f"{n}.00", f"N{n}") for n in range(1, 6)], currency="USD")
    )
    first = operator_api.get("/api/v1/reconciliation/exceptions?limit=2").json()
    second = operator_api.get(
        f"/api/v1/reconciliation/exceptions?limit=2&cursor={first['next_cursor']}"
    ).json()
    assert len(first["items"]) == len(second["items"]) == 2
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    bad = operator_api.get("/api/v1/reconciliation/exceptions?cursor=zzz")
    assert bad.status_code == 422


def test_resolve_with_approval_by_a_second_operator(operator_api, exception_id, batch):
    item = batch.items.order_by("pk").last()
    url = f"/api/v1/reconciliation/exceptions/{exception_id}"
    proposed = operator_api.post(
        f"{url}/resolutions",
        {"action": "write_off", "note": "Bank fee, booked to fees"},
        content_type="application/json",
    )
    assert proposed.status_code == 201, proposed.json()
    resolution_id = proposed.json()["id"]
    assert proposed.json()["status"] == "pending_approval"
    assert operator_api.get(url).json()["status"] == "pending_approval"

    own = operator_api.post(
        f"{url}/approvals", {"resolution": resolution_id}, content_type="application/json"
    )
    assert own.status_code == 403
    assert own.json()["code"] == "four_eyes"

    second = _bearer_client(UserFactory(username="op2", role=Role.OPERATOR))
    approved = second.post(
        f"{url}/approvals",
        {"resolution": resolution_id, "note": "Checked"},
        content_type="application/json",
    )
    assert approved.status_code == 201
    detail = second.get(url).json()
    assert detail["status"] == "resolved"
    assert detail["approvals"][0]["approver"] == "op2"
    # Newest first, like every history.
    assert [h["kind"] for h in detail["history"]] == ["resolved", "approved", "proposed", "created"]
    item.refresh_from_db()
    assert item.status == "pending"  # writing off a bank line moves no item


def test_resolution_without_note_is_422(operator_api, exception_id):
    response = operator_api.post(
        f"/api/v1/reconciliation/exceptions/{exception_id}/resolutions",
        {"action": "ignore", "note": " "},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "note" in response.json()["fields"]


def test_assignment_to_me(operator_api, exception_id):
    response = operator_api.post(
        f"/api/v1/reconciliation/exceptions/{exception_id}/assignment",
        {"owner": "me"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["owner"] == "operator-user"


def test_unknown_exception_is_404(viewer_api):
    assert viewer_api.get("/api/v1/reconciliation/exceptions/rex_nope").status_code == 404
