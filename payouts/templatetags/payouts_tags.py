"""Template helpers for payouts: money with the currency's exponent, status badge classes."""

from django import template

from payflow.currencies import UnknownCurrency, format_money

register = template.Library()

BADGES = {
    "settled": "badge-ok",
    "partially_settled": "badge-warn",
    "requires_reconciliation": "badge-warn",
    "failed": "badge-danger",
    "returned": "badge-danger",
    "processing": "badge-info",
    "in_transit": "badge-info",
    "pending": "badge-muted",
}


@register.filter
def money(amount, currency):
    """Minor units -> "1,234.56 USD" (JPY 0 decimals, KWD 3)."""
    try:
        return format_money(int(amount or 0), currency)
    except UnknownCurrency:
        return f"{amount} {currency} (minor units)"


@register.filter
def status_badge(status) -> str:
    return BADGES.get(str(status), "badge-muted")


@register.filter
def status_label(status) -> str:
    return str(status).replace("_", " ").capitalize()
