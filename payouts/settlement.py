"""When a payout batch settles: T+N business days in the bank's calendar, time zone and cut-off.

Pure date arithmetic (no database), so it can be tested exhaustively. The rule:
convert the submission time to the bank's time zone; if that local date is a business day and the
local time is before the cut-off, counting starts that day (the *effective day*), otherwise on the
next business day; the batch settles N business days after the effective day. N = 0 means
same-day settlement: the effective day itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.conf import settings

WEEKEND = {5, 6}  # Saturday, Sunday: no calendar offered here settles on a weekend.
MAX_BUSINESS_DAYS = 30


@dataclass(frozen=True)
class CalendarRules:
    """What a calendar's bank needs for the rule: holidays, its time zone and its cut-off."""

    key: str
    label: str
    time_zone: ZoneInfo
    cutoff: dt.time

    def holiday_name(self, day: dt.date) -> str | None:
        return _holiday_name(self.key, day)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() not in WEEKEND and _holiday_name(self.key, day) is None

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day strictly after ``day``."""
        day += dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.time_zone)

    def cutoff_on(self, day: dt.date) -> dt.datetime:
        """The cut-off moment on ``day`` in the bank's zone, as an aware datetime."""
        return dt.datetime.combine(day, self.cutoff, tzinfo=self.time_zone)


# Each calendar's own bank zone and cut-off. The settings PAYOUT_BANK_TIME_ZONE / PAYOUT_CUTOFF
# describe the bank PayFlow is configured for, so they override the PAYOUT_CALENDAR entry only.
CALENDARS: dict[str, tuple[str, str, str]] = {
    "US": ("US Federal Reserve", "America/New_York", "17:00"),
    "TARGET2": ("TARGET2 (ECB)", "Europe/Berlin", "17:00"),
    "UK": ("UK (England and Wales)", "Europe/London", "17:00"),
}
CALENDAR_CHOICES = [(key, label) for key, (label, _zone, _cutoff) in CALENDARS.items()]


# Years filled in up front: a holidays object fills other years lazily on lookup, which is not
# safe while another thread reads it, so lookups outside this range take a lock.
PRELOADED_YEARS = range(1990, 2101)
_EXPAND_LOCK = threading.Lock()


@functools.cache
def _holidays(key: str) -> holidays.HolidayBase:
    years = PRELOADED_YEARS
    if key == "US":
        # The Fed's own K.8 schedule: a Sunday holiday is observed on the Monday, a Saturday
        # one is not moved (the Reserve Banks are open the Friday before).
        return holidays.financial_holidays("XFED", years=years)
    if key == "TARGET2":
        return holidays.financial_holidays("ECB", years=years)
    if key == "UK":
        return holidays.UK(subdiv="ENG", language="en_GB", years=years)
    raise ValueError(f"calendar: unknown calendar {key!r}; use one of {', '.join(CALENDARS)}.")


def _holiday_name(key: str, day: dt.date) -> str | None:
    calendar = _holidays(key)
    if day.year in PRELOADED_YEARS:
        return calendar.get(day)
    with _EXPAND_LOCK:
        return calendar.get(day)


def parse_cutoff(value: str | dt.time) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"cutoff: {value!r} is not a time such as 17:00.") from None


def parse_time_zone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time zone: {value!r} is not an IANA time zone such as America/New_York."
        ) from None


def default_calendar() -> str:
    return settings.PAYOUT_CALENDAR or "US"


def calendar_rules(calendar: str | None = None) -> CalendarRules:
    """The rules of ``calendar`` (default: the PAYOUT_CALENDAR setting)."""
    key = calendar or default_calendar()
    if key not in CALENDARS:
        raise ValueError(f"calendar: unknown calendar {key!r}; use one of {', '.join(CALENDARS)}.")
    label, zone, cutoff = CALENDARS[key]
    if key == default_calendar():
        zone = settings.PAYOUT_BANK_TIME_ZONE or zone
        cutoff = settings.PAYOUT_CUTOFF or cutoff
    return CalendarRules(
        key=key, label=label, time_zone=parse_time_zone(zone), cutoff=parse_cutoff(cutoff)
    )


def _check_arguments(submitted_at: dt.datetime, business_days: int) -> None:
    if not isinstance(submitted_at, dt.datetime):
        raise TypeError("submitted_at: must be a datetime")
    if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
        raise ValueError("submitted_at: must be time-zone-aware")
    if isinstance(business_days, bool) or not isinstance(business_days, int):
        raise TypeError("business_days: must be an integer")
    if not 0 <= business_days <= MAX_BUSINESS_DAYS:
        raise ValueError(f"business_days: must be between 0 and {MAX_BUSINESS_DAYS}")


