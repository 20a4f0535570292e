"""ISO 20022 camt.053 (Bank-to-Customer Statement), versions 001.02 to 001.13.

Parsed with defusedxml's iterparse (no entities, no DTDs; streamed) and ElementTree with the
document's own namespace, so 001.02 and 001.08 — whose elements we read are the same, but
which differ in namespace and in ``Sts`` (a text in 02, ``Sts/Cd`` from 07 on) — share one path.
Each booked ``Ntry`` is one line; its ``TxDtls`` give the end-to-end id, references and, for a
return, ``RtrInf/Rsn/Cd``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from reconciliation.statements.base import (
    CREDIT,
    DEBIT,
    LineTotals,
    ParsedStatement,
    StatementInvalid,
    StatementLine,
    StreamedLines,
    check_balances,
    check_currency,
    positive,
    to_minor,
)

NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}Document$")
SUPPORTED_VERSIONS = range(2, 14)
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


def looks_like(data: bytes) -> bool:
    head = data[:2048]
    return b"camt.053.001." in head and b"<" in head


class _Doc:
    def __init__(self, ns: str):
        self.ns = ns
        self._paths: dict[str, list[str]] = {}
        self._cache: dict[Element, dict[str, Element]] = {}
        self.reference_tags = [
            f"{{{ns}}}{name}"
            for name in ("MsgId", "PmtInfId", "InstrId", "TxId", "AcctSvcrRef", "EndToEndId")
        ]

    def _tags(self, path: str) -> list[str]:
        tags = self._paths.get(path)
        if tags is None:
            tags = [f"{{{self.ns}}}{part}" for part in path.split("/")]
            self._paths[path] = tags
        return tags

    def findall(self, element: Element, path: str) -> list[Element]:
        """Children along ``path`` (plain tag names); a direct walk, cheaper than ElementPath."""
        found = [element]
        for tag in self._tags(path):
            found = [child for parent in found for child in parent if child.tag == tag]
            if not found:
                break
        return found

    def kids(self, element: Element) -> dict[str, Element]:
        """First child per tag, built once per element (cleared after each entry)."""
        children = self._cache.get(element)
        if children is None:
            children = {child.tag: child for child in reversed(element)}
            self._cache[element] = children
        return children

    def find(self, element: Element, path: str) -> Element | None:
        tags = self._paths.get(path) or self._tags(path)
        cache = self._cache
        current = element
        for tag in tags:
            children = cache.get(current)
            if children is None:
                children = {child.tag: child for child in reversed(current)}
                cache[current] = children
            current = children.get(tag)
            if current is None:
                return None
        return current

    def forget(self) -> None:
        self._cache.clear()

    def text(self, element: Element | None, path: str) -> str:
        if element is None:
            return ""
        found = self.find(element, path)
        if found is None or not found.text:
            return ""
        return found.text.strip()


def _date(doc: _Doc, element: Element | None, location: str) -> dt.date | None:
    if element is None:
        return None
    raw = doc.text(element, "Dt") or doc.text(element, "DtTm")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise StatementInvalid(f"{raw!r} is not a date.", location=location) from None


def _amount(doc: _Doc, element: Element, currency: str, location: str) -> tuple[int, str]:
    amt = doc.find(element, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise StatementInvalid("missing Amt.", location=location)
    ccy = check_currency(amt.get("Ccy"), f"{location}/Amt/@Ccy")
    if currency and ccy != currency:
        raise StatementInvalid(
            f"amount in {ccy} on a {currency} statement.", location=f"{location}/Amt"
        )
    return to_minor(amt.text, ccy, f"{location}/Amt"), ccy


def _sign(doc: _Doc, element: Element, location: str) -> int:
    indicator = doc.text(element, "CdtDbtInd")
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    raise StatementInvalid(
        f"CdtDbtInd must be CRDT or DBIT, not {indicator!r}.", location=f"{location}/CdtDbtInd"
    )


def _entry_line(
    doc: _Doc, entry: Element, position: int, index: int, *, details: bool = True
) -> StatementLine | None:
    """The booked entry as a line; ``details=False`` reads only what the checks need (amount,
    direction, dates), nothing of which can be wrong in the references and texts."""
    location = f"Stmt/Ntry[{position}]"
    status = doc.text(entry, "Sts") or doc.text(entry, "Sts/Cd")
    if status and status != "BOOK":
        return None  # pending or informational entries are not in the booked balance
    amount, currency = _amount(doc, entry, "", location)
    # A reversal (RvslInd true) still states the direction it was booked in: CdtDbtInd.
    sign = _sign(doc, entry, location)
    checked = {
        "index": index,
        "direction": CREDIT if sign > 0 else DEBIT,
        "amount": positive(amount, f"{location}/Amt"),
        "currency": currency,
        "booking_date": _date(doc, doc.find(entry, "BookgDt"), location),
        "value_date": _date(doc, doc.find(entry, "ValDt"), location),
        "location": location,
    }
    if not details:
        return StatementLine(**checked)
    end_to_end = ""
    references: list[str] = []
    texts: list[str] = []
    reason = ""
    for detail in doc.findall(entry, "NtryDtls/TxDtls"):
        end_to_end = end_to_end or doc.text(detail, "Refs/EndToEndId")
        refs = doc.find(detail, "Refs")
        if refs is not None:
            ref_children = doc.kids(refs)
            for tag in doc.reference_tags:
                found = ref_children.get(tag)
                value = (found.text or "").strip() if found is not None else ""
                if value and value != "NOTPROVIDED":
                    references.append(value)
        creditor_reference = doc.text(detail, "RmtInf/Strd/CdtrRefInf/Ref")
        if creditor_reference:
            references.append(creditor_reference)
        texts.extend((u.text or "").strip() for u in doc.findall(detail, "RmtInf/Ustrd") if u.text)
        reason = reason or doc.text(detail, "RtrInf/Rsn/Cd") or doc.text(detail, "RtrInf/Rsn/Prtry")
    if end_to_end == "NOTPROVIDED":
        end_to_end = ""
    if doc.text(entry, "AddtlNtryInf"):
        texts.append(doc.text(entry, "AddtlNtryInf"))
    return StatementLine(
        **checked,
        end_to_end_id=end_to_end,
        customer_reference=doc.text(entry, "NtryRef"),
        bank_reference=doc.text(entry, "AcctSvcrRef"),
        references=tuple(dict.fromkeys(references)),
        details=" ".join(texts),
        return_reason=reason,
    )


def _namespace(tag: str) -> str:
    return tag[1 : tag.index("}")] if tag.startswith("{") else ""


def _check_root(tag: str) -> None:
    match = NAMESPACE.match(tag)
    if not match or int(match.group(1)) not in SUPPORTED_VERSIONS:
        raise StatementInvalid(
            f"root element {tag!r} is not a camt.053.001.02-13 Document.", location="Document"
        )


def _entries(data: bytes, *, details: bool = True):
    """Stream the document (iterparse): yields each booked ``Ntry`` as a line, read and then
    cleared and dropped from its ``Stmt``, so memory never holds the XML tree nor the lines;
    returns what the statement-level checks need once the document has ended."""
    doc: _Doc | None = None
    ntry_tag = stmt_tag = ""
    statements: list[Element] = []
    current_stmt = None
    entry_position = 0
    booked = 0
    root = None
    try:
        for event, element in iterparse(io.BytesIO(data), events=("start", "end")):
            if doc is None:
                doc = _Doc(_namespace(element.tag))
                ntry_tag, stmt_tag = doc._tags("Ntry")[0], doc._tags("Stmt")[0]
                if not doc.ns.startswith("urn:iso:std:iso:20022:tech:xsd:camt.053.001."):
                    _check_root(f"{{{doc.ns}}}Document")
            tag = element.tag
            if event == "start":
                if tag == stmt_tag:
                    current_stmt = element
                continue
            root = element
            if tag == ntry_tag:
                entry_position += 1
                # The statement currency is checked once Stmt has ended (check_balances).
                line = _entry_line(doc, element, entry_position, booked + 1, details=details)
                doc.forget()
                element.clear()
                if current_stmt is not None:
                    # A short search: the entries before this one are gone already, and the
                    # parser runs at most one read (16 KiB) ahead.
                    current_stmt.remove(element)
                if line is not None:
                    booked += 1
                    yield line
            elif tag == stmt_tag:
                statements.append(element)
                current_stmt = None
    except ParseError as exc:
        raise StatementInvalid(f"not well-formed XML ({exc}).", location="camt.053") from None
    except DefusedXmlException:
        raise StatementInvalid(
            "the XML uses entities or a DTD, which statements never need.", location="camt.053"
        ) from None
    return doc, statements, root


def parse(data: bytes) -> ParsedStatement:
    """Reads and checks the whole file once, keeping only totals; the lines of the result are
    read from the file again on each pass (``StreamedLines``), so a statement of any size costs
    the memory of one entry at a time. Statement-level elements are read when ``Stmt`` ends
    (its entries are gone by then)."""
    entries = _entries(data, details=False)
    count = net = 0
    latest = None
    currencies: dict[str, str] = {}  # currency -> location of its first line
    while True:
        try:
            line = next(entries)
        except StopIteration as done:
            doc, statements, root = done.value
            break
        count += 1
        net += line.signed_amount
        for day in (line.booking_date, line.value_date):
            if day is not None and (latest is None or day > latest):
                latest = day
        currencies.setdefault(line.currency, line.location)
    if root is None:
        raise StatementInvalid("the XML is empty.", location="camt.053")
    _check_root(root.tag)
    if len(statements) != 1:
        raise StatementInvalid(
            f"expected exactly one Stmt, found {len(statements)}; send one statement per file.",
            location="BkToCstmrStmt",
        )
    stmt = statements[0]
    statement_id = doc.text(stmt, "Id")
    acct = doc.find(stmt, "Acct")
    account = doc.text(acct, "Id/IBAN") or doc.text(acct, "Id/Othr/Id")
    currency = doc.text(acct, "Ccy")
    balances: dict[str, tuple[int, dt.date | None, str]] = {}
    for position, bal in enumerate(doc.findall(stmt, "Bal"), start=1):
        code = doc.text(bal, "Tp/CdOrPrtry/Cd") or doc.text(bal, "Tp/CdOrPrtry/Prtry")
        location = f"Stmt/Bal[{position}] ({code or 'no type'})"
        amount, ccy = _amount(doc, bal, "", location)
        currency = currency or ccy
        if ccy != check_currency(currency, "Stmt/Acct/Ccy"):
            raise StatementInvalid(f"balance in {ccy} on a {currency} account.", location=location)
        balances.setdefault(
            code,
            (
                amount * _sign(doc, bal, location),
                _date(doc, doc.find(bal, "Dt"), location),
                location,
            ),
        )
    currency = check_currency(currency, "Stmt/Acct/Ccy")
    other = next(((c, where) for c, where in currencies.items() if c != currency), None)
    if other is not None:
        raise StatementInvalid(
            f"amount in {other[0]} on a {currency} statement.", location=f"{other[1]}/Amt"
        )
    opening = next((balances[c] for c in OPENING_CODES if c in balances), None)
    closing = next((balances[c] for c in CLOSING_CODES if c in balances), None)
    if opening is None or closing is None:
        raise StatementInvalid(
            "a statement needs an opening (OPBD or PRCD) and a closing (CLBD) balance.",
            location="Stmt/Bal",
        )
    statement = ParsedStatement(
        format="camt053",
        account=account,
        currency=currency,
        statement_id=statement_id,
        opening_balance=opening[0],
        closing_balance=closing[0],
        opening_date=opening[1],
        closing_date=closing[1],
        lines=StreamedLines(lambda: _entries(data), count),
    )
    return check_balances(
        statement, closing_location=closing[2], totals=LineTotals(count, net, latest)
    )
