"""System check: the payout settlement settings name a real calendar, time zone and cut-off."""

import holidays
from django.conf import settings
from django.core.checks import Error, register

from payouts.settlement import CALENDARS, parse_cutoff, parse_time_zone


@register()
def check_payout_settings(app_configs=None, **kwargs):
    errors = []
    calendar = settings.PAYOUT_CALENDAR
    if calendar not in CALENDARS:
        errors.append(
            Error(
                f"PAYOUT_CALENDAR={calendar!r} is not a settlement calendar.",
                hint=f"Use one of {', '.join(CALENDARS)}.",
                id="payouts.E001",
            )
        )
    zone = settings.PAYOUT_BANK_TIME_ZONE
    if zone:
        try:
            parse_time_zone(zone)
        except ValueError as exc:
            errors.append(Error(f"PAYOUT_BANK_TIME_ZONE: {exc}", id="payouts.E002"))
    try:
        parse_cutoff(settings.PAYOUT_CUTOFF)
    except ValueError as exc:
        errors.append(Error(f"PAYOUT_CUTOFF: {exc}", id="payouts.E003"))
    if "XFED" not in holidays.list_supported_financial():
        # An older install would fail on the first US settlement date instead of at start-up.
        errors.append(
            Error(
                f"holidays {holidays.__version__} has no Federal Reserve calendar (XFED).",
                hint="Install requirements.txt (holidays 0.109 or later).",
                id="payouts.E004",
            )
        )
    return errors
