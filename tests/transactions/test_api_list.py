"""GET /api/v1/transactions (filters, sort, cursor pages), /{id}, and the CSV export."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.paging import walk
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def txn(**kw):
    values = {
        "kind": "capture",
        "amount": 1000,
        "currency": "USD",
        "merchant": "Acme",
        "status": "captured",
        "created_at": T0,
    }
    values.update(kw)
    return Transaction.objects.create(**values)


def test_list_sorts_by_amount_with_stable_pages_across_ties(viewer_api):
    # Many ties on amount: pages must still hold every row exactly once, in (amount, id) order.
    made = [
        txn(amount=[500, 100, 500, 300, 100][i % 5], created_at=T0 + timedelta(minutes=i))
        for i in range(23)
    ]
    ids = walk(viewer_api, "/api/v1/transactions?sort=amount&limit=4")
    expected = [t.public_id for t in sorted(made, key=lambda t: (t.amount, t.pk))]
    assert ids == expected
    down = walk(viewer_api, "/api/v1/transactions?sort=-amount&limit=5")
    assert down == [t.public_id for t in sorted(made, key=lambda t: (-t.amount, -t.pk))]


def test_list_newest_first_by_default_with_the_streams_filters(viewer_api):
    old = txn(created_at=T0, currency="EUR", amount=2000)
    new = txn(created_at=T0 + timedelta(hours=1), currency="EUR", amount=3000)
    txn(currency="USD", amount=5000)
    txn(currency="EUR", amount=10, status="failed")
    body = viewer_api.get("/api/v1/transactions?currency=eur&min_amount=1000").json()
    assert [i["id"] for i in body["items"]] == [new.public_id, old.public_id]
    assert body["sort"] == "-created_at"
    item = body["items"][0]
    assert item["amount"] == 3000
    assert item["amount_decimal"] == "30.00"
    assert item["created_at"] == "2026-11-30T10:00:00Z"


def test_every_bad_field_is_named_at_once(viewer_api):
    response = viewer_api.get(
        "/api/v1/transactions?kind=nope&currency=dollars&min_amount=-1&sort=size"
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body["fields"]) == {"kind", "currency", "min_amount", "sort"}
    assert body["code"]


def test_a_cursor_from_another_sort_is_refused(viewer_api):
    for i in range(3):
        txn(created_at=T0 + timedelta(minutes=i))
    cursor = viewer_api.get("/api/v1/transactions?sort=amount&limit=1").json()["next_cursor"]
    response = viewer_api.get(f"/api/v1/transactions?sort=-created_at&cursor={cursor}")
    assert response.status_code == 422
    assert "cursor" in response.json()["fields"]
    assert viewer_api.get("/api/v1/transactions?cursor=garbage").status_code == 422


def test_one_transaction_and_its_links(viewer_api):
    t = txn(payment_ref="pay_abc123")
    body = viewer_api.get(f"/api/v1/transactions/{t.public_id}").json()
    assert body["id"] == t.public_id
    assert body["payment_id"] == "pay_abc123"
    assert body["links"]["payment"] == "/api/v1/payments/pay_abc123"
    assert body["links"]["page"] == f"/transactions/{t.public_id}"
    missing = viewer_api.get("/api/v1/transactions/txn_nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_the_api_needs_a_login(client):
    assert client.get("/api/v1/transactions").status_code == 401
    assert client.get("/api/v1/transactions/export.csv").status_code == 401


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_has_every_filtered_row_and_the_count(viewer_api):
    for i in range(7):
        txn(currency="JPY", amount=1250 + i, created_at=T0 + timedelta(seconds=i))
    for _ in range(3):
        txn(currency="KWD", amount=1250, created_at=T0)
    response = viewer_api.get("/api/v1/transactions/export.csv?currency=JPY&sort=amount")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Total-Count"] == "7"
    rows = read_csv(response)
    assert rows[0][:6] == ["id", "created_at", "kind", "status", "amount", "currency"]
    assert len(rows) - 1 == 7 == int(response["X-Total-Count"])
    assert [r[4] for r in rows[1:]] == [str(1250 + i) for i in range(7)]  # JPY: no decimals
    kwd = read_csv(viewer_api.get("/api/v1/transactions/export.csv?currency=KWD"))
    assert {r[4] for r in kwd[1:]} == {"1.250"}
    assert kwd[1][1] == "2026-11-30T09:00:00Z"


def test_export_neutralises_formulas(viewer_api):
    txn(merchant='=HYPERLINK("http://evil","click")')
    txn(merchant="+1+1", created_at=T0 + timedelta(seconds=1))
    txn(merchant="@SUM(A1)", created_at=T0 + timedelta(seconds=2))
    txn(merchant="-2+3", amount=-5, created_at=T0 + timedelta(seconds=3))
    rows = read_csv(viewer_api.get("/api/v1/transactions/export.csv?sort=created_at"))
    merchants = [r[7] for r in rows[1:]]
    assert merchants == ['\'=HYPERLINK("http://evil","click")', "'+1+1", "'@SUM(A1)", "'-2+3"]
    assert rows[4][4] == "-0.05"  # a plain negative number stays a number


def test_export_streams_before_the_end_is_produced(viewer_api):
    for i in range(5):
        txn(created_at=T0 + timedelta(seconds=i))
    response = viewer_api.get("/api/v1/transactions/export.csv")
    assert response.streaming
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.decode("utf-8-sig").startswith("id,created_at")
    # The header is out while the rows are still to be produced: one row per later chunk.
    rest = list(chunks)
    assert len(rest) == 5
