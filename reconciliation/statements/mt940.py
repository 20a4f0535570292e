"""SWIFT MT940 (customer statement), parsed with the ``mt-940`` package.

The package splits the tags and reads balances and ``:61:`` statement lines; this module adds
what it leaves to the caller: exactly one statement per file, the sign of reversals (``RC`` is a
reversal of a credit, so a debit; ``RD`` a reversal of a debit, so a credit), references from the
SEPA ``:86:`` subfields (``/EREF/``, ``/RTRN/``), and the source line of each entry for messages.
"""

from __future__ import annotations

import datetime as dt
import re

import mt940

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

EREF = re.compile(r"/EREF/([^/\r\n]+)")
RTRN = re.compile(r"/RTRN/([A-Z0-9]{2,4})")
ACH_RETURN = re.compile(r"\b(R\d{2})\b")
TAG = re.compile(r"^:(\d\d[A-Z]?):", re.MULTILINE)


def looks_like(data: bytes) -> bool:
    head = data[:4096]
    return (b":20:" in head or head.lstrip().startswith(b"{1:")) and b":60" in head


def _tag_lines(text: str, tag: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1 for m in TAG.finditer(text) if m.group(1) == tag]


def _date(value) -> dt.date | None:
    return dt.date(value.year, value.month, value.day) if value else None


def parse(data: bytes) -> ParsedStatement:
    text = decode_text(data).replace("\r\n", "\n")
    for required, name in (
        ("20", "transaction reference"),
        ("25", "account"),
        ("62F", "closing balance"),
    ):
        if required not in {m.group(1) for m in TAG.finditer(text)}:
            raise StatementInvalid(f"no :{required}: ({name}) tag.", location=f":{required}:")
    if sum(1 for m in TAG.finditer(text) if m.group(1) == "20") != 1:
        raise StatementInvalid(
            "more than one :20: statement; send one statement per file.", location=":20:"
        )
    line_numbers = _tag_lines(text, "61")
    try:
        parsed = mt940.parse(text)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise StatementInvalid(f"not a valid MT940 statement ({exc}).", location="MT940") from None
    data_ = parsed.data
    opening = data_.get("final_opening_balance") or data_.get("intermediate_opening_balance")
    closing = data_.get("final_closing_balance")
    if opening is None:
        raise StatementInvalid("no :60F: or :60M: opening balance.", location=":60F:")
    if closing is None:
        raise StatementInvalid("the :62F: closing balance does not parse.", location=":62F:")
    currency = check_currency(opening.amount.currency, ":60F:")
    check_currency(closing.amount.currency, ":62F:")
    if closing.amount.currency != currency:
        raise StatementInvalid("closing balance in another currency.", location=":62F:")
    if len(parsed.transactions) != len(line_numbers):
        raise StatementInvalid(
            f"{len(line_numbers)} :61: lines but {len(parsed.transactions)} entries parsed; "
            "a :61: line is malformed.",
            location=":61:",
        )
    lines = []
    for position, (transaction, number) in enumerate(
        zip(parsed.transactions, line_numbers, strict=True), start=1
    ):
        location = f"line {number} (:61: #{position})"
        tx = transaction.data
        status = tx.get("status") or ""
        if status not in ("C", "D", "RC", "RD"):
            raise StatementInvalid(
                f"debit/credit mark {status!r} is not C, D, RC or RD.", location=location
            )
        direction = CREDIT if status in ("C", "RD") else DEBIT
        amount = abs(to_minor(tx["amount"].amount, currency, location))
        details = " ".join(
            str(tx.get(k) or "") for k in ("extra_details", "transaction_details")
        ).strip()
        eref = EREF.search(details)
        reason_match = RTRN.search(details) or (
            ACH_RETURN.search(details) if direction == CREDIT else None
        )
        reason = reason_match.group(1) if reason_match else ("RD" if status == "RD" else "")
        customer_reference = (tx.get("customer_reference") or "").strip()
        if customer_reference == "NONREF":
            customer_reference = ""
        lines.append(
            StatementLine(
                index=position,
                direction=direction,
                amount=positive(amount, location),
                currency=currency,
                booking_date=_date(tx.get("entry_date")),
                value_date=_date(tx.get("date")),
                end_to_end_id=eref.group(1).strip() if eref else customer_reference,
                customer_reference=customer_reference,
                bank_reference=(tx.get("bank_reference") or "").strip(),
                references=(),
                details=details,
                return_reason=reason if direction == CREDIT else "",
                location=location,
            )
        )
    statement = ParsedStatement(
        format="mt940",
        account=(data_.get("account_identification") or "").strip(),
        currency=currency,
        statement_id=(data_.get("transaction_reference") or "").strip()
        + (f"/{data_['statement_number']}" if data_.get("statement_number") else ""),
        opening_balance=to_minor(opening.amount.amount, currency, ":60F:"),
        closing_balance=to_minor(closing.amount.amount, currency, ":62F:"),
        opening_date=_date(opening.date),
        closing_date=_date(closing.date),
        lines=lines,
    )
    closing_line = _tag_lines(text, "62F")
    return check_balances(statement, closing_location=f"line {closing_line[0]} (:62F:)")
