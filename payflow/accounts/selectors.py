"""Reads for accounts: resolve a bearer token to its user; a reader's display preferences."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from payflow.accounts.models import ApiToken, hash_token

_LAST_USED_GRANULARITY = timedelta(minutes=1)


def user_for_bearer_token(raw_token: str):
    """The active user owning this unrevoked token, or None."""
    if not raw_token or len(raw_token) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw_token), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
        # Throttled so a busy client does not turn every read into a write.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def bearer_token_from_header(value: str) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header, or None if absent/malformed."""
    scheme, _, credentials = (value or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


TIME_ZONE_COOKIE = "pf_tz"


@dataclass(frozen=True)
class DisplayPrefs:
    locale: str
    time_zone: str
    chosen_time_zone: str  # "" when it follows the browser
    chosen_locale: str


def display_preference_for(user):
    from payflow.accounts.models import DisplayPreference

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return DisplayPreference.objects.filter(user=user).first()


def display_prefs(request) -> DisplayPrefs:
    """The locale and time zone this request's reader sees money and time in (cached per request).

    Time zone: the user's choice, else the browser's (cookie), else UTC. Locale: the user's
    choice, else the browser's Accept-Language, else en-US.
    """
    from payflow import formatting

    cached = getattr(request, "_payflow_display_prefs", None)
    if cached is not None:
        return cached
    preference = display_preference_for(getattr(request, "user", None))
    chosen_zone = formatting.valid_time_zone(preference.time_zone if preference else "") or ""
    chosen_locale = (preference.locale if preference else "") or ""
    zone = (
        chosen_zone
        or formatting.valid_time_zone(request.COOKIES.get(TIME_ZONE_COOKIE))
        or formatting.DEFAULT_TIME_ZONE
    )
    locale = (
        formatting.resolve_locale(chosen_locale)
        if chosen_locale
        else formatting.locale_from_accept_language(request.headers.get("Accept-Language"))
    )
    prefs = DisplayPrefs(
        locale=locale, time_zone=zone, chosen_time_zone=chosen_zone, chosen_locale=chosen_locale
    )
    request._payflow_display_prefs = prefs
    return prefs
