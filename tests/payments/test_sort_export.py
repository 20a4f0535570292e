"""Payments sort by their columns with stable keyset pages, and export every filtered row."""

import csv
import io

import pytest

from payments.models import Payment
from tests.paging import walk
from tests.payments.factories import make_payment

pytestmark = pytest.mark.django_db


def test_api_sorts_by_amount_both_ways_across_pages(operator, viewer_api):
    made = [make_payment(user=operator, amount=[700, 100, 700, 300][i % 4]) for i in range(11)]
    up = walk(viewer_api, "/api/v1/payments?sort=amount&limit=3")
    assert up == [p.public_id for p in sorted(made, key=lambda p: (p.amount, p.pk))]
    down = walk(viewer_api, "/api/v1/payments?sort=-amount&limit=4")
    assert down == [p.public_id for p in sorted(made, key=lambda p: (-p.amount, -p.pk))]


def test_api_refuses_an_unknown_sort_naming_the_field(viewer_api):
    response = viewer_api.get("/api/v1/payments?sort=colour")
    assert response.status_code == 422
    assert "sort" in response.json()["fields"]


def test_page_sorts_and_its_headers_offer_the_other_direction(client, viewer, operator):
    small = make_payment(user=operator, amount=100)
    big = make_payment(user=operator, amount=900)
    client.force_login(viewer)
    html = client.get("/payments?sort=amount").content.decode()
    assert html.index(small.public_id) < html.index(big.public_id)
    assert 'aria-sort="ascending"' in html
    assert 'href="?sort=-amount"' in html
    html = client.get("/payments?sort=-amount").content.decode()
    assert html.index(big.public_id) < html.index(small.public_id)


def rows_of(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_api_and_button_give_every_filtered_row(client, viewer, operator, viewer_api):
    for i in range(6):
        make_payment(user=operator, amount=1000 + i, currency="EUR")
    make_payment(user=operator, amount=5, currency="KWD", beneficiary_name="=cmd|' /C calc'!A0")
    api = viewer_api.get("/api/v1/payments/export.csv?currency=EUR&sort=amount")
    assert api["X-Total-Count"] == "6"
    rows = rows_of(api)
    assert len(rows) - 1 == 6
    assert [r[3] for r in rows[1:]] == [f"{10 + i / 100:.2f}" for i in range(6)]
    assert rows[1][4] == "EUR"
    assert rows[1][1].endswith("Z")
    client.force_login(viewer)
    page = client.get("/payments/export.csv?currency=KWD")
    assert page["X-Total-Count"] == str(Payment.objects.filter(currency="KWD").count()) == "1"
    [header, row] = rows_of(page)
    assert row[3] == "0.005"
    assert row[6] == "'=cmd|' /C calc'!A0"
    assert row[7] == "6819"  # the account's last 4, not the whole account


def test_list_page_has_an_export_button_with_its_filters(client, viewer):
    client.force_login(viewer)
    html = client.get("/payments?currency=EUR&sort=amount").content.decode()
    assert 'href="/payments/export.csv?currency=EUR&amp;sort=amount"' in html
