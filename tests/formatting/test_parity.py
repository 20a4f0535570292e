"""The server (payflow/formatting.py) and the browser (static/js/format.js) write money and
time identically: the same payment, batch item and transaction, formatted by both, for USD, JPY,
KWD and EUR under two locales and two time zones."""

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from payflow import formatting

FORMAT_JS = Path(settings.BASE_DIR) / "static" / "js" / "format.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="needs node to run static/js/format.js")

LOCALES = ["en-US", "de-DE"]
ZONES = ["America/New_York", "Asia/Tokyo"]
CURRENCIES = ["USD", "JPY", "KWD", "EUR"]


def run_js(config: dict, cases: list[dict]) -> list[dict]:
    script = f"""
import {{ setConfig, formatMoney, formatTime, timeTitle, toneOf }}
  from {json.dumps(FORMAT_JS.as_uri())};
const input = JSON.parse(process.argv[1]);
setConfig(input.config);
const now = new Date(input.now);
const out = input.cases.map((c) => ({{
  money: formatMoney(c.amount, c.currency, c.locale),
  time: formatTime(c.at, c.zone, "datetime"),
  minutes: formatTime(c.at, c.zone, "minutes"),
  clock: formatTime(c.at, c.zone, "time"),
  title: timeTitle(c.at, now),
  tone: toneOf(c.status),
}}));
process.stdout.write(JSON.stringify(out));
"""
    payload = json.dumps({"config": config, "cases": cases, "now": NOW.isoformat()})
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script, payload],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


NOW = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)


def server(case: dict) -> dict:
    at = datetime.fromisoformat(case["at"])
    return {
        "money": formatting.format_money(case["amount"], case["currency"], locale=case["locale"]),
        "time": formatting.format_time(at, zone=case["zone"], style="datetime"),
        "minutes": formatting.format_time(at, zone=case["zone"], style="minutes"),
        "clock": formatting.format_time(at, zone=case["zone"], style="time"),
        "title": formatting.time_title(at, now=NOW),
        "tone": formatting.tone_of(case["status"]),
    }


@pytest.mark.django_db
def test_payment_batch_and_transaction_read_the_same_on_server_and_in_js(operator):
    from tests.payments.factories import make_payment
    from tests.payouts.factories import make_batch
    from transactions.models import Transaction

    objects = []
    for index, currency in enumerate(CURRENCIES):
        payment = make_payment(user=operator, currency=currency, amount=123456789 + index)
        objects.append((payment.amount, payment.currency, payment.created_at, payment.status))
        batch = make_batch(currency=currency)
        item = batch.items.first()
        objects.append((item.amount, batch.currency, batch.submitted_at, batch.status))
        txn = Transaction.objects.create(
            kind="capture",
            amount=-987654 - index,
            currency=currency,
            merchant="Acme",
            status="captured",
            created_at=NOW - timedelta(hours=3, minutes=index),
        )
        objects.append((txn.amount, txn.currency, txn.created_at, txn.status))

    cases = [
        {
            "amount": amount,
            "currency": currency,
            "at": at.isoformat(),
            "status": status,
            "locale": locale,
            "zone": zone,
        }
        for amount, currency, at, status in objects
        for locale in LOCALES
        for zone in ZONES
    ]
    config = formatting.client_config(locale="en-US", time_zone="UTC")
    js = run_js(config, cases)
    assert len(js) == len(cases)
    for case, from_js in zip(cases, js, strict=True):
        assert from_js == server(case), case


def test_the_strings_are_the_ones_a_reader_expects():
    at = datetime(2026, 12, 1, 20, 31, 20, tzinfo=UTC)
    cases = [
        (123456, "USD", "en-US", "1,234.56\u00a0USD"),
        (123456, "USD", "de-DE", "1.234,56\u00a0USD"),
        (1250, "JPY", "en-US", "1,250\u00a0JPY"),
        (1250, "JPY", "de-DE", "1.250\u00a0JPY"),
        (1250, "KWD", "en-US", "1.250\u00a0KWD"),
        (1250, "KWD", "de-DE", "1,250\u00a0KWD"),
        (-5, "EUR", "de-DE", "-0,05\u00a0EUR"),
        (100000000, "EUR", "fr-FR", "1\u202f000\u202f000,00\u00a0EUR"),
    ]
    config = formatting.client_config(locale="en-US", time_zone="UTC")
    js = run_js(
        config,
        [
            {
                "amount": a,
                "currency": c,
                "locale": loc,
                "at": at.isoformat(),
                "zone": "UTC",
                "status": "",
            }
            for a, c, loc, _ in cases
        ],
    )
    for (amount, currency, locale, expected), from_js in zip(cases, js, strict=True):
        assert formatting.format_money(amount, currency, locale=locale) == expected
        assert from_js["money"] == expected
    assert formatting.format_time(at, zone="Europe/Berlin") == "2026-12-01 21:31:20 Europe/Berlin"
    assert js[0]["time"] == "2026-12-01 20:31:20 UTC"
    assert formatting.format_time(at, zone="Asia/Kolkata", style="time") == "02:01:20"


