"""The demo bank statements (seed_demo, simulate payouts) parse, add up and import with
matches, exceptions and returns, in both formats they are written in."""

import dataclasses
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from django.core.management import call_command

from payouts.demo import seed_demo_data
from reconciliation import demo, services
from reconciliation.models import ExceptionReason, Match, MatchOutcome, ReconciliationException
from reconciliation.statements import (
    ParsedStatement,
    StatementInvalid,
    StatementLine,
    parse_statement,
    writers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_payouts(operator):
    seed_demo_data(users={"operator": operator}, rng=random.Random(3), stdout=io.StringIO())


def _import(data: bytes, actor):
    return services.statement_import(data=data, actor=actor)


def test_each_statement_is_written_the_same_in_camt053_and_mt940(demo_payouts):
    made = demo.demo_statements()
    assert {m.currency for m in made} >= {"USD", "EUR"}
    for statement in made:
        parsed = {name: parse_statement(data) for name, data in statement.files.items()}
        camt, mt = (parsed[n] for n in sorted(parsed))  # .camt053.xml sorts before .mt940
        assert (camt.format, mt.format) == ("camt053", "mt940")
        assert camt.statement_id == mt.statement_id == statement.statement.statement_id
        assert camt.closing_balance == mt.closing_balance == statement.statement.closing_balance
        shape = lambda s: [  # noqa: E731
            (x.direction, x.amount, x.end_to_end_id, x.return_reason, x.value_date) for x in s.lines
        ]
        assert shape(camt) == shape(mt) == shape(statement.statement)


@pytest.mark.parametrize(
    ("currency", "suffix", "reason"), [("USD", ".camt053.xml", "R03"), ("EUR", ".mt940", "AC04")]
)
def test_a_demo_statement_imports_with_a_match_an_exception_and_a_return(
    demo_payouts, operator, currency, suffix, reason
):
    statement = next(m for m in demo.demo_statements() if m.currency == currency)
    data = next(d for name, d in statement.files.items() if name.endswith(suffix))
    result = _import(data, operator)
    imported = result.statement
    assert not result.duplicate
    assert imported.line_count == len(statement.statement.lines)
    assert imported.matched_count >= 2
    outcomes = set(
        Match.objects.filter(line__statement=imported).values_list("outcome", "reason_code")
    )
    assert (MatchOutcome.SETTLED, "") in outcomes
    assert (MatchOutcome.RETURNED, reason) in outcomes
    reasons = set(
        ReconciliationException.objects.filter(statement=imported).values_list("reason", flat=True)
    )
    assert {ExceptionReason.AMOUNT_MISMATCH, ExceptionReason.UNMATCHED_LINE} <= reasons
    # The same statement in the other format is the same statement: nothing changes.
    other = next(d for name, d in statement.files.items() if not name.endswith(suffix))
    assert _import(other, operator).duplicate


def test_seed_demo_writes_the_statements_and_says_where(operator, tmp_path, settings):
    settings.PAYFLOW_DEMO_PASSWORD = "a-test-password"
    demo.DEMO_STATEMENTS_DIR.mkdir(parents=True)
    stale = demo.DEMO_STATEMENTS_DIR / "2020-01-02-USD.mt940"
    stale.write_bytes(b"an earlier run's statement")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert not stale.exists()
    written = sorted(demo.DEMO_STATEMENTS_DIR.iterdir())
    assert {p.suffix for p in written} == {".xml", ".mt940"}
    assert str(demo.DEMO_STATEMENTS_DIR) in out.getvalue()
    for path in written:
        parse_statement(path.read_bytes())  # balances add up, or this raises


def test_simulate_payouts_writes_statements_of_its_batches_that_import(operator, tmp_path):
    out = io.StringIO()
    directory = tmp_path / "simulated"
    call_command(
        "simulate",
        "payouts",
        "--batches",
        "12",
        "--seed",
        "4",
        "--failure-rate",
        "0.2",
        "--statements-dir",
        str(directory),
        "--quiet",
        stdout=out,
    )
    written = sorted(Path(directory).glob("*.camt053.xml"))
    assert written
    for path in written:
        result = _import(path.read_bytes(), operator)
        assert result.statement.matched_count >= 1
        assert result.statement.exception_count >= 1


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_the_writers_use_the_currency_exponent_and_round_trip(currency):
    day = dt.date(2026, 12, 2)
    lines = [
        StatementLine(1, "debit", 150_025, currency, day, day, "poi_0a1b2c3d4e5f60718293"),
        StatementLine(
            2, "credit", 2_000, currency, day, day, "poi_99aa88bb77cc66dd55ee", return_reason="AC04"
        ),
    ]
    statement = ParsedStatement(
        "",
        "PAYFLOW-DEMO-0001",
        currency,
        "D26120201050001/00001",
        1_000_000,
        1_000_000 - 150_025 + 2_000,
        day,
        day,
        lines,
    )
    for data in (
        writers.camt053(statement, created_at=dt.datetime(2026, 12, 2, 18, tzinfo=dt.UTC)),
        writers.mt940(statement),
    ):
        parsed = parse_statement(data)
        assert [(x.amount, x.end_to_end_id, x.return_reason) for x in parsed.lines] == [
            (150_025, "poi_0a1b2c3d4e5f60718293", ""),
            (2_000, "poi_99aa88bb77cc66dd55ee", "AC04"),
        ]
        assert parsed.closing_balance == statement.closing_balance


def test_the_writers_refuse_a_statement_whose_balances_do_not_add_up():
    balanced = _one_line_statement()
    statement = dataclasses.replace(balanced, closing_balance=balanced.closing_balance + 1)
    with pytest.raises(StatementInvalid, match="balances do not add up"):
        writers.camt053(statement, created_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    with pytest.raises(StatementInvalid, match="balances do not add up"):
        writers.mt940(statement)


def _one_line_statement() -> ParsedStatement:
    day = dt.date(2026, 12, 2)
    line = StatementLine(1, "debit", 500, "EUR", day, day, "poi_0a1b2c3d4e5f60718293")
    return ParsedStatement(
        "", "DE89370400440532013000", "EUR", "S1/00001", 1000, 500, day, day, [line]
    )
