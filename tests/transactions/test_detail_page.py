"""The transaction detail page: its money and time in the reader's format, links to its payment
or payout batch and to the other transactions of the same object."""

from datetime import UTC, datetime

import pytest

from payflow.accounts.models import DisplayPreference
from transactions.models import StreamEvent, Transaction

pytestmark = pytest.mark.django_db


def make(**kw):
    values = {
        "kind": "capture",
        "amount": 123456,
        "currency": "EUR",
        "merchant": "Acme",
        "status": "captured",
        "created_at": datetime(2026, 12, 1, 20, 31, 20, tzinfo=UTC),
    }
    values.update(kw)
    return Transaction.objects.create(**values)


def test_detail_links_to_payment_and_siblings_in_the_readers_format(client, viewer):
    DisplayPreference.objects.create(user=viewer, time_zone="Europe/Berlin", locale="de-DE")
    client.force_login(viewer)
    t = make(payment_ref="pay_abc")
    other = make(payment_ref="pay_abc", kind="authorization", status="authorized")
    html = client.get(f"/transactions/{t.public_id}").content.decode()
    assert "1.234,56\u00a0EUR" in html
    assert "2026-12-01 21:31:20 Europe/Berlin" in html
    assert 'href="/payments/pay_abc"' in html
    assert f'href="/transactions/{other.public_id}"' in html
    assert f'data-copy="{t.public_id}"' in html


def test_a_live_row_leads_to_its_transaction(client, viewer):
    client.force_login(viewer)
    t = make()
    event = StreamEvent.objects.create(
        transaction=t,
        kind=t.kind,
        amount=t.amount,
        currency=t.currency,
        merchant=t.merchant,
        status=t.status,
        created_at=t.created_at,
    )
    response = client.get(f"/transactions/events/{event.id}")
    assert response.status_code == 302
    assert response["Location"] == f"/transactions/{t.public_id}"
    assert client.get("/transactions/events/999999").status_code == 404
    assert client.get("/transactions/txn_missing").status_code == 404


def test_transactions_page_rows_use_the_one_formatter(client, viewer):
    DisplayPreference.objects.create(user=viewer, time_zone="America/New_York", locale="en-US")
    client.force_login(viewer)
    t = make(currency="JPY", amount=6589, status="declined")
    StreamEvent.objects.create(
        transaction=t,
        kind=t.kind,
        amount=t.amount,
        currency=t.currency,
        merchant=t.merchant,
        status=t.status,
        created_at=t.created_at,
    )
    html = client.get("/transactions").content.decode()
    assert "6,589\u00a0JPY" in html  # never "¥6,589": JPY or CNY?
    assert "Time (<span data-display-zone>America/New_York</span>)" in html
    assert ">15:31:20</time>" in html
    assert 'class="badge badge-danger" data-status="declined"' in html
    assert "filled in after a reconnect" not in html


def test_a_payment_page_leads_to_its_transactions(client, viewer):
    client.force_login(viewer)
    t = make(payment_ref="pay_xyz")
    make(payment_ref="pay_other")
    html = client.get("/transactions/related?payment_ref=pay_xyz").content.decode()
    assert f'href="/transactions/{t.public_id}"' in html
    assert "pay_other" not in html
    assert client.get("/transactions/related?payment_ref=bad%20ref").status_code == 422