def test_amounts_beyond_float_precision_are_exact_in_js():
    config = formatting.client_config(locale="en-US", time_zone="UTC")
    big = 9007199254740993  # 2**53 + 1: a float would print ...992
    # As the page carries it (data-money="..."): a string, never a float on the way.
    js = run_js(
        config,
        [
            {
                "amount": str(big),
                "currency": "USD",
                "locale": "en-US",
                "at": NOW.isoformat(),
                "zone": "UTC",
                "status": "",
            }
        ],
    )
    assert js[0]["money"] == formatting.format_money(big, "USD") == "90,071,992,547,409.93\u00a0USD"


TYPED_AMOUNTS = [
    ("12.50", "USD"),
    ("12.5", "USD"),
    ("12.505", "USD"),
    ("12.500", "USD"),
    ("1,234.56", "EUR"),
    (".5", "EUR"),
    ("0", "USD"),
    ("1250", "JPY"),
    ("12.5", "JPY"),
    ("12.0", "JPY"),
    ("1.250", "KWD"),
    ("1.2505", "KWD"),
    ("999999999999999.999", "KWD"),
    ("1234567890123456", "USD"),
    ("12,50 ", "USD"),
    ("1e3", "USD"),
    ("abc", "USD"),
    ("", "USD"),
    ("-3.10", "USD"),
]


def js_cases(function: str, cases: list) -> list:
    """``function`` of static/js/format.js applied in node to each case's arguments."""
    script = f"""
import {{ setConfig, {function} }} from {json.dumps(FORMAT_JS.as_uri())};
const input = JSON.parse(process.argv[1]);
setConfig(input.config);
process.stdout.write(JSON.stringify(input.cases.map((args) => {function}(...args))));
"""
    config = formatting.client_config(locale="en-US", time_zone="UTC")
    payload = json.dumps({"config": config, "cases": cases})
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script, payload],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def python_cases(function, cases: list) -> list:
    """The same shape as the JS answers: ``{"minor": "..."}`` or ``{"error": "..."}``."""
    answers = []
    for args in cases:
        try:
            answers.append({"minor": str(function(*args))})
        except ValueError as exc:
            answers.append({"error": str(exc)})
    return answers


def test_a_typed_amount_becomes_the_same_minor_units_on_server_and_in_js():
    from payflow.currencies import parse_major_amount

    expected = python_cases(parse_major_amount, TYPED_AMOUNTS)
    assert js_cases("parseMajorAmount", TYPED_AMOUNTS) == expected
    assert expected[0] == {"minor": "1250"}
    assert expected[2] == {"error": "12.505 has more decimals than USD allows (2)."}
    assert expected[7] == {"minor": "1250"}  # JPY has no minor unit
    assert expected[10] == {"minor": "1250"}  # KWD has three


TYPED_MINIMUMS = [
    ("12.50", ["USD"]),
    ("12.50", [" usd "]),
    ("1250", ["JPY"]),
    ("12.50", []),
    ("12.50", ["USD", "EUR"]),
    ("12.50", ["XXQ"]),
    ("-1", ["EUR"]),
    ("12.505", ["USD"]),
    ("twelve", ["USD"]),
    ("0", ["KWD"]),
]


def test_a_typed_minimum_reads_the_same_on_server_and_in_js():
    from payflow.currencies import parse_minimum

    expected = python_cases(parse_minimum, TYPED_MINIMUMS)
    assert js_cases("parseMinimum", TYPED_MINIMUMS) == expected
    assert expected[:3] == [{"minor": "1250"}] * 3
    assert expected[3] == expected[4]
    assert expected[3] == {"error": "12.50 needs exactly one currency to be read in; choose one."}
    assert expected[5] == {"error": "XXQ is not a currency PayFlow knows."}
    assert expected[6] == {"error": "-1 is below zero; a minimum is 0 or more."}
