"""Statement writers: a ``ParsedStatement`` back into camt.053.001.08 or MT940 bytes.

They exist for demo and test files, so they follow the same rules the parsers enforce: amounts
in the currency's own number of decimals (ISO 4217 exponent), one statement per file, an opening
and a closing balance that the entries add up to. Writing a statement whose balances do not add
up is refused here, before a file that would be refused on import is produced.
"""

from __future__ import annotations

import datetime as dt
from xml.etree.ElementTree import Element, SubElement, tostring

from payflow.currencies import major_text
from reconciliation.statements.base import CREDIT, ParsedStatement, check_balances

CAMT053_VERSION = "08"
CAMT053_NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{CAMT053_VERSION}"
MT940_REFERENCE_MAX = 16  # :20: and the :61: customer reference are 16x


def _checked(statement: ParsedStatement) -> ParsedStatement:
    return check_balances(statement, closing_location="closing balance")


def _text(parent: Element, tag: str, value: str, **attrs) -> Element:
    child = SubElement(parent, tag, attrs)
    child.text = value
    return child


def _date(parent: Element, tag: str, day: dt.date) -> None:
    _text(SubElement(parent, tag), "Dt", day.isoformat())


def _camt_balance(stmt: Element, code: str, amount: int, currency: str, day) -> None:
    bal = SubElement(stmt, "Bal")
    _text(SubElement(SubElement(bal, "Tp"), "CdOrPrtry"), "Cd", code)
    _text(bal, "Amt", major_text(abs(amount), currency), Ccy=currency)
    _text(bal, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
    if day is not None:
        _date(bal, "Dt", day)


def camt053(statement: ParsedStatement, *, created_at: dt.datetime) -> bytes:
    """An ISO 20022 camt.053.001.08 document with one ``Stmt``; each line is a booked ``Ntry``."""
    statement = _checked(statement)
    currency = statement.currency
    document = Element("Document", xmlns=CAMT053_NAMESPACE)
    report = SubElement(document, "BkToCstmrStmt")
    header = SubElement(report, "GrpHdr")
    _text(header, "MsgId", f"MSG-{statement.statement_id}"[:35])
    _text(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    stmt = SubElement(report, "Stmt")
    _text(stmt, "Id", statement.statement_id)
    _text(stmt, "CreDtTm", created_at.isoformat(timespec="seconds"))
    account = SubElement(stmt, "Acct")
    account_id = SubElement(account, "Id")
    if statement.account[:2].isalpha() and statement.account[2:4].isdigit():
        _text(account_id, "IBAN", statement.account)
    else:
        _text(SubElement(account_id, "Othr"), "Id", statement.account)
    _text(account, "Ccy", currency)
    _camt_balance(stmt, "OPBD", statement.opening_balance, currency, statement.opening_date)
    _camt_balance(stmt, "CLBD", statement.closing_balance, currency, statement.closing_date)
    for line in statement.lines:
        entry = SubElement(stmt, "Ntry")
        if line.customer_reference:
            _text(entry, "NtryRef", line.customer_reference)
        _text(entry, "Amt", major_text(abs(line.amount), currency), Ccy=currency)
        _text(entry, "CdtDbtInd", "CRDT" if line.direction == CREDIT else "DBIT")
        _text(SubElement(entry, "Sts"), "Cd", "BOOK")
        if line.booking_date:
            _date(entry, "BookgDt", line.booking_date)
        if line.value_date:
            _date(entry, "ValDt", line.value_date)
        if line.bank_reference:
            _text(entry, "AcctSvcrRef", line.bank_reference)
        code = SubElement(SubElement(entry, "BkTxCd"), "Prtry")
        _text(code, "Cd", "RTRN" if line.return_reason else "NTRF")
        details = SubElement(SubElement(entry, "NtryDtls"), "TxDtls")
        _text(SubElement(details, "Refs"), "EndToEndId", line.end_to_end_id or "NOTPROVIDED")
        if line.details:
            _text(SubElement(details, "RmtInf"), "Ustrd", line.details[:140])
        if line.return_reason:
            _text(SubElement(SubElement(details, "RtrInf"), "Rsn"), "Cd", line.return_reason)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(document, encoding="utf-8")


def _mt940_amount(minor: int, currency: str) -> str:
    # MT940 always writes the decimal comma, even for a currency without decimals ("1234,").
    text = major_text(abs(minor), currency)
    return text.replace(".", ",") if "." in text else text + ","


def _mt940_balance(tag: str, amount: int, currency: str, day: dt.date) -> str:
    mark = "C" if amount >= 0 else "D"
    return f":{tag}:{mark}{day:%y%m%d}{currency}{_mt940_amount(amount, currency)}"


def mt940(statement: ParsedStatement, *, statement_number: str = "00001") -> bytes:
    """A SWIFT MT940 message (block 4 only) whose ``:20:``/``:28C:`` give the statement id
    ``<reference>/<number>``: pass a ``statement_id`` of that form."""
    statement = _checked(statement)
    reference, _, number = statement.statement_id.partition("/")
    if len(reference) > MT940_REFERENCE_MAX:
        raise ValueError(f"an MT940 :20: reference is at most 16 characters: {reference!r}")
    currency = statement.currency
    opening_date = statement.opening_date or statement.closing_date
    closing_date = statement.closing_date or opening_date
    if opening_date is None:
        raise ValueError("an MT940 statement needs its balance dates.")
    rows = [
        f":20:{reference}",
        f":25:{statement.account}",
        f":28C:{number or statement_number}",
        _mt940_balance("60F", statement.opening_balance, currency, opening_date),
    ]
    for line in statement.lines:
        value_date = line.value_date or line.booking_date or closing_date
        booking = line.booking_date or value_date
        mark = "C" if line.direction == CREDIT else "D"
        customer_reference = (line.customer_reference or "NONREF")[:MT940_REFERENCE_MAX]
        bank_reference = f"//{line.bank_reference[:16]}" if line.bank_reference else ""
        rows.append(
            f":61:{value_date:%y%m%d}{booking:%m%d}{mark}{_mt940_amount(line.amount, currency)}"
            f"NTRF{customer_reference}{bank_reference}"
        )
        # One subfield per 65-character row, so an id is never split across rows.
        info = [f"/EREF/{line.end_to_end_id}"] if line.end_to_end_id else []
        if line.return_reason:
            info.append(f"/RTRN/{line.return_reason}")
        if line.details:
            info.append(f"/REMI/{line.details.replace('/', ' ')[:59]}")
        rows.append(":86:" + "\r\n".join(info or ["/REMI/NOTPROVIDED"]))
    rows.append(_mt940_balance("62F", statement.closing_balance, currency, closing_date))
    return ("\r\n".join(rows) + "\r\n-\r\n").encode()


WRITERS = {"camt053": camt053, "mt940": mt940}
