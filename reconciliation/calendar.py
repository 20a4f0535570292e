"""Business days for reconciliation windows and SLA deadlines, in the payouts' own calendars.

Uses the settlement rule module's public calendar rules (``payouts.settlement.calendar_rules``)
so a value-date window and an exception's SLA skip exactly the days a batch's settlement skips.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings

from payouts.settlement import calendar_rules


@functools.cache
def _rules(calendar: str):
    try:
        return calendar_rules(calendar)
    except ValueError:
        return calendar_rules(None)


def shift_business_days(day: dt.date, business_days: int, calendar: str) -> dt.date:
    """The day ``business_days`` business days after (negative: before) ``day``."""
    rules = _rules(calendar or "")
    step = dt.timedelta(days=1 if business_days >= 0 else -1)
    for _ in range(abs(business_days)):
        day += step
        while not rules.is_business_day(day):
            day += step
    return day


def sla_deadline(created_at: dt.datetime, calendar: str | None = None) -> dt.datetime:
    """``RECONCILIATION_SLA_BUSINESS_DAYS`` business days after ``created_at``, same time."""
    days = settings.RECONCILIATION_SLA_BUSINESS_DAYS
    key = calendar or settings.PAYOUT_CALENDAR
    local = created_at.astimezone(_rules(key).time_zone)
    target = shift_business_days(local.date(), days, key)
    return dt.datetime.combine(target, local.timetz())
