"""update_rows writes what bulk_update would: every named field of every row, NULLs included."""

import datetime as dt

import pytest

from payflow.bulk import update_rows
from payouts.models import PayoutItem
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db


def test_update_rows_writes_each_rows_own_values_and_nulls():
    batch = make_batch(status="in_transit", items=3, amount=1_000)
    items = list(batch.items.order_by("pk"))
    when = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    for number, item in enumerate(items):
        item.status = "settled"
        item.bank_reference = f"REF-{number}"
        item.confirmed_at = when + dt.timedelta(minutes=number)
        item.confirmed_amount = item.amount + number
    items[2].confirmed_at = items[2].confirmed_amount = None
    items[2].reference = "not named, so not written"

    update_rows(PayoutItem, items, ["status", "bank_reference", "confirmed_at", "confirmed_amount"])

    stored = list(PayoutItem.objects.filter(batch=batch).order_by("pk"))
    assert [i.status for i in stored] == ["settled"] * 3
    assert [i.bank_reference for i in stored] == ["REF-0", "REF-1", "REF-2"]
    assert [i.confirmed_at for i in stored] == [when, when + dt.timedelta(minutes=1), None]
    assert [i.confirmed_amount for i in stored] == [items[0].amount, items[1].amount + 1, None]
    assert stored[2].reference != "not named, so not written"
