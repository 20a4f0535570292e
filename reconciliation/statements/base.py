"""The one statement-line shape every format is normalised into, and the checks they share.

Amounts are integers in minor units of the statement's currency (ISO 4217 exponents from
payflow.currencies), always positive on a line; ``direction`` says credit or debit. Balances are
signed (a debit balance is negative).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from payflow.currencies import CURRENCIES
from payflow.exceptions import DomainError

CREDIT = "credit"
DEBIT = "debit"
FORMATS = ("camt053", "mt940", "bai2", "csv")


class StatementInvalid(DomainError):
    """The file is refused whole: it does not parse, or its balances do not add up."""

    status = 422
    code = "statement_invalid"

    def __init__(self, message: str, *, location: str = "", field_name: str = "file"):
        where = f"{location}: " if location else ""
        super().__init__(
            f"{where}{message}",
            fields={field_name: [f"{where}{message}"]},
            location=location,
        )


@dataclass(frozen=True)
class StatementLine:
    index: int  # 1-based position in the statement
    direction: str  # CREDIT or DEBIT
    amount: int  # minor units, > 0
    currency: str
    booking_date: dt.date | None
    value_date: dt.date | None
    end_to_end_id: str = ""
    customer_reference: str = ""
    bank_reference: str = ""
    references: tuple[str, ...] = ()  # every other identifier the bank passed on
    details: str = ""  # free text / remittance information
    return_reason: str = ""  # R03, AC04, ... ; "" when the line is not a return
    location: str = ""  # where in the file, for messages: "line 12", "Ntry[3]"

    @property
    def signed_amount(self) -> int:
        return self.amount if self.direction == CREDIT else -self.amount


class StreamedLines(Sequence):
    """A statement's lines read from the file again on each pass instead of held in memory
    (a 100,000-line camt.053 is about 50 MiB of parsed lines). The file was read and checked
    whole once already, so every pass yields the same lines."""

    def __init__(self, read: Callable[[], Iterator[StatementLine]], count: int):
        self._read = read
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[StatementLine]:
        return iter(self._read())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError(index)
        return next(itertools.islice(iter(self), position, None))


@dataclass(frozen=True)
class LineTotals:
    """What the balance check needs of the lines, gathered in one pass."""

    count: int = 0
    net: int = 0  # credits minus debits, minor units
    latest_date: dt.date | None = None
    other_currency: tuple[str, str] | None = None  # (currency, location) of a stray line

    @classmethod
    def of(cls, lines: Iterable[StatementLine], currency: str) -> LineTotals:
        count = net = 0
        latest = None
        other = None
        for line in lines:
            count += 1
            net += line.signed_amount
            for day in (line.booking_date, line.value_date):
                if day is not None and (latest is None or day > latest):
                    latest = day
            if other is None and line.currency != currency:
                other = (line.currency, line.location)
        return cls(count, net, latest, other)


@dataclass(frozen=True)
class ParsedStatement:
    format: str
    account: str
    currency: str
    statement_id: str
    opening_balance: int
    closing_balance: int
    opening_date: dt.date | None
    closing_date: dt.date | None
    lines: Sequence[StatementLine] = field(default_factory=list)
    latest_date: dt.date | None = None  # of any line; filled in by check_balances

    @property
    def as_of(self) -> dt.date | None:
        if self.closing_date or self.latest_date:
            return self.closing_date or self.latest_date
        return LineTotals.of(self.lines, self.currency).latest_date


def check_currency(code: str | None, location: str) -> str:
    code = (code or "").strip().upper()
    if code not in CURRENCIES:
        raise StatementInvalid(
            f"unknown currency {code!r}; PayFlow takes ISO 4217 codes such as USD, EUR or JPY.",
            location=location,
        )
    return code


def to_minor(value: str | Decimal, currency: str, location: str) -> int:
    """ "150.25" EUR -> 15025; refuses non-numbers and more decimals than the currency has."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise StatementInvalid(f"{value!r} is not an amount.", location=location) from None
    if not amount.is_finite():
        raise StatementInvalid(f"{value!r} is not an amount.", location=location)
    exponent = CURRENCIES[currency].exponent
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise StatementInvalid(
            f"{value} has more decimals than {currency} has ({exponent}).", location=location
        )
    return int(minor)


def positive(amount: int, location: str) -> int:
    if amount <= 0:
        raise StatementInvalid("an entry amount must be greater than zero.", location=location)
    return amount


def check_balances(
    statement: ParsedStatement, *, closing_location: str, totals: LineTotals | None = None
) -> ParsedStatement:
    """Opening balance plus every entry must equal the closing balance, to the minor unit.
    ``totals`` are the lines' own, when the parser gathered them while reading."""
    if not statement.statement_id.strip():
        raise StatementInvalid("the statement has no identifier.", location=closing_location)
    if not statement.account.strip():
        raise StatementInvalid("the statement names no account.", location=closing_location)
    totals = totals or LineTotals.of(statement.lines, statement.currency)
    if totals.other_currency is not None:
        currency, location = totals.other_currency
        raise StatementInvalid(
            f"entry in {currency} on a {statement.currency} statement.", location=location
        )
    computed = statement.opening_balance + totals.net
    if computed != statement.closing_balance:
        from payflow.currencies import format_money

        raise StatementInvalid(
            "balances do not add up: opening "
            f"{format_money(statement.opening_balance, statement.currency)} plus entries "
            f"{format_money(computed - statement.opening_balance, statement.currency)} is "
            f"{format_money(computed, statement.currency)}, but the closing balance is "
            f"{format_money(statement.closing_balance, statement.currency)}.",
            location=closing_location,
        )
    return replace(statement, latest_date=totals.latest_date)


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementInvalid("the file is not text.")  # pragma: no cover - latin-1 decodes all
