"""Template helpers for payouts: money with the currency's exponent, status badges.

Badge tones come from the one status-tone map (payflow/formatting.py); a batch past its
settlement deadline without the bank's confirmation shows an "Overdue" badge, never a calm one.
"""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from payflow import formatting
from payouts.attention import is_overdue

register = template.Library()


@register.filter
def money(amount, currency):
    """Minor units -> "1,234.56 USD" (JPY 0 decimals, KWD 3). Pages use {% money %} instead,
    which also follows the reader's number format."""
    return formatting.format_money(int(amount or 0), str(currency))


@register.filter
def status_badge(status) -> str:
    return f"badge-{formatting.tone_of(status)}"


@register.filter
def status_label(status) -> str:
    return formatting.status_label(status)


@register.simple_tag
def batch_badge(batch, now=None):
    """The batch's status badge; once the deadline has passed unconfirmed, one Overdue badge
    in the overdue tone instead, so a late batch never reads as a calm "In transit"."""
    if is_overdue(batch, now or timezone.now()):
        tone = formatting.tone_of("overdue")
        return format_html(
            '<span class="badge badge-{}" data-status="{}" data-tone="{}"'
            ' data-testid="overdue-badge">Overdue · {}</span>',
            tone,
            batch.status,
            tone,
            batch.get_status_display(),
        )
    tone = formatting.tone_of(batch.status)
    return format_html(
        '<span class="badge badge-{}" data-status="{}" data-tone="{}">{}</span>',
        tone,
        batch.status,
        tone,
        batch.get_status_display(),
    )
