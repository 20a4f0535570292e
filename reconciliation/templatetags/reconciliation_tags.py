"""Template helpers for reconciliation pages: money in the currency's exponent, badges."""

from django import template

from payflow.currencies import UnknownCurrency, format_money

register = template.Library()

BADGES = {
    "open": "badge-warn",
    "pending_approval": "badge-info",
    "resolved": "badge-ok",
    "settled": "badge-ok",
    "returned": "badge-danger",
}


@register.filter
def rmoney(amount, currency):
    try:
        return format_money(int(amount or 0), currency)
    except UnknownCurrency:
        return f"{amount} {currency} (minor units)"


@register.filter
def rbadge(status) -> str:
    return BADGES.get(str(status), "badge-muted")


@register.filter
def label(value) -> str:
    return str(value).replace("_", " ").capitalize()


@register.filter
def hours(seconds) -> str:
    seconds = int(seconds or 0)
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
