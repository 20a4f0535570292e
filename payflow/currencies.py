"""ISO 4217 currencies PayFlow accepts, with their minor-unit exponents, and money formatting.

Amounts are integers in minor units everywhere; the exponent says how many of those make a
major unit (USD 2: 1250 is 12.50; JPY 0: 1250 is 1,250; KWD 3: 1250 is 1.250).
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int
    name: str


# Exponents are ISO 4217's (the standard's "minor unit" column), not a card network's.
_TABLE = [
    # Two decimals: the common case.
    ("USD", 2, "US dollar"),
    ("EUR", 2, "Euro"),
    ("GBP", 2, "Pound sterling"),
    ("CHF", 2, "Swiss franc"),
    ("CAD", 2, "Canadian dollar"),
    ("AUD", 2, "Australian dollar"),
    ("NZD", 2, "New Zealand dollar"),
    ("SEK", 2, "Swedish krona"),
    ("NOK", 2, "Norwegian krone"),
    ("DKK", 2, "Danish krone"),
    ("PLN", 2, "Polish zloty"),
    ("CZK", 2, "Czech koruna"),
    ("HUF", 2, "Hungarian forint"),
    ("RON", 2, "Romanian leu"),
    ("SGD", 2, "Singapore dollar"),
    ("HKD", 2, "Hong Kong dollar"),
    ("CNY", 2, "Renminbi yuan"),
    ("INR", 2, "Indian rupee"),
    ("MXN", 2, "Mexican peso"),
    ("BRL", 2, "Brazilian real"),
    ("ZAR", 2, "South African rand"),
    ("TRY", 2, "Turkish lira"),
    ("ILS", 2, "Israeli new shekel"),
    ("AED", 2, "UAE dirham"),
    ("SAR", 2, "Saudi riyal"),
    ("THB", 2, "Thai baht"),
    ("MYR", 2, "Malaysian ringgit"),
    ("PHP", 2, "Philippine peso"),
    ("NGN", 2, "Nigerian naira"),
    ("KES", 2, "Kenyan shilling"),
    ("EGP", 2, "Egyptian pound"),
    # No minor unit.
    ("JPY", 0, "Japanese yen"),
    ("KRW", 0, "South Korean won"),
    ("CLP", 0, "Chilean peso"),
    ("ISK", 0, "Icelandic krona"),
    ("VND", 0, "Vietnamese dong"),
    ("PYG", 0, "Paraguayan guarani"),
    ("UGX", 0, "Ugandan shilling"),
    ("RWF", 0, "Rwandan franc"),
    ("XAF", 0, "Central African CFA franc"),
    ("XOF", 0, "West African CFA franc"),
    # Three decimals.
    ("KWD", 3, "Kuwaiti dinar"),
    ("BHD", 3, "Bahraini dinar"),
    ("JOD", 3, "Jordanian dinar"),
    ("OMR", 3, "Omani rial"),
    ("TND", 3, "Tunisian dinar"),
    ("IQD", 3, "Iraqi dinar"),
    ("LYD", 3, "Libyan dinar"),
]

CURRENCIES: dict[str, Currency] = {
    code: Currency(code, exponent, name) for code, exponent, name in _TABLE
}
CURRENCY_CHOICES = [(c.code, f"{c.code} — {c.name}") for c in CURRENCIES.values()]


class UnknownCurrency(ValueError):
    pass


def get_currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrency(
            f"Unknown currency {code!r}; use an ISO 4217 code such as USD, EUR, GBP, JPY or KWD."
        ) from None


def exponent_of(code: str) -> int:
    return get_currency(code).exponent


def minor_to_decimal(amount: int, code: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent_of(code))


def format_amount(amount: int, code: str) -> str:
    """1250 USD -> "12.50", 1250 JPY -> "1,250", 1250 KWD -> "1.250" (no float on the way)."""
    exponent = exponent_of(code)
    return f"{minor_to_decimal(amount, code):,.{exponent}f}"


def format_money(amount: int, code: str) -> str:
    return f"{format_amount(amount, code)} {code}"


# A plain decimal number: no exponent, no "inf"/"nan", at most MAX_MAJOR_DIGITS before the point
# and a few after. Checked before Decimal sees the text, so "1e999999" never becomes a number.
MAX_MAJOR_DIGITS = 15
_MAJOR_AMOUNT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
# The largest minor amount any filter or record may carry: 15 major digits at exponent 3 fits
# a signed 64-bit column (PostgreSQL bigint, SQLite INTEGER) with room to spare.
MAX_MINOR_AMOUNT = 10 ** (MAX_MAJOR_DIGITS + 3)


def parse_major_amount(text: str, code: str) -> int:
    """ "12.50" USD -> 1250. Refuses more decimals than the currency has, and non-numbers."""
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    if not _MAJOR_AMOUNT.match(cleaned) or len(cleaned) > MAX_MAJOR_DIGITS + 10:
        raise ValueError("Enter an amount as a number, for example 12.50.")
    whole = cleaned.lstrip("+-").split(".")[0].lstrip("0")
    if len(whole) > MAX_MAJOR_DIGITS:
        raise ValueError(f"Enter at most {MAX_MAJOR_DIGITS} digits before the decimal point.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount as a number, for example 12.50.") from None
    exponent = exponent_of(code)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(too_many_decimals(text.strip(), code))
    return int(minor)


def parse_minimum(typed: str, currencies: list[str]) -> int:
    """A minimum typed in major units of its one chosen currency, in minor units.

    One currency, not minor units for all: 1250 is 12.50 USD but 1,250 JPY, so a typed amount
    means something only in one currency. static/js/format.js ``parseMinimum`` says the same."""
    typed = (typed or "").strip()
    codes = [code.strip().upper() for code in currencies if code.strip()]
    if len(codes) != 1:
        raise ValueError(f"{typed} needs exactly one currency to be read in; choose one.")
    if codes[0] not in CURRENCIES:
        raise ValueError(f"{codes[0]} is not a currency PayFlow knows.")
    minor = parse_major_amount(typed, codes[0])
    if minor < 0:
        raise ValueError(f"{typed} is below zero; a minimum is 0 or more.")
    return minor


def too_many_decimals(text: str, code: str) -> str:
    """The same words as static/js/format.js says them."""
    exponent = exponent_of(code)
    if exponent == 0:
        return f"{text} has decimals, but {code} has no minor unit."
    return f"{text} has more decimals than {code} allows ({exponent})."


def major_text(amount: int, code: str) -> str:
    """1250 USD -> "12.50": what a person types back into an amount field (no grouping)."""
    return f"{minor_to_decimal(amount, code):.{exponent_of(code)}f}"
