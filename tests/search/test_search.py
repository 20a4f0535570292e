"""Search finds what people type: ids and prefixes, names, amounts as typed, last 4, bank
references, across payments, payout batches and items, and transactions. The same tests run on
SQLite (the fallback) and on PostgreSQL (trigram indexes), with -m postgres and DATABASE_URL."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from payflow.search import parse_query
from payouts.models import PayoutItem
from search.engine import search_everything
from tests.payments.factories import make_payment
from tests.payouts.factories import make_batch
from transactions.models import Transaction


@pytest.fixture
def world(db, operator):
    usd = make_payment(
        user=operator,
        amount=8070,
        currency="USD",
        beneficiary_name="Nordwind GmbH",
        beneficiary_account="DE89370400440532013000",
    )
    eur = make_payment(
        user=operator, amount=125000, currency="EUR", beneficiary_name="Acme Supplies Ltd"
    )
    jpy = make_payment(
        user=operator, amount=1250, currency="JPY", beneficiary_name="Tokyo Tools KK"
    )
    kwd = make_payment(user=operator, amount=1250, currency="KWD", beneficiary_name="Gulf Freight")
    batch = make_batch(items=2, amount=4200, currency="USD", name="November contractors")
    item = batch.items.order_by("id").first()
    PayoutItem.objects.filter(pk=item.pk).update(bank_reference="FEDWIRE-77A1")
    txn = Transaction.objects.create(
        kind="capture",
        amount=99999,
        currency="GBP",
        merchant="Harbour Books",
        status="captured",
        payment_ref=usd.public_id,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return {
        "usd": usd,
        "eur": eur,
        "jpy": jpy,
        "kwd": kwd,
        "batch": batch,
        "item": item,
        "txn": txn,
    }


def ids(results, kind=None):
    return [hit.id for k, _, hits in results.groups for hit in hits if kind in (None, k)]


def _cases(world):
    return {
        "id prefix": (world["usd"].public_id[:9], "payment", world["usd"].public_id),
        "exact id": (world["batch"].public_id, "payout_batch", world["batch"].public_id),
        "item id prefix": (world["item"].public_id[:8], "payout_item", world["item"].public_id),
        "transaction id": (world["txn"].public_id, "transaction", world["txn"].public_id),
        "name part": ("nordwind", "payment", world["usd"].public_id),
        "batch name": ("contractors", "payout_batch", world["batch"].public_id),
        "merchant": ("harbour", "transaction", world["txn"].public_id),
        "amount 80.70": ("80.70", "payment", world["usd"].public_id),
        "grouped 1,250.00 EUR": ("1,250.00 EUR", "payment", world["eur"].public_id),
        "german 1.250,00": ("1.250,00", "payment", world["eur"].public_id),
        "1,250 finds yen": ("1,250", "payment", world["jpy"].public_id),
        "1.250 finds dinar": ("1.250", "payment", world["kwd"].public_id),
        "item amount": ("42.00", "payout_item", world["item"].public_id),
        "last 4": ("3000", "payment", world["usd"].public_id),
        "bank reference": ("FEDWIRE-77A1", "payout_item", world["item"].public_id),
        "payment id finds its transactions": (
            world["usd"].public_id,
            "transaction",
            world["txn"].public_id,
        ),
    }


def check_all(world):
    for label, (q, kind, expected) in _cases(world).items():
        results = search_everything(q)
        assert expected in ids(results, kind), (label, q, results.groups)


def test_every_kind_of_query_on_this_database(world):
    check_all(world)


@pytest.mark.postgres
def test_every_kind_of_query_on_postgresql_with_trigram_indexes(world):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'search_pay_name_trgm'")
        assert cursor.fetchone() is not None
    check_all(world)


def test_currency_narrows_an_amount(world):
    results = search_everything("1250 JPY")
    assert world["jpy"].public_id in ids(results, "payment")
    assert world["kwd"].public_id not in ids(results)
    assert world["eur"].public_id not in ids(search_everything("12.50 KWD"))


def test_best_match_is_the_exact_id(world):
    results = search_everything(world["usd"].public_id)
    assert results.best.id == world["usd"].public_id
    assert results.best.url == f"/payments/{world['usd'].public_id}"


def test_nothing_matches_nothing(world):
    assert search_everything("zzzzqqqq").count == 0
    assert search_everything("   ").groups == []


def test_query_parsing_reads_amounts_as_people_type_them():
    assert parse_query("12.50").amounts["USD"] == {1250}
    assert parse_query("1,250").amounts["JPY"] == {1250}
    # 1,250 is 1250.00 with English grouping, or 1.25 with a German decimal comma: both tried.
    assert parse_query("1,250").amounts["USD"] == {125000, 125}
    assert parse_query("1250.00 EUR").amounts == {"EUR": frozenset({125000})}
    assert parse_query("12,50").amounts["EUR"] == {1250}  # a German decimal comma
    assert "JPY" not in parse_query("12.50").amounts  # yen has no cents
    assert parse_query("6819").last4 == "6819"
    assert parse_query("pay_7Hx").id_prefixes == ("pay_7Hx",)


def test_api_and_page(world, client, viewer, viewer_api):
    body = viewer_api.get("/api/v1/search?q=nordwind").json()
    assert body["best"]["id"] == world["usd"].public_id
    assert body["groups"][0]["kind"] == "payment"
    bad = viewer_api.get("/api/v1/search?q=" + "x" * 101)
    assert bad.status_code == 422
    assert "q" in bad.json()["fields"]
    client.force_login(viewer)
    page = client.get("/search?q=contractors").content.decode()
    assert world["batch"].public_id in page
    go = client.get(f"/search?q={world['batch'].public_id}&go=1")
    assert go.status_code == 302
    assert go["Location"] == f"/payouts/{world['batch'].public_id}"
    assert (
        client.get("/search?q=contractors&partial=dropdown").content.decode().startswith("\n<div")
    )


def test_a_bank_reference_shaped_like_an_id_is_found(world):
    PayoutItem.objects.filter(pk=world["item"].pk).update(bank_reference="ACH_9911")
    results = search_everything("ACH_9911")
    assert world["item"].public_id in ids(results, "payout_item")
