"""PayFlow's documented CSV statement (docs/reconciliation.md describes its columns).

One header row, then one row per record: ``type`` is ``opening`` (exactly one, first), ``credit``
or ``debit`` (the entries) and ``closing`` (exactly one, last). Amounts are in major units with
at most the currency's decimals ("12.50" USD, "1250" JPY); balances may be negative.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from reconciliation.statements.base import (
    CREDIT,
    DEBIT,
    ParsedStatement,
    StatementInvalid,
    StatementLine,
    check_balances,
    check_currency,
    decode_text,
    positive,
    to_minor,
)

COLUMNS = (
    "type",
    "account",
    "currency",
    "statement_id",
    "booking_date",
    "value_date",
    "amount",
    "end_to_end_id",
    "reference",
    "bank_reference",
    "return_reason",
    "description",
)
REQUIRED = ("type", "account", "currency", "statement_id", "amount")


def looks_like(data: bytes) -> bool:
    first = data[:512].split(b"\n", 1)[0].lower()
    return b"type" in first and b"amount" in first and b"," in first


def _date(value: str, location: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise StatementInvalid(
            f"{value!r} is not a date (YYYY-MM-DD).", location=location
        ) from None


def parse(data: bytes) -> ParsedStatement:
    reader = csv.DictReader(io.StringIO(decode_text(data)))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise StatementInvalid(f"missing column(s): {', '.join(missing)}.", location="line 1")
    reader.fieldnames = header
    opening = closing = None
    account = currency = statement_id = ""
    lines: list[StatementLine] = []
    for row in reader:
        number = reader.line_num
        location = f"line {number}"
        row = {k: (v or "").strip() for k, v in row.items() if k}
        kind = row.get("type", "").lower()
        code = check_currency(row.get("currency"), f"{location}, currency")
        if currency and code != currency:
            raise StatementInvalid(f"{code} row on a {currency} statement.", location=location)
        currency = code
        for name, current in (("account", account), ("statement_id", statement_id)):
            if current and row.get(name) != current:
                raise StatementInvalid(f"{name} differs from the opening row.", location=location)
        account, statement_id = row.get("account", ""), row.get("statement_id", "")
        amount = to_minor(row.get("amount", ""), currency, f"{location}, amount")
        if closing is not None:
            raise StatementInvalid("rows after the closing balance.", location=location)
        if kind == "opening":
            if opening is not None or lines:
                raise StatementInvalid("the opening row must come first, once.", location=location)
            opening = (amount, _date(row.get("booking_date"), location))
        elif kind == "closing":
            if opening is None:
                raise StatementInvalid("closing row before the opening row.", location=location)
            closing = (amount, _date(row.get("booking_date"), location), location)
        elif kind in (CREDIT, DEBIT):
            if opening is None:
                raise StatementInvalid("entry before the opening row.", location=location)
            lines.append(
                StatementLine(
                    index=len(lines) + 1,
                    direction=kind,
                    amount=positive(amount, f"{location}, amount"),
                    currency=currency,
                    booking_date=_date(row.get("booking_date"), f"{location}, booking_date"),
                    value_date=_date(row.get("value_date"), f"{location}, value_date"),
                    end_to_end_id=row.get("end_to_end_id", ""),
                    customer_reference=row.get("reference", ""),
                    bank_reference=row.get("bank_reference", ""),
                    details=row.get("description", ""),
                    return_reason=row.get("return_reason", "") if kind == CREDIT else "",
                    location=location,
                )
            )
        else:
            raise StatementInvalid(
                f"type {kind!r} is not opening, credit, debit or closing.",
                location=f"{location}, type",
            )
    if opening is None or closing is None:
        raise StatementInvalid("a statement needs one opening and one closing row.", location="CSV")
    statement = ParsedStatement(
        format="csv",
        account=account,
        currency=currency,
        statement_id=statement_id,
        opening_balance=opening[0],
        closing_balance=closing[0],
        opening_date=opening[1],
        closing_date=closing[1],
        lines=lines,
    )
    return check_balances(statement, closing_location=closing[2])
