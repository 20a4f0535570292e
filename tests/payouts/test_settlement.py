"""The settlement rule: T+N business days after the effective day, per calendar, zone, cut-off."""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payouts.settlement import (
    calendar_rules,
    effective_day,
    expected_settlement_date,
    settlement_deadline,
    settlement_timeline,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def bank_settings(settings):
    settings.PAYOUT_CALENDAR = "US"
    settings.PAYOUT_BANK_TIME_ZONE = ""
    settings.PAYOUT_CUTOFF = "17:00"


def at(year, month, day, hour, minute=0, second=0, tz=NY):
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)


CASES = [
    # (case, calendar, submitted_at, N, expected)
    ("T+2 Monday before cut-off settles Wednesday", "US", at(2026, 3, 2, 10), 2, (2026, 3, 4)),
    ("one second before cut-off counts today", "US", at(2026, 3, 2, 16, 59, 59), 2, (2026, 3, 4)),
    ("at cut-off counts from the next business day", "US", at(2026, 3, 2, 17), 2, (2026, 3, 5)),
    ("after cut-off counts from the next business day", "US", at(2026, 3, 2, 18), 2, (2026, 3, 5)),
    ("Friday T+1 settles Monday", "US", at(2026, 3, 13, 10), 1, (2026, 3, 16)),
    ("Friday T+1, Labor Day Monday: Tuesday", "US", at(2026, 9, 4, 10), 1, (2026, 9, 8)),
    ("Friday T+1, MLK Day Monday: Tuesday", "US", at(2026, 1, 16, 9), 1, (2026, 1, 20)),
    (
        "Friday after cut-off T+1, Labor Day: Wednesday",
        "US",
        at(2026, 9, 4, 17, 30),
        1,
        (2026, 9, 9),
    ),
    ("Saturday submission T+0 settles Monday", "US", at(2026, 3, 14, 11), 0, (2026, 3, 16)),
    ("Sunday submission T+1 settles Tuesday", "US", at(2026, 3, 15, 11), 1, (2026, 3, 17)),
    ("T+0 before cut-off settles the same day", "US", at(2026, 3, 3, 9), 0, (2026, 3, 3)),
    # The Fed is open the Friday before a Saturday holiday (2026-07-04 is a Saturday) ...
    ("Fed open Friday 2026-07-03", "US", at(2026, 7, 2, 10), 1, (2026, 7, 3)),
    # ... and closed the Monday after a Sunday one (2027-07-04 is a Sunday).
    ("Fed closed Monday 2027-07-05", "US", at(2027, 7, 2, 10), 1, (2027, 7, 6)),
    (
        "Fed open Friday 2027-12-31 (New Year on Saturday)",
        "US",
        at(2027, 12, 30, 10),
        1,
        (2027, 12, 31),
    ),
    (
        "Fed closed Monday 2022-12-26 (Christmas on Sunday)",
        "US",
        at(2022, 12, 23, 10),
        1,
        (2022, 12, 27),
    ),
    ("Juneteenth Friday skipped", "US", at(2026, 6, 18, 10), 1, (2026, 6, 22)),
    ("Thanksgiving skipped, Fed open the day after", "US", at(2026, 11, 25, 10), 1, (2026, 11, 27)),
    ("Fed open on Christmas Eve", "US", at(2026, 12, 23, 10), 1, (2026, 12, 24)),
    ("Christmas Friday skipped", "US", at(2026, 12, 24, 10), 1, (2026, 12, 28)),
    ("Columbus Day skipped", "US", at(2026, 10, 9, 10), 1, (2026, 10, 13)),
    ("Veterans Day skipped", "US", at(2026, 11, 10, 10), 1, (2026, 11, 12)),
    ("New Year's Day skipped", "US", at(2026, 12, 31, 10), 1, (2027, 1, 4)),
    ("Washington's Birthday skipped", "US", at(2026, 2, 13, 10), 1, (2026, 2, 17)),
    ("Memorial Day skipped", "US", at(2026, 5, 22, 10), 1, (2026, 5, 26)),
    ("T+3 across a weekend and a holiday", "US", at(2026, 9, 3, 10), 3, (2026, 9, 9)),
    # Daylight saving: New York moves to EDT on 2026-03-08 and back to EST on 2026-11-01.
    ("21:30Z is 16:30 EST, before cut-off", "US", at(2026, 3, 6, 21, 30, tz=UTC), 1, (2026, 3, 9)),
    ("21:30Z is 17:30 EDT, after cut-off", "US", at(2026, 3, 9, 21, 30, tz=UTC), 1, (2026, 3, 11)),
    (
        "21:30Z is 17:30 EDT Friday before the fall change",
        "US",
        at(2026, 10, 30, 21, 30, tz=UTC),
        1,
        (2026, 11, 3),
    ),
    (
        "21:30Z is 16:30 EST Monday after the fall change",
        "US",
        at(2026, 11, 2, 21, 30, tz=UTC),
        1,
        (2026, 11, 3),
    ),
    (
        "submitted during the spring-forward night",
        "US",
        at(2026, 3, 8, 7, 30, tz=UTC),
        2,
        (2026, 3, 11),
    ),
    (
        "03:30Z Tuesday is still Monday evening in New York",
        "US",
        at(2026, 3, 10, 3, 30, tz=UTC),
        0,
        (2026, 3, 10),
    ),
    # TARGET2: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December.
    (
        "TARGET2 Easter: Good Friday and Easter Monday",
        "TARGET2",
        at(2026, 4, 2, 10, tz=BERLIN),
        1,
        (2026, 4, 7),
    ),
    ("TARGET2 Labour Day Friday", "TARGET2", at(2026, 4, 30, 10, tz=BERLIN), 1, (2026, 5, 4)),
    ("TARGET2 open 24 December", "TARGET2", at(2026, 12, 23, 10, tz=BERLIN), 1, (2026, 12, 24)),
    (
        "TARGET2 closed 25 and 26 December",
        "TARGET2",
        at(2026, 12, 24, 10, tz=BERLIN),
        1,
        (2026, 12, 28),
    ),
    ("TARGET2 open on a US holiday", "TARGET2", at(2026, 9, 4, 10, tz=BERLIN), 1, (2026, 9, 7)),
    (
        "TARGET2 16:30 CET before cut-off",
        "TARGET2",
        at(2026, 3, 27, 15, 30, tz=UTC),
        1,
        (2026, 3, 30),
    ),
    (
        "TARGET2 17:30 CEST after cut-off",
        "TARGET2",
        at(2026, 3, 30, 15, 30, tz=UTC),
        1,
        (2026, 4, 1),
    ),
    # UK (England and Wales) bank holidays.
    ("UK late summer bank holiday", "UK", at(2026, 8, 28, 10, tz=LONDON), 1, (2026, 9, 1)),
    (
        "UK Christmas and Boxing Day (observed Monday)",
        "UK",
        at(2026, 12, 24, 10, tz=LONDON),
        1,
        (2026, 12, 29),
    ),
    ("UK early May bank holiday", "UK", at(2026, 5, 1, 10, tz=LONDON), 1, (2026, 5, 5)),
    ("UK 17:30 BST after cut-off", "UK", at(2026, 3, 30, 16, 30, tz=UTC), 0, (2026, 3, 31)),
]


