"""Statement parsers: each format normalised into one line shape; bad files refused whole."""

import datetime as dt
from pathlib import Path

import pytest

from reconciliation.statements import StatementInvalid, detect_format, parse_statement
from reconciliation.statements import camt053 as camt053_parser
from tests.reconciliation.builders import BUILDERS, Entry, bai2, camt053, csv, mt940

SAMPLES = Path(__file__).parent / "samples"
ENTRIES = [
    Entry("debit", "150.25", "poi_aaaaaaaaaaaaaaaaaaaa", value_date=dt.date(2026, 12, 1)),
    Entry("credit", "10.00", "poi_bbbbbbbbbbbbbbbbbbbb", reason="AC04"),
]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_format_normalises_into_the_same_lines(name):
    statement = parse_statement(BUILDERS[name](ENTRIES))

    assert statement.format == name
    assert statement.opening_balance == 1_000_000
    assert statement.closing_balance == 1_000_000 - 15025 + 1000
    debit, credit = statement.lines
    assert (debit.direction, debit.amount, debit.end_to_end_id) == (
        "debit",
        15025,
        "poi_aaaaaaaaaaaaaaaaaaaa",
    )
    assert debit.value_date == dt.date(2026, 12, 1)
    assert debit.return_reason == ""
    assert (credit.direction, credit.amount) == ("credit", 1000)
    assert credit.return_reason == ("BAI257" if name == "bai2" else "AC04")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_format_is_detected(name):
    assert detect_format(BUILDERS[name](ENTRIES)) == name


@pytest.mark.parametrize("version", ["02", "08"])
def test_camt053_versions_02_and_08_read_alike(version):
    statement = parse_statement(camt053(ENTRIES, version=version), "camt053")
    assert [line.amount for line in statement.lines] == [15025, 1000]
    assert statement.account == "DE89370400440532013000"
    assert statement.statement_id == "STMT-1"


def test_amounts_use_the_currency_exponent():
    jpy = parse_statement(csv([Entry("debit", "7756")], currency="JPY", opening="100000"))
    kwd = parse_statement(camt053([Entry("debit", "1.250")], currency="KWD", opening="10.000"))
    assert jpy.lines[0].amount == 7756
    assert kwd.lines[0].amount == 1250
    assert kwd.opening_balance == 10000


def test_more_decimals_than_the_currency_has_is_refused_naming_the_element():
    with pytest.raises(StatementInvalid, match=r"Ntry\[1\]/Amt"):
        parse_statement(
            camt053([Entry("debit", "10.5")], currency="JPY", opening="100", closing="90")
        )


@pytest.mark.parametrize("name", ["camt053", "mt940", "csv"])
def test_wrong_closing_balance_is_refused_naming_where(name):
    data = BUILDERS[name](ENTRIES, closing="9999.99")
    with pytest.raises(StatementInvalid, match="balances do not add up") as info:
        parse_statement(data)
    assert info.value.status == 422
    assert info.value.extra["location"]
    assert info.value.body()["fields"]["file"]


def test_bai2_wrong_closing_ledger_is_refused_naming_the_record():
    with pytest.raises(StatementInvalid, match=r"line 3 \(03\).*do not add up"):
        parse_statement(bai2(ENTRIES, closing=1))


@pytest.mark.parametrize(
    ("name", "where"),
    [("camt053", "Ccy"), ("mt940", ":60F:"), ("csv", "line 2, currency")],
)
def test_unknown_currency_is_refused(name, where):
    with pytest.raises(StatementInvalid, match="unknown currency") as info:
        parse_statement(BUILDERS[name](ENTRIES, currency="XXZ"))
    assert where in info.value.message


def test_bai2_unknown_currency_is_refused():
    with pytest.raises(StatementInvalid, match="unknown currency 'XXZ'"):
        parse_statement(bai2(ENTRIES, currency="XXZ"))


@pytest.mark.parametrize(
    "data",
    [
        b"<Document><BkToCstmrStmt>",  # not well-formed
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>',
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&e;</Document>',
    ],
)
def test_malformed_or_dangerous_xml_is_refused(data):
    with pytest.raises(StatementInvalid):
        parse_statement(data, "camt053")


def test_camt_with_two_statements_is_refused():
    one = camt053(ENTRIES)
    stmt = one[one.index(b"<Stmt>") : one.index(b"</BkToCstmrStmt>")]
    two = one.replace(b"</BkToCstmrStmt>", stmt + b"</BkToCstmrStmt>")
    with pytest.raises(StatementInvalid, match="exactly one Stmt, found 2"):
        parse_statement(two)


def test_camt_entry_in_another_currency_is_refused():
    data = camt053(ENTRIES).replace(b'<Amt Ccy="EUR">150.25', b'<Amt Ccy="USD">150.25')
    with pytest.raises(StatementInvalid, match=r"Stmt/Ntry\[1\]/Amt"):
        parse_statement(data)


def test_camt_pending_entries_are_not_lines():
    data = camt053(ENTRIES, closing="10010.00").replace(
        b"<Sts><Cd>BOOK</Cd></Sts>", b"<Sts><Cd>PDNG</Cd></Sts>", 1
    )
    assert [line.amount for line in parse_statement(data).lines] == [1000]


