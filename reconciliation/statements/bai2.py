"""BAI2 (Cash Management Balance Reporting, version 2), parsed with the ``bai2`` package.

The package checks record structure and control totals (its own integrity checks); this module
adds the ledger check per account record (010 opening + 16 details = 015 closing), refuses a file
that reports more than one account, and chains several days of one account (each 03 record's
opening must be the previous closing). BAI2 amounts carry no decimal point: they are minor units
of the currency already. A credit detail whose type code is a return (257, 266, ...) is a return;
its reason is the ACH R-code in the text when there is one, else ``BAI<type code>``.
"""

from __future__ import annotations

import re

from bai2 import bai2 as bai2_lib
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

from reconciliation.statements.base import (
    CREDIT,
    DEBIT,
    ParsedStatement,
    StatementInvalid,
    StatementLine,
    check_currency,
    decode_text,
    positive,
)

OPENING_LEDGER = "010"
CLOSING_LEDGER = "015"
RETURN_TYPE_CODES = {"123", "168", "257", "266", "268"}
ACH_RETURN = re.compile(r"\b(R\d{2})\b")


def looks_like(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"01,")


def _summary(account, code: str):
    for item in account.header.summary_items:
        if item.type_code.code == code and item.amount is not None:
            return item.amount
    return None


def parse(data: bytes) -> ParsedStatement:
    text = decode_text(data)
    physical = [
        (number, row.strip()) for number, row in enumerate(text.splitlines(), 1) if row.strip()
    ]
    detail_rows = [number for number, row in physical if row.startswith("16,")]
    account_rows = [number for number, row in physical if row.startswith("03,")]
    try:
        parsed = bai2_lib.parse_from_string(text, check_integrity=True)
    except (ParsingException, IntegrityException, NotSupportedYetException) as exc:
        raise StatementInvalid(f"not a valid BAI2 file ({exc}).", location="BAI2") from None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise StatementInvalid(f"not a valid BAI2 file ({exc!r}).", location="BAI2") from None
    accounts = [(group, account) for group in parsed.children for account in group.children]
    if not accounts:
        raise StatementInvalid("the file reports no account.", location="BAI2")
    names = {account.header.customer_account_number for _g, account in accounts}
    if len(names) != 1:
        raise StatementInvalid(
            f"the file reports {len(names)} accounts; send one account per file.",
            location=f"line {account_rows[1]} (03)" if len(account_rows) > 1 else "03",
        )
    lines: list[StatementLine] = []
    currency = ""
    opening = closing = None
    opening_date = closing_date = None
    detail_index = 0
    for position, (group, account) in enumerate(accounts):
        record = f"line {account_rows[position]} (03)"
        code = check_currency(account.header.currency or group.header.currency, record)
        if currency and code != currency:
            raise StatementInvalid("account records in different currencies.", location=record)
        currency = code
        day_open = _summary(account, OPENING_LEDGER)
        day_close = _summary(account, CLOSING_LEDGER)
        if day_open is None or day_close is None:
            raise StatementInvalid(
                "an account record needs opening ledger (010) and closing ledger (015).",
                location=record,
            )
        if closing is not None and day_open != closing:
            raise StatementInvalid(
                f"opening ledger {day_open} does not continue the previous closing {closing}.",
                location=record,
            )
        total = day_open
        for transaction in account.children:
            row = detail_rows[detail_index] if detail_index < len(detail_rows) else 0
            detail_index += 1
            location = f"line {row} (16 type {transaction.type_code.code})"
            kind = transaction.type_code.transaction
            if kind is None or kind.value not in ("credit", "debit"):
                raise StatementInvalid(
                    "type code is neither a credit nor a debit.", location=location
                )
            direction = CREDIT if kind.value == "credit" else DEBIT
            amount = positive(int(transaction.amount or 0), location)
            total += amount if direction == CREDIT else -amount
            text_ = (transaction.text or "").strip()
            reason = ""
            if direction == CREDIT and transaction.type_code.code in RETURN_TYPE_CODES:
                found = ACH_RETURN.search(text_)
                reason = found.group(1) if found else f"BAI{transaction.type_code.code}"
            value_date = None
            if isinstance(transaction.availability, dict) and transaction.availability.get("date"):
                value_date = transaction.availability["date"]
            customer_reference = (transaction.customer_reference or "").strip()
            lines.append(
                StatementLine(
                    index=len(lines) + 1,
                    direction=direction,
                    amount=amount,
                    currency=currency,
                    booking_date=group.header.as_of_date,
                    value_date=value_date or group.header.as_of_date,
                    end_to_end_id=customer_reference,
                    customer_reference=customer_reference,
                    bank_reference=(transaction.bank_reference or "").strip(),
                    details=text_,
                    return_reason=reason,
                    location=location,
                )
            )
        if total != day_close:
            raise StatementInvalid(
                f"balances do not add up: opening ledger {day_open} plus entries "
                f"{total - day_open} is {total}, but the closing ledger (015) is {day_close} "
                "(minor units).",
                location=record,
            )
        if opening is None:
            opening, opening_date = day_open, group.header.as_of_date
        closing, closing_date = day_close, group.header.as_of_date
    header = parsed.header
    statement_id = "-".join(
        str(part) for part in (header.sender_id, header.creation_date.isoformat(), header.file_id)
    )
    return ParsedStatement(
        format="bai2",
        account=str(next(iter(names))).strip(),
        currency=currency,
        statement_id=statement_id,
        opening_balance=opening,
        closing_balance=closing,
        opening_date=opening_date,
        closing_date=closing_date,
        lines=lines,
    )