@pytest.mark.parametrize(
    ("calendar", "submitted_at", "business_days", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_expected_settlement_date(calendar, submitted_at, business_days, expected):
    assert expected_settlement_date(submitted_at, business_days, calendar) == dt.date(*expected)


def test_naive_submission_time_is_refused():
    with pytest.raises(ValueError, match="submitted_at"):
        expected_settlement_date(dt.datetime(2026, 3, 2, 10), 2)  # noqa: DTZ001


def test_negative_business_days_are_refused():
    with pytest.raises(ValueError, match="business_days"):
        expected_settlement_date(at(2026, 3, 2, 10), -1)


def test_unknown_calendar_is_refused():
    with pytest.raises(ValueError, match="calendar"):
        expected_settlement_date(at(2026, 3, 2, 10), 1, "MARS")


def test_cutoff_setting_applies_to_the_configured_calendar(settings):
    settings.PAYOUT_CUTOFF = "15:00"
    assert expected_settlement_date(at(2026, 3, 2, 15, 30), 0, "US") == dt.date(2026, 3, 3)
    # Other calendars keep their own bank's cut-off.
    assert expected_settlement_date(at(2026, 3, 2, 15, 30, tz=BERLIN), 0, "TARGET2") == dt.date(
        2026, 3, 2
    )


def test_bank_time_zone_setting_applies_to_the_configured_calendar(settings):
    settings.PAYOUT_BANK_TIME_ZONE = "America/Los_Angeles"
    # 16:30 in Los Angeles is after the New York cut-off but before Los Angeles's.
    submitted = dt.datetime(2026, 3, 2, 16, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert expected_settlement_date(submitted, 0, "US") == dt.date(2026, 3, 2)


def test_fed_calendar_has_exactly_the_eleven_federal_holidays():
    fed = {
        "New Year's Day",
        "Birthday of Martin Luther King, Jr.",
        "Washington's Birthday",
        "Memorial Day",
        "Juneteenth National Independence Day",
        "Independence Day",
        "Labor Day",
        "Columbus Day",
        "Veterans Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
    calendar = holidays.financial_holidays("XFED", years=range(2022, 2036))
    for year in range(2022, 2036):
        names = {
            name.removesuffix(" (observed)") for day, name in calendar.items() if day.year == year
        }
        assert names == fed, year
    observed_fridays = [
        day for day, name in calendar.items() if day.weekday() == 4 and "observed" in name
    ]
    assert observed_fridays == []


def test_fed_is_open_on_the_day_after_thanksgiving_and_christmas_eve():
    rules = calendar_rules("US")
    for year in range(2022, 2036):
        thanksgiving = [
            d
            for d, n in holidays.financial_holidays("XFED", years=year).items()
            if n == "Thanksgiving Day"
        ][0]
        assert rules.is_business_day(thanksgiving + dt.timedelta(days=1))
        christmas_eve = dt.date(year, 12, 24)
        if christmas_eve.weekday() < 5:
            assert rules.is_business_day(christmas_eve), year


def test_timeline_marks_weekend_and_holiday_as_skipped_and_counts_business_days():
    timeline = settlement_timeline(at(2026, 9, 4, 18), 2, "US")
    kinds = [(day.date.isoformat(), day.kind, day.business_day) for day in timeline.days]
    assert kinds == [
        ("2026-09-04", "submission", None),  # after cut-off: not counted
        ("2026-09-05", "weekend", None),
        ("2026-09-06", "weekend", None),
        ("2026-09-07", "holiday", None),
        ("2026-09-08", "business", 0),
        ("2026-09-09", "business", 1),
        ("2026-09-10", "settlement", 2),
    ]
    assert timeline.days[3].holiday_name == "Labor Day"
    assert timeline.cutoff_at == at(2026, 9, 4, 17)
    assert timeline.before_cutoff is False
    assert timeline.effective_day == dt.date(2026, 9, 8)


def test_timeline_of_same_day_settlement_is_one_day():
    timeline = settlement_timeline(at(2026, 3, 3, 9), 0, "US")
    assert [(d.kind, d.is_submission, d.business_day) for d in timeline.days] == [
        ("settlement", True, 0)
    ]


def test_settlement_deadline_is_the_end_of_the_settlement_day_at_the_bank():
    assert settlement_deadline(dt.date(2026, 3, 11), calendar_rules("US")) == at(2026, 3, 12, 0)


aware_moments = st.datetimes(
    min_value=dt.datetime(2021, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=dt.datetime(2034, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
calendars = st.sampled_from(["US", "TARGET2", "UK"])


def _business_days_between(start, end, rules):
    """Business days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += rules.is_business_day(day)
    return count


@settings(max_examples=300, deadline=None)
@given(submitted=aware_moments, business_days=st.integers(0, 10), calendar=calendars)
def test_property_settlement_is_a_business_day_n_business_days_after_the_effective_day(
    submitted, business_days, calendar
):
    rules = calendar_rules(calendar)
    settles = expected_settlement_date(submitted, business_days, calendar)
    start = effective_day(submitted, rules)
    assert rules.is_business_day(settles)
    assert rules.is_business_day(start)
    assert start >= rules.local(submitted).date()
    assert _business_days_between(start, settles, rules) == business_days


@settings(max_examples=300, deadline=None)
@given(
    first=aware_moments,
    later_by=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=20)),
    business_days=st.integers(0, 10),
    calendar=calendars,
)
def test_property_a_later_submission_never_settles_earlier(
    first, later_by, business_days, calendar
):
    assert expected_settlement_date(first, business_days, calendar) <= expected_settlement_date(
        first + later_by, business_days, calendar
    )


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("PAYOUT_CALENDAR", "MARS", "payouts.E001"),
        ("PAYOUT_BANK_TIME_ZONE", "Moon/Base", "payouts.E002"),
        ("PAYOUT_CUTOFF", "5pm", "payouts.E003"),
    ],
)
def test_bad_settlement_settings_fail_the_system_check(settings, name, value, check_id):
    from payouts.checks import check_payout_settings

    setattr(settings, name, value)
    assert [error.id for error in check_payout_settings()] == [check_id]
