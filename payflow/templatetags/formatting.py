"""Template side of payflow/formatting.py: money, times, tones and plurals in every template.

``{% load formatting %}`` then ``{% money payment.amount payment.currency %}``,
``{% when payment.created_at %}`` (or ``"minutes"``, ``"time"``, ``"date"``),
``{% badge status label %}``, ``{{ status|tone }}``, ``{% display_zone %}``,
``{% plural count "item" %}``. The reader's locale and zone come from the request
(payflow.accounts.selectors.display_prefs).
"""

from datetime import date, datetime

from django import template
from django.utils.html import format_html

from payflow import formatting
from payflow.accounts.selectors import DisplayPrefs, display_prefs

register = template.Library()

_DEFAULT = DisplayPrefs(
    locale=formatting.DEFAULT_LOCALE,
    time_zone=formatting.DEFAULT_TIME_ZONE,
    chosen_time_zone="",
    chosen_locale="",
)


def _prefs(context) -> DisplayPrefs:
    request = context.get("request")
    return display_prefs(request) if request is not None else _DEFAULT


@register.simple_tag(takes_context=True)
def money(context, amount, currency):
    """A span that never wraps: "1,234.56 USD" in the reader's locale."""
    if amount is None or amount == "":
        return ""
    text = formatting.format_money(int(amount), str(currency), locale=_prefs(context).locale)
    return format_html(
        '<span class="money" data-money="{}" data-currency="{}">{}</span>', amount, currency, text
    )


@register.simple_tag(takes_context=True)
def money_text(context, amount, currency):
    return formatting.format_money(int(amount or 0), str(currency), locale=_prefs(context).locale)


@register.simple_tag(takes_context=True)
def when(context, moment, style="datetime"):
    """A <time> in the reader's zone, with the relative time and UTC as its title."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if isinstance(moment, date) and not isinstance(moment, datetime):
        return format_html(
            '<time datetime="{}">{}</time>', moment.isoformat(), f"{moment:%Y-%m-%d}"
        )
    zone = _prefs(context).time_zone
    return format_html(
        '<time datetime="{}" data-time data-style="{}" title="{}">{}</time>',
        formatting.utc_iso(moment),
        style,
        formatting.time_title(moment),
        formatting.format_time(moment, zone=zone, style=style),
    )


@register.simple_tag
def bank_date(day, bank_zone):
    if not day:
        return ""
    return format_html(
        '<time datetime="{}" data-bank-date>{}</time>',
        day.isoformat(),
        formatting.format_bank_date(day, bank_zone=bank_zone),
    )


@register.simple_tag(takes_context=True)
def display_zone(context):
    return _prefs(context).time_zone


@register.filter
def tone(status):
    return formatting.tone_of(status)


@register.simple_tag
def badge(status, label=None, tone_override=None):
    """The status badge every page uses: its class comes from the one tone map."""
    tone_name = tone_override or formatting.tone_of(status)
    return format_html(
        '<span class="badge badge-{}" data-status="{}" data-tone="{}">{}</span>',
        tone_name,
        status,
        tone_name,
        label or formatting.status_label(status),
    )


@register.simple_tag
def plural(count, singular, plural_form=None):
    return formatting.plural(int(count or 0), singular, plural_form)


@register.simple_tag(takes_context=True)
def format_config(context):
    """The JSON script static/js/format.js reads: the reader's locale and zone, the tables."""
    from django.utils.html import json_script

    prefs = _prefs(context)
    config = formatting.client_config(locale=prefs.locale, time_zone=prefs.time_zone)
    config["zoneChosen"] = bool(prefs.chosen_time_zone)
    return json_script(config, "pf-format")


@register.simple_tag
def copy_button(value, label="Copy"):
    """A button that copies ``value`` (static/js/shell.js handles [data-copy])."""
    return format_html(
        '<button type="button" class="copy-button" data-copy="{}" aria-label="{} {}">{}</button>',
        value,
        label,
        value,
        label,
    )


@register.simple_tag
def copyable(value):
    """An id in code with its copy button."""
    return format_html("<code>{}</code> {}", value, copy_button(value))
