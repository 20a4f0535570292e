"""payflow.bulk: update_rows writes what bulk_update would (every named field of every row, NULLs
included); insert_rows writes what bulk_create would, ids in row order, defaults filled."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from payflow.bulk import insert_rows, update_rows
from payflow.exceptions import InvalidInput
from payouts.models import PayoutBatchEvent, PayoutItem
from reconciliation.models import BankStatement, StatementLine
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


def test_update_rows_twice_in_one_transaction_writes_both():
    batch = make_batch(status="in_transit", items=2, amount=1_000)
    items = list(batch.items.order_by("pk"))
    with transaction.atomic():
        for reference in ("first", "second"):
            for item in items:
                item.bank_reference = f"{reference}-{item.pk}"
            update_rows(PayoutItem, items, ["bank_reference"])
    assert sorted(
        PayoutItem.objects.filter(batch=batch).values_list("bank_reference", flat=True)
    ) == sorted(f"second-{item.pk}" for item in items)


def test_insert_rows_returns_ids_in_row_order_and_fills_defaults():
    statement = BankStatement.objects.create(
        format="csv", account="A", currency="EUR", statement_id="S", opening_balance=0,
        closing_balance=0, sha256="0" * 64, imported_by_name="t",
    )  # fmt: skip
    rows = [
        {
            "statement_id": statement.pk,
            "index": index,
            "direction": "debit",
            "amount": 100 + index,
            "currency": "EUR",
            "references": [f"ref-{index}", {"nested": index}],
        }
        for index in (3, 1, 2)
    ]

    ids = insert_rows(StatementLine, rows, returning_ids=True)

    stored = {line.pk: line for line in StatementLine.objects.filter(statement=statement)}
    assert [stored[pk].index for pk in ids] == [3, 1, 2]
    assert [stored[pk].references for pk in ids] == [row["references"] for row in rows]
    assert len({stored[pk].public_id for pk in ids}) == 3  # a callable default, per row
    assert all(stored[pk].public_id.startswith("bsl_") for pk in ids)
    assert {stored[pk].details for pk in ids} == {""}


def test_insert_rows_without_ids_returns_nothing_and_writes_every_row():
    batch = make_batch(status="in_transit", items=1, amount=1_000)
    before = PayoutBatchEvent.objects.filter(batch=batch).count()
    now = timezone.now()
    row = {
        "batch_id": batch.pk,
        "kind": "note",
        "actor_name": "t",
        "source": "t",
        "created_at": now,
    }

    assert insert_rows(PayoutBatchEvent, [row, row]) == []
    assert PayoutBatchEvent.objects.filter(batch=batch).count() == before + 2


def test_insert_rows_refuses_bad_text_naming_the_field_and_writes_nothing():
    batch = make_batch(status="in_transit", items=1, amount=1_000)
    before = PayoutBatchEvent.objects.count()
    now = timezone.now()
    rows = [
        {"batch_id": batch.pk, "kind": "note", "actor_name": "t", "source": "t", "created_at": now},
        {"batch_id": batch.pk, "kind": "note", "actor_name": "t", "source": "t", "created_at": now,
         "reason": "bad \x00 text"},
    ]  # fmt: skip
    rows[0]["reason"] = ""

    with pytest.raises(InvalidInput) as info:
        insert_rows(PayoutBatchEvent, rows)
    assert list(info.value.fields) == ["reason"]
    assert PayoutBatchEvent.objects.count() == before


def test_insert_rows_refuses_a_column_the_model_does_not_have():
    with pytest.raises(TypeError, match="no columns"):
        insert_rows(PayoutBatchEvent, [{"batch": 1}])


def test_update_rows_refuses_bad_text_naming_the_field_and_writes_nothing():
    batch = make_batch(status="in_transit", items=2, amount=1_000)
    items = list(batch.items.order_by("pk"))
    items[0].bank_reference = "fine"
    items[1].bank_reference = "bad \x00 reference"

    with pytest.raises(InvalidInput) as info:
        update_rows(PayoutItem, items, ["bank_reference"])

    assert list(info.value.fields) == ["bank_reference"]
    assert set(PayoutItem.objects.filter(batch=batch).values_list("bank_reference", flat=True)) == {
        ""
    }