def effective_day(submitted_at: dt.datetime, rules: CalendarRules) -> dt.date:
    """The business day counting starts from (T): today if before cut-off, else the next one."""
    local = rules.local(submitted_at)
    if rules.is_business_day(local.date()) and local.time() < rules.cutoff:
        return local.date()
    return rules.next_business_day(local.date())


def add_business_days(day: dt.date, business_days: int, rules: CalendarRules) -> dt.date:
    for _ in range(business_days):
        day = rules.next_business_day(day)
    return day


def expected_settlement_date(
    submitted_at: dt.datetime,
    business_days: int,
    calendar: str = "US",
    *,
    rules: CalendarRules | None = None,
) -> dt.date:
    """The date a T+``business_days`` batch submitted at ``submitted_at`` settles.

    ``submitted_at`` must be time-zone-aware. ``rules`` overrides the calendar's zone and
    cut-off (a batch keeps the ones it was submitted under).
    """
    _check_arguments(submitted_at, business_days)
    rules = rules or calendar_rules(calendar)
    return add_business_days(effective_day(submitted_at, rules), business_days, rules)


def settlement_deadline(settlement_date: dt.date, rules: CalendarRules) -> dt.datetime:
    """End of the settlement day in the bank's zone: after it, an unconfirmed batch is overdue."""
    next_day = settlement_date + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time(0, 0), tzinfo=rules.time_zone)


@dataclass(frozen=True)
class TimelineDay:
    date: dt.date
    kind: str  # submission, business, weekend, holiday, settlement
    holiday_name: str | None
    business_day: int | None  # 0 for the effective day (T), 1..N after it; None when skipped
    is_submission: bool
    is_effective: bool
    is_settlement: bool

    @property
    def skipped(self) -> bool:
        return self.business_day is None

    @property
    def note(self) -> str:
        if self.kind == "holiday":
            return f"Holiday: {self.holiday_name} (skipped)"
        if self.kind == "weekend":
            return "Weekend (skipped)"
        if self.business_day is None:
            return "Not counted"
        return "T" if self.business_day == 0 else f"T+{self.business_day}"


@dataclass(frozen=True)
class Timeline:
    submitted_at: dt.datetime  # in the bank's zone
    cutoff_at: dt.datetime  # the cut-off on the submission's local date, in the bank's zone
    before_cutoff: bool  # submitted on a business day before its cut-off
    effective_day: dt.date
    settlement_date: dt.date
    business_days: int
    calendar: str
    time_zone: str
    days: tuple[TimelineDay, ...]

    @property
    def skipped_days(self) -> list[TimelineDay]:
        return [day for day in self.days if day.kind in {"weekend", "holiday"}]


def settlement_timeline(
    submitted_at: dt.datetime,
    business_days: int,
    calendar: str = "US",
    *,
    rules: CalendarRules | None = None,
) -> Timeline:
    """Every day from the submission's local date to the settlement date, classified.

    Weekends and holidays carry ``business_day=None`` (skipped) and holidays their name; the
    effective day is T (0) and each later business day counts up to N on the settlement day.
    """
    _check_arguments(submitted_at, business_days)
    rules = rules or calendar_rules(calendar)
    local = rules.local(submitted_at)
    start = effective_day(submitted_at, rules)
    settles = add_business_days(start, business_days, rules)
    days: list[TimelineDay] = []
    count: int | None = None
    day = local.date()
    while day <= settles:
        holiday = rules.holiday_name(day)
        if day == start:
            count = 0
        elif count is not None and rules.is_business_day(day):
            count += 1
        counted = count if rules.is_business_day(day) and count is not None else None
        if day == settles:
            kind = "settlement"
        elif day == local.date():
            kind = "submission"
        elif holiday and day.weekday() not in WEEKEND:
            kind = "holiday"
        elif day.weekday() in WEEKEND:
            kind = "weekend"
        else:
            kind = "business"
        days.append(
            TimelineDay(
                date=day,
                kind=kind,
                holiday_name=holiday,
                business_day=counted,
                is_submission=day == local.date(),
                is_effective=day == start,
                is_settlement=day == settles,
            )
        )
        day += dt.timedelta(days=1)
    return Timeline(
        submitted_at=local,
        cutoff_at=rules.cutoff_on(local.date()),
        before_cutoff=rules.is_business_day(local.date()) and local.time() < rules.cutoff,
        effective_day=start,
        settlement_date=settles,
        business_days=business_days,
        calendar=rules.key,
        time_zone=str(rules.time_zone),
        days=tuple(days),
    )
