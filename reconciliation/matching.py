"""The matching rules for bank statements: plain data in, decisions out, no database.

For each statement line, exactly one decision: a ``Match`` (the line settles or returns items) or
an ``Exception`` for a person. Rules, in order:

- A **debit** settles the pending item it names: an item id (``poi_...``) in its end-to-end id,
  references or details wins; else an item reference that appears there. Same currency, amount
  within ``Rules.amount_tolerance`` minor units, value date within ``Rules.value_date_window``
  business days of the item's expected settlement date (in the item's calendar).
- A debit that names several items, or names a batch id (``po_...``) and no item, settles all of
  those pending items when it equals their sum (one-to-many).
- A **credit** carrying a return reason (camt ``RtrInf/Rsn/Cd``, ACH R-codes, BAI2 return type
  codes) returns the item it names, with that reason.
- Otherwise: ``unmatched_line`` (names nothing usable), ``ambiguous`` (names more than one
  candidate), ``amount_mismatch``, ``late_value_date`` (outside the window either way).
- Pending items of the statement's currency whose window ended before the statement date, and
  that no line settled, become ``overdue_item`` exceptions.

Each line is decided once; an item takes at most one settlement and one return, even when several
lines name it. Debits are decided before credits, so a statement may settle and return one item.
Cost is linear: one pass over the items to index them, one over the lines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from payflow.currencies import UnknownCurrency, format_money

SETTLED = "settled"
RETURNED = "returned"
PENDING = "pending"

UNMATCHED_LINE = "unmatched_line"
AMOUNT_MISMATCH = "amount_mismatch"
AMBIGUOUS = "ambiguous"
LATE_VALUE_DATE = "late_value_date"
OVERDUE_ITEM = "overdue_item"
REASONS = (UNMATCHED_LINE, AMOUNT_MISMATCH, AMBIGUOUS, LATE_VALUE_DATE, OVERDUE_ITEM)

TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")

# shift(day, business_days, calendar) -> the day that many business days later (or earlier).
Shift = Callable[[dt.date, int, str], dt.date]


@dataclass(frozen=True)
class Rules:
    amount_tolerance: int = 0  # minor units
    value_date_window: int = 2  # business days either side of the expected settlement date


@dataclass(frozen=True)
class Line:
    key: str
    direction: str  # "credit" | "debit"
    amount: int
    currency: str
    value_date: dt.date | None
    end_to_end_id: str = ""
    texts: tuple[str, ...] = ()  # customer reference, other references, details
    return_reason: str = ""


@dataclass(frozen=True)
class Item:
    item_id: str
    batch_id: str
    currency: str
    amount: int
    reference: str
    expected_settlement_date: dt.date
    calendar: str = "US"
    status: str = PENDING  # pending | settled (settled items can still be returned)


@dataclass(frozen=True)
class Match:
    line_key: str
    outcome: str  # SETTLED | RETURNED
    item_ids: tuple[str, ...]
    amounts: tuple[int, ...]  # confirmed minor units per item
    reason_code: str = ""
    was_pending: tuple[bool, ...] = ()  # per item: returned without ever being settled


@dataclass(frozen=True)
class Exception_:
    reason: str
    message: str
    line_key: str | None = None
    item_id: str | None = None
    candidates: tuple[str, ...] = ()


@dataclass
class Decisions:
    matches: list[Match] = field(default_factory=list)
    exceptions: list[Exception_] = field(default_factory=list)


def _money(amount: int, currency: str) -> str:
    try:
        return format_money(amount, currency)
    except UnknownCurrency:
        return f"{amount} {currency} (minor units)"


def _tokens(line: Line) -> list[str]:
    seen: dict[str, None] = {}
    for text in (line.end_to_end_id, *line.texts):
        if not text:
            continue
        stripped = text.strip().casefold()
        if stripped:
            seen.setdefault(stripped, None)
        for token in TOKEN.findall(text):
            seen.setdefault(token.casefold(), None)
    return list(seen)


class _Index:
    def __init__(self, items: Iterable[Item]):
        self.by_id: dict[str, Item] = {}
        self.by_reference: dict[str, list[Item]] = defaultdict(list)
        self.by_batch: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            self.by_id[item.item_id.casefold()] = item
            if item.reference.strip():
                self.by_reference[item.reference.strip().casefold()].append(item)
            self.by_batch[item.batch_id.casefold()].append(item)

    def named(self, tokens: list[str]) -> tuple[list[Item], list[Item], list[str]]:
        """Items named by id, items named by reference, batch ids named."""
        by_id = [self.by_id[t] for t in tokens if t in self.by_id]
        by_ref = [i for t in tokens for i in self.by_reference.get(t, ())]
        batches = [t for t in tokens if t in self.by_batch]
        return _unique(by_id), _unique(by_ref), batches


def _unique(items: list[Item]) -> list[Item]:
    return list({item.item_id: item for item in items}.values())


def _ids(items: Iterable[Item]) -> tuple[str, ...]:
    return tuple(item.item_id for item in items)


class Matcher:
    """The rules applied one line at a time, for a statement read as a stream: give it every
    debit in statement order, then every credit, then ask for the overdue items. Same
    decisions as ``match_statement``; memory holds the items, not the lines."""

    def __init__(self, items: Iterable[Item], *, shift: Shift, rules: Rules = Rules()):
        self.index = _Index(items)
        self.rules = rules
        self.shift = shift
        self.settled: set[str] = {
            key for key, item in self.index.by_id.items() if item.status == SETTLED
        }
        self.returned: set[str] = set()
        self.flagged: set[str] = set()
        self._windows: dict[tuple[dt.date, str], tuple[dt.date, dt.date]] = {}

    def window(self, item: Item) -> tuple[dt.date, dt.date]:
        key = (item.expected_settlement_date, item.calendar)
        if key not in self._windows:
            w = self.rules.value_date_window
            day = item.expected_settlement_date
            self._windows[key] = (
                self.shift(day, -w, item.calendar),
                self.shift(day, w, item.calendar),
            )
        return self._windows[key]

    def decide(self, line: Line) -> Match | Exception_:
        """The one decision for ``line``."""
        decisions = Decisions()

        def flag(reason: str, line: Line, message: str, candidates=()) -> None:
            self.flagged.update(c.casefold() for c in candidates)
            decisions.exceptions.append(
                Exception_(reason, message, line_key=line.key, candidates=tuple(candidates))
            )

        by_id, by_ref, batches = self.index.named(_tokens(line))
        if line.direction == "debit":
            _decide_debit(
                line,
                by_id,
                by_ref,
                batches,
                self.index,
                self.settled,
                self.window,
                self.rules,
                flag,
                decisions,
            )
        elif line.return_reason:
            _decide_return(
                line, by_id, by_ref, self.settled, self.returned, self.rules, flag, decisions
            )
        else:
            named = _ids(by_id or by_ref)
            message = (
                f"Credit naming {', '.join(named)} carries no return reason."
                if named
                else "Credit that names no payout item."
            )
            flag(UNMATCHED_LINE, line, message, named)
        (decision,) = decisions.matches or decisions.exceptions
        return decision

    def overdue(self, as_of: dt.date, currency: str | None = None) -> list[Exception_]:
        """Pending items (of ``currency``) whose window ended before ``as_of``, that no line
        settled, returned or named."""
        found = []
        for key, item in self.index.by_id.items():
            if item.status != PENDING or key in self.settled or key in self.returned:
                continue
            if key in self.flagged or (currency and item.currency != currency):
                continue
            if self.window(item)[1] < as_of:
                found.append(
                    Exception_(
                        OVERDUE_ITEM,
                        f"Expected to settle on {item.expected_settlement_date.isoformat()}; "
                        f"no statement line by {as_of.isoformat()}.",
                        item_id=item.item_id,
                    )
                )
        return found


def match_statement(
    lines: Iterable[Line],
    items: Iterable[Item],
    *,
    shift: Shift,
    rules: Rules = Rules(),
    as_of: dt.date | None = None,
    overdue_currency: str | None = None,
) -> Decisions:
    matcher = Matcher(items, shift=shift, rules=rules)
    decisions = Decisions()
    ordered = sorted(lines, key=lambda line: line.direction != "debit")  # debits first, stable
    for line in ordered:
        decision = matcher.decide(line)
        (decisions.matches if isinstance(decision, Match) else decisions.exceptions).append(
            decision
        )
    if as_of is not None:
        decisions.exceptions.extend(matcher.overdue(as_of, overdue_currency))
    return decisions


def _decide_debit(line, by_id, by_ref, batches, index, settled, window, rules, flag, decisions):
    named = by_id or by_ref
    if not named and batches:
        if len(batches) > 1:
            flag(AMBIGUOUS, line, f"Debit names {len(batches)} batches.", ())
            return
        named = index.by_batch[batches[0]]
        open_items = [
            i for i in named if i.item_id.casefold() not in settled and i.status == PENDING
        ]
        if not open_items:
            flag(UNMATCHED_LINE, line, "Debit names a batch with no pending items.", _ids(named))
            return
        candidates = open_items
    else:
        if not named:
            flag(UNMATCHED_LINE, line, "Debit that names no payout item or batch.")
            return
        if not by_id and len(by_ref) > 1:
            flag(AMBIGUOUS, line, "Debit reference fits several items.", _ids(by_ref))
            return
        candidates = [
            i for i in named if i.item_id.casefold() not in settled and i.status == PENDING
        ]
        if len(candidates) < len(named):
            done = [i for i in named if i not in candidates]
            flag(
                UNMATCHED_LINE,
                line,
                f"Debit names {', '.join(_ids(done))}, already settled.",
                _ids(named),
            )
            return
    other = [i for i in candidates if i.currency != line.currency]
    if other:
        flag(
            UNMATCHED_LINE,
            line,
            f"Debit in {line.currency} names items in {other[0].currency}.",
            _ids(candidates),
        )
        return
    total = sum(i.amount for i in candidates)
    if abs(total - line.amount) > rules.amount_tolerance:
        flag(
            AMOUNT_MISMATCH,
            line,
            f"Debit of {_money(line.amount, line.currency)} against "
            f"{_money(total, line.currency)} expected.",
            _ids(candidates),
        )
        return
    if line.value_date is not None:
        for item in candidates:
            low, high = window(item)
            if not low <= line.value_date <= high:
                flag(
                    LATE_VALUE_DATE,
                    line,
                    f"Value date {line.value_date.isoformat()} is outside "
                    f"{low.isoformat()}..{high.isoformat()} for {item.item_id}.",
                    _ids(candidates),
                )
                return
    amounts = (line.amount,) if len(candidates) == 1 else tuple(i.amount for i in candidates)
    settled.update(i.item_id.casefold() for i in candidates)
    decisions.matches.append(Match(line.key, SETTLED, _ids(candidates), amounts))


def _decide_return(line, by_id, by_ref, settled, returned, rules, flag, decisions):
    named = by_id or by_ref
    if not named:
        flag(UNMATCHED_LINE, line, f"Return ({line.return_reason}) that names no payout item.")
        return
    if len(named) > 1:
        flag(AMBIGUOUS, line, "Return names several items.", _ids(named))
        return
    item = named[0]
    key = item.item_id.casefold()
    if key in returned or item.status not in (PENDING, SETTLED):
        flag(UNMATCHED_LINE, line, f"{item.item_id} is already returned.", _ids(named))
        return
    if item.currency != line.currency:
        flag(
            UNMATCHED_LINE,
            line,
            f"Return in {line.currency} for a {item.currency} item.",
            (item.item_id,),
        )
        return
    if abs(item.amount - line.amount) > rules.amount_tolerance:
        flag(
            AMOUNT_MISMATCH,
            line,
            f"Return of {_money(line.amount, line.currency)} against "
            f"{_money(item.amount, item.currency)} paid.",
            (item.item_id,),
        )
        return
    was_pending = key not in settled
    returned.add(key)
    settled.add(key)
    decisions.matches.append(
        Match(
            line.key, RETURNED, (item.item_id,), (line.amount,), line.return_reason, (was_pending,)
        )
    )
