"""What a person typed into the search box, understood once for every app.

``parse_query("1,250.00 EUR")`` gives the amounts it can mean (in minor units per currency),
the id prefixes, a last-4 and the free text; each app's ``<app>/search.py`` turns that into a few
bounded queries (each with a LIMIT, each on an index on PostgreSQL: see search/migrations) and
returns ``Hit``s. The search app merges them, best first, grouped by kind.

Amounts are read the way people type them: "12.50", "12,50", "1,250", "1.250,00", "1250.00 EUR".
Where a mark is ambiguous ("1.250" is 1.25 in English and 1250 in German; KWD has three
decimals) every reading is tried; exactness of the currency's exponent rules the rest out.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from payflow.currencies import CURRENCIES

MAX_QUERY_LENGTH = 100
MIN_TEXT_LENGTH = 3  # trigram indexes need three characters; shorter text matches ids only
PER_KIND_LIMIT = 8

_AMOUNT_RE = re.compile(r"^[0-9][0-9.,'\u00a0\u202f ]*$")
_ID_RE = re.compile(r"^[A-Za-z]{2,4}_[A-Za-z0-9]*$")
_TOKEN_RE = re.compile(r"[^\s]+")


@dataclass(frozen=True)
class SearchQuery:
    text: str
    amounts: dict[str, frozenset[int]] = field(default_factory=dict)  # currency -> minor units
    id_prefixes: tuple[str, ...] = ()
    last4: str | None = None
    words: str = ""  # the text without amount and currency tokens, for names and references
    currency: str | None = None

    @property
    def has_text(self) -> bool:
        return len(self.words) >= MIN_TEXT_LENGTH


@dataclass(frozen=True)
class Hit:
    kind: str  # "payment", "payout_batch", "payout_item", "transaction"
    id: str
    title: str
    detail: str
    url: str
    amount: int | None
    currency: str | None
    status: str
    score: int  # higher is better: exact id 100, id prefix 90, reference 80, amount 70,
    # last 4 60, name 50

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "detail": self.detail,
            "url": self.url,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "score": self.score,
        }


SCORE_EXACT_ID = 100
SCORE_ID_PREFIX = 90
SCORE_REFERENCE = 80
SCORE_AMOUNT = 70
SCORE_LAST4 = 60
SCORE_NAME = 50


def _readings(token: str) -> set[Decimal]:
    """The numbers a typed amount can mean."""
    cleaned = re.sub(r"[\u00a0\u202f' ]", "", token)
    if not cleaned or not re.fullmatch(r"[0-9.,]+", cleaned) or cleaned[-1] in ".,":
        return set()
    candidates: set[str] = set()
    has_dot, has_comma = "." in cleaned, "," in cleaned
    if has_dot and has_comma:
        decimal_mark = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
        group_mark = "," if decimal_mark == "." else "."
        whole, _, fraction = cleaned.rpartition(decimal_mark)
        if decimal_mark not in whole:
            candidates.add(whole.replace(group_mark, "") + "." + fraction)
    elif has_dot or has_comma:
        mark = "." if has_dot else ","
        parts = cleaned.split(mark)
        if len(parts) == 2:
            candidates.add(parts[0] + "." + parts[1])  # a decimal mark
        if all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0]) <= 3:
            candidates.add("".join(parts))  # grouping
    else:
        candidates.add(cleaned)
    values = set()
    for text in candidates:
        try:
            value = Decimal(text)
        except InvalidOperation:
            continue
        if value.is_finite() and value > 0:
            values.add(value)
    return values


def _minor_units(values: set[Decimal], currency: str) -> frozenset[int]:
    exponent = CURRENCIES[currency].exponent
    units = set()
    for value in values:
        minor = value.scaleb(exponent)
        if minor == minor.to_integral_value() and minor < 2**63:
            units.add(int(minor))
    return frozenset(units)


def parse_query(raw: str) -> SearchQuery:
    text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
    tokens = _TOKEN_RE.findall(text)
    currency = None
    number_tokens, word_tokens, id_prefixes = [], [], []
    for token in tokens:
        upper = token.upper()
        if len(token) == 3 and upper in CURRENCIES and (token.isupper() or len(tokens) > 1):
            currency = upper
            continue
        if _AMOUNT_RE.match(token):
            number_tokens.append(token)
            continue
        if _ID_RE.match(token):
            id_prefixes.append(token)
        word_tokens.append(token)
    values: set[Decimal] = set()
    if len(number_tokens) == 1 or (number_tokens and not word_tokens):
        values = _readings("".join(number_tokens))
    codes = [currency] if currency else list(CURRENCIES)
    amounts = {code: units for code in codes if (units := _minor_units(values, code))}
    last4 = None
    digits = "".join(number_tokens)
    if len(number_tokens) == 1 and digits.isdigit() and len(digits) == 4:
        last4 = digits
    # A token shaped like an id (pay_…, po_…) is looked up as an id, not as a name: names are
    # not written that way, and a long id would cost a wide trigram search for nothing.
    text_words = [token for token in word_tokens if token not in id_prefixes]
    words = " ".join(text_words) if text_words else ""
    if not words and not amounts and not id_prefixes and text:
        words = text  # nothing numeric to read: treat it all as text
    return SearchQuery(
        text=text,
        amounts=amounts,
        id_prefixes=tuple(id_prefixes),
        last4=last4,
        words=words,
        currency=currency,
    )


def amount_q(query: SearchQuery, *, amount_field: str, currency_field: str):
    """One Q matching any reading of the typed amount in its currency (grouped by exponent)."""
    from django.db.models import Q

    by_units: dict[frozenset[int], list[str]] = {}
    for code, units in query.amounts.items():
        by_units.setdefault(units, []).append(code)
    condition = Q(pk__in=[])
    for units, codes in by_units.items():
        condition |= Q(**{f"{currency_field}__in": codes, f"{amount_field}__in": sorted(units)})
    return condition