def test_camt_without_closing_balance_is_refused():
    data = camt053(ENTRIES).replace(b"CLBD", b"ITBD")
    with pytest.raises(StatementInvalid, match="CLBD"):
        parse_statement(data)


def test_camt_bad_indicator_is_named():
    data = camt053(ENTRIES).replace(
        b"<CdtDbtInd>DBIT</CdtDbtInd><Sts>", b"<CdtDbtInd>X</CdtDbtInd><Sts>"
    )
    with pytest.raises(StatementInvalid, match=r"Stmt/Ntry\[1\]/CdtDbtInd"):
        parse_statement(data)


def test_mt940_missing_closing_tag_is_refused():
    data = mt940(ENTRIES).replace(b":62F:", b":99X:")
    with pytest.raises(StatementInvalid, match=":62F:"):
        parse_statement(data, "mt940")


def test_mt940_reversal_of_credit_is_a_debit():
    data = mt940([Entry("debit", "5.00")]).replace(b"D5,00", b"RC5,00")
    assert parse_statement(data).lines[0].direction == "debit"


def test_bai2_bad_control_total_is_refused():
    data = bai2(ENTRIES).replace(b"49,", b"49,1")
    with pytest.raises(StatementInvalid, match="BAI2"):
        parse_statement(data)


def test_csv_bad_date_is_named():
    data = csv(ENTRIES).replace(b"2026-12-01", b"01/12/2026")
    with pytest.raises(StatementInvalid, match=r"line 3, value_date"):
        parse_statement(data)


def test_csv_unknown_type_is_named():
    data = csv(ENTRIES).replace(b"\ndebit,", b"\nrefund,")
    with pytest.raises(StatementInvalid, match=r"line 3, type"):
        parse_statement(data)


@pytest.mark.parametrize("data", [b"", b"   ", b"hello world"])
def test_empty_or_unrecognised_files_are_refused(data):
    with pytest.raises(StatementInvalid):
        parse_statement(data)


def test_unknown_format_name_is_refused_on_the_format_field():
    with pytest.raises(StatementInvalid) as info:
        parse_statement(csv(ENTRIES), "ofx")
    assert "format" in info.value.fields


# Real-world samples (tests/reconciliation/samples/README.md names their sources and licences).


def test_real_camt053_swiss_sample():
    statement = parse_statement((SAMPLES / "oca-camt053-001.04-chf.xml").read_bytes())
    assert (statement.format, statement.currency) == ("camt053", "CHF")
    assert statement.account == "CH1111000000123456789"
    assert statement.opening_balance == 7596015
    assert statement.closing_balance == 7944315
    assert statement.lines[0].amount == 348300


def test_real_camt053_sample_with_unbalanced_totals_is_refused():
    with pytest.raises(StatementInvalid, match=r"Stmt/Bal\[2\] \(CLBD\)"):
        parse_statement((SAMPLES / "oca-camt053-001.02-unbalanced.xml").read_bytes())


def test_real_mt940_ing_sample():
    statement = parse_statement((SAMPLES / "oca-ing-ro.mt940").read_bytes())
    assert (statement.format, statement.currency) == ("mt940", "RON")
    assert (statement.opening_balance, statement.closing_balance) == (100000, 200000)
    assert statement.lines[0].bank_reference == "RE20200211-7523"


@pytest.mark.parametrize(
    ("name", "currency", "lines"),
    [("bai2pkg-svb-us.bai2", "USD", 2), ("bai2pkg-nwb.bai2", "GBP", 5)],
)
def test_real_bai2_samples(name, currency, lines):
    statement = parse_statement((SAMPLES / name).read_bytes())
    assert statement.currency == currency
    assert len(statement.lines) == lines


def test_real_bai2_sample_with_unbalanced_ledger_is_refused():
    with pytest.raises(StatementInvalid, match="do not add up"):
        parse_statement((SAMPLES / "bai2pkg-citi-unbalanced.bai2").read_bytes())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_nul_byte_anywhere_is_refused_naming_its_line(name):
    data = BUILDERS[name](ENTRIES)
    at = data.index(b"poi_bbbb")
    line = data.count(b"\n", 0, at) + 1
    data = data.replace(b"poi_bbbb", b"poi_\x00bbb", 1)

    with pytest.raises(StatementInvalid, match=rf"line {line}: .*NUL") as info:
        parse_statement(data)
    assert info.value.extra["location"] == f"line {line}"


def test_reading_a_camt053_keeps_no_entry_in_the_document_tree():
    """Each entry is dropped from its Stmt once read, so a long file never builds a tree."""
    entries = [Entry("debit", "1.00", f"poi_{n:020d}") for n in range(300)]
    reader = camt053_parser._entries(camt053(entries))
    lines = 0
    while True:
        try:
            next(reader)
            lines += 1
        except StopIteration as done:
            _doc, (stmt,), _root = done.value
            break
    assert lines == 300
    assert not [child for child in stmt if child.tag.endswith("}Ntry")]
