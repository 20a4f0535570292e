"""Payout batches sort by their columns with stable keyset pages, and export every filtered row."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from tests.paging import walk
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db


def test_api_sorts_by_expected_settlement_across_pages(viewer_api):
    start = timezone.now() - dt.timedelta(days=3)
    made = [make_batch(items=1, submitted_at=start + dt.timedelta(days=i % 3)) for i in range(7)]
    up = walk(viewer_api, "/api/v1/payouts?sort=expected_settlement_date&limit=2")
    expected = sorted(made, key=lambda b: (b.expected_settlement_date, b.pk))
    assert up == [b.public_id for b in expected]
    bad = viewer_api.get("/api/v1/payouts?sort=amount_of_joy")
    assert bad.status_code == 422
    assert "sort" in bad.json()["fields"]


def test_export_has_every_filtered_batch_with_totals(viewer_api):
    for _ in range(4):
        make_batch(items=2, amount=1000, currency="USD")
    make_batch(items=1, currency="EUR", rail="sepa", name="@SUM(1+1)")
    response = viewer_api.get("/api/v1/payouts/export.csv?currency=USD")
    assert response["X-Total-Count"] == "4"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == 4
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["amount"] == "20.01"
    assert row["currency"] == "USD"
    assert row["items"] == "2"
    assert row["submitted_at"].endswith("Z")
    assert row["bank_time_zone"]  # the settlement date is the bank's date, and says whose
    eur = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    viewer_api.get("/api/v1/payouts/export.csv?currency=EUR").streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert eur[1][1] == "'@SUM(1+1)"


def test_page_sort_and_export_button(client, viewer):
    make_batch(items=1)
    client.force_login(viewer)
    html = client.get("/payouts?sort=status").content.decode()
    assert 'aria-sort="ascending"' in html
    assert 'href="/api/v1/payouts/export.csv?sort=status"' in html
    assert "sort: " not in html
    assert "sort: unknown sort" in client.get("/payouts?sort=nope").content.decode()


def test_settlement_calendar_counts_batches_per_bank_date(client, viewer):
    from payouts.models import PayoutBatch

    old = make_batch(
        items=1, status="in_transit", submitted_at=timezone.now() - dt.timedelta(days=20)
    )
    make_batch(items=1)
    client.force_login(viewer)
    month = old.expected_settlement_date.strftime("%Y-%m")
    assert (
        'data-refresh-url="/payouts/calendar?month='
        in client.get(f"/payouts?month={month}").content.decode()
    )
    html = client.get(f"/payouts/calendar?month={month}").content.decode()
    assert 'data-testid="settlement-calendar"' in html
    day = old.expected_settlement_date.isoformat()
    assert f"settlement_from={day}&amp;settlement_to={day}" in html
    same_day = PayoutBatch.objects.filter(expected_settlement_date=old.expected_settlement_date)
    assert f"{same_day.count()} batch" in html
    assert "1 overdue" in html
    assert "not a month" in client.get("/payouts/calendar?month=soon").content.decode()
