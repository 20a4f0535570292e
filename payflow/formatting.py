"""The one way PayFlow writes money, times and status tones, on the server and in the browser.

static/js/format.js implements the same rules from the same tables (``client_config`` below is
rendered into every page), and tests/foundation/test_formatting_parity.py runs both on the same
values and compares the strings.

Money: integer minor units, the currency's ISO 4217 exponent, the user's locale grouping and
decimal mark, and the currency code always shown ("1,234.56 USD", "1.234,56 USD", "1,250 JPY",
"1.250 KWD"). Never a symbol: "¥" is JPY or CNY, "$" is one of twenty dollars. The amount and
the code are joined by a no-break space so they never wrap apart.

Time: absolute, in the user's display time zone, with the zone named ("2026-12-01 21:31:20
Europe/Berlin"); the relative form ("3 minutes ago") is the hover title. Dates are written
year-month-day in every locale: unambiguous across a team that reads both 12/01 and 01.12.
Bank dates stay in the bank's zone and say so.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from payflow.currencies import CURRENCIES, UnknownCurrency, exponent_of

NBSP = "\u00a0"
MINUS = "-"


@dataclass(frozen=True)
class NumberLocale:
    code: str
    label: str
    group: str
    decimal: str


# Grouping and decimal marks as CLDR has them for these locales (fr: narrow no-break space).
LOCALES: dict[str, NumberLocale] = {
    locale.code: locale
    for locale in [
        NumberLocale("en-US", "English (United States): 1,234.56", ",", "."),
        NumberLocale("en-GB", "English (United Kingdom): 1,234.56", ",", "."),
        NumberLocale("de-DE", "German (Germany): 1.234,56", ".", ","),
        NumberLocale("fr-FR", "French (France): 1\u202f234,56", "\u202f", ","),
        NumberLocale("de-CH", "German (Switzerland): 1\u2019234.56", "\u2019", "."),
        NumberLocale("es-ES", "Spanish (Spain): 1.234,56", ".", ","),
        NumberLocale("ja-JP", "Japanese (Japan): 1,234.56", ",", "."),
    ]
}
DEFAULT_LOCALE = "en-US"
DEFAULT_TIME_ZONE = "UTC"
LOCALE_CHOICES = [(code, locale.label) for code, locale in LOCALES.items()]


def resolve_locale(code: str | None) -> str:
    """An exact supported locale, else one with the same language, else the default."""
    if not code:
        return DEFAULT_LOCALE
    code = code.strip().replace("_", "-")
    for known in LOCALES:
        if known.lower() == code.lower():
            return known
    language = code.split("-")[0].lower()
    for known in LOCALES:
        if known.split("-")[0] == language:
            return known
    return DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> str:
    """The first supported locale the browser asks for (by quality), else the default."""
    choices = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        choices.append((-quality, index, tag))
    for _, _, tag in sorted(choices):
        language = tag.split("-")[0].lower()
        if any(known.split("-")[0] == language for known in LOCALES):
            return resolve_locale(tag)
    return DEFAULT_LOCALE


def valid_time_zone(name: str | None) -> str | None:
    """``name`` if it is an IANA zone this server knows, else None."""
    if not name or name not in _zone_names():
        return None
    return name


_ZONES: set[str] | None = None


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(_zone_names())]


# --- money ---


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


def format_number(amount: int, exponent: int, *, locale: str = DEFAULT_LOCALE) -> str:
    """Minor units as a grouped decimal number in ``locale``: no float anywhere."""
    marks = LOCALES[resolve_locale(locale)]
    sign = MINUS if amount < 0 else ""
    digits = str(abs(int(amount))).rjust(exponent + 1, "0")
    whole, fraction = (digits[:-exponent], digits[-exponent:]) if exponent else (digits, "")
    text = _group(whole, marks.group)
    if fraction:
        text += marks.decimal + fraction
    return sign + text


def format_money(amount: int, currency: str, *, locale: str = DEFAULT_LOCALE) -> str:
    """1234567 USD -> "12,345.67 USD" (en-US) / "12.345,67 USD" (de-DE); 1250 JPY -> "1,250 JPY"."""
    try:
        exponent = exponent_of(currency)
    except UnknownCurrency:
        return f"{amount}{NBSP}{currency} (minor units)"
    return f"{format_number(amount, exponent, locale=locale)}{NBSP}{currency}"


def decimal_string(amount: int, currency: str) -> str:
    """Machine form for exports: "1234.50" (a dot, no grouping, the currency's exponent)."""
    exponent = exponent_of(currency)
    return f"{Decimal(int(amount)).scaleb(-exponent):.{exponent}f}"


# --- time ---

TIME_STYLES = ("datetime", "minutes", "time", "date")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(valid_time_zone(name) or DEFAULT_TIME_ZONE)
    except ZoneInfoNotFoundError:  # pragma: no cover - valid_time_zone checked it
        return ZoneInfo(DEFAULT_TIME_ZONE)


def format_time(moment: datetime, *, zone: str = DEFAULT_TIME_ZONE, style: str = "datetime") -> str:
    """An instant in ``zone``.

    ``datetime`` "2026-12-01 21:31:20 Europe/Berlin" (the zone named); ``minutes``
    "2026-12-01 21:31" and ``time`` "21:31:20" for table cells whose column header names the
    zone; ``date`` "2026-12-01".
    """
    if moment.tzinfo is None:
        raise ValueError("format_time needs an aware datetime")
    zone_name = valid_time_zone(zone) or DEFAULT_TIME_ZONE
    local = moment.astimezone(_zone(zone_name))
    if style == "datetime":
        return f"{local:%Y-%m-%d %H:%M:%S} {zone_name}"
    if style == "minutes":
        return f"{local:%Y-%m-%d %H:%M}"
    if style == "time":
        return f"{local:%H:%M:%S}"
    if style == "date":
        return f"{local:%Y-%m-%d}"
    raise ValueError(f"unknown time style {style!r}")


def format_bank_date(day: date, *, bank_zone: str) -> str:
    """A bank's business date, which is a date in the bank's zone, not the reader's."""
    return f"{day:%Y-%m-%d} (bank date, {bank_zone})"


_UNITS = [("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600)]
_UNITS += [("minute", 60), ("second", 1)]


def format_relative(moment: datetime, *, now: datetime | None = None) -> str:
    """ "3 minutes ago", "in 2 days", "just now" (whole units, rounded down)."""
    now = now or datetime.now(UTC)
    seconds = int((now - moment).total_seconds())
    if abs(seconds) < 5:
        return "just now"
    for name, size in _UNITS:
        count = abs(seconds) // size
        if count >= 1:
            phrase = f"{count} {name}{'' if count == 1 else 's'}"
            return f"{phrase} ago" if seconds > 0 else f"in {phrase}"
    return "just now"  # pragma: no cover


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: "2026-12-01T20:31:20Z" (exports and the API)."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def time_title(moment: datetime, *, now: datetime | None = None) -> str:
    """The hover text of a time: relative, then the instant in UTC."""
    return f"{format_relative(moment, now=now)} · {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# --- plurals ---


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 item", "2 items", "0 items"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


# --- status tones ---

TONES = ("ok", "warn", "danger", "info", "muted")

# One map for every page and the live rows. A tone says what a reader should feel, so it is by
# meaning: done well (ok), needs a person (warn), went wrong (danger), moving (info), not started
# or stopped by choice (muted). Kinds with an unknown status fall back to muted.
STATUS_TONES: dict[str, str] = {
    # payments
    "draft": "muted",
    "submitted": "info",
    "processing": "info",
    "requires_action": "warn",
    "succeeded": "ok",
    "failed": "danger",
    "canceled": "muted",
    # payout batches and items
    "pending": "muted",
    "in_transit": "info",
    "partially_settled": "warn",
    "requires_reconciliation": "warn",
    "settled": "ok",
    "returned": "danger",
    "overdue": "danger",
    # transactions on the stream
    "authorized": "ok",
    "captured": "ok",
    "refunded": "ok",
    "paid": "ok",
    "charged": "ok",
    "declined": "danger",
    "reversed": "danger",
    "disputed": "warn",
    # processor webhook deliveries
    "applied": "ok",
    "duplicate": "info",
    "ignored": "warn",
    "rejected": "danger",
    # bank statement lines and reconciliation exceptions
    "debit": "muted",
    "credit": "info",
    "escalated": "danger",
}


def tone_of(status: str | None) -> str:
    return STATUS_TONES.get(str(status or ""), "muted")


def status_label(status: str | None) -> str:
    """ "requires_action" -> "Requires action" (for statuses without a model label)."""
    return str(status or "").replace("_", " ").capitalize()


def client_config(*, locale: str, time_zone: str) -> dict:
    """What static/js/format.js needs, rendered into the page so both sides share the tables."""
    return {
        "locale": resolve_locale(locale),
        "timeZone": valid_time_zone(time_zone) or DEFAULT_TIME_ZONE,
        "locales": {code: {"group": m.group, "decimal": m.decimal} for code, m in LOCALES.items()},
        "exponents": {code: c.exponent for code, c in CURRENCIES.items()},
        "tones": STATUS_TONES,
    }
