"""The one statement-line shape every format is normalised into, and the checks they share.

Amounts are integers in minor units of the statement's currency (ISO 4217 exponents from
payflow.currencies), always positive on a line; ``direction`` says credit or debit. Balances are
signed (a debit balance is negative).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def as_of(self) -> dt.date | None:
        return self.closing_date or max(
            (d for line in self.lines for d in (line.booking_date, line.value_date) if d),
            default=None,
        )


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


def check_balances(statement: ParsedStatement, *, closing_location: str) -> ParsedStatement:
    """Opening balance plus every entry must equal the closing balance, to the minor unit."""
    if not statement.statement_id.strip():
        raise StatementInvalid("the statement has no identifier.", location=closing_location)
    if not statement.account.strip():
        raise StatementInvalid("the statement names no account.", location=closing_location)
    for line in statement.lines:
        if line.currency != statement.currency:
            raise StatementInvalid(
                f"entry in {line.currency} on a {statement.currency} statement.",
                location=line.location,
            )
    computed = statement.opening_balance + sum(line.signed_amount for line in statement.lines)
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
    return statement


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementInvalid("the file is not text.")  # pragma: no cover - latin-1 decodes all
