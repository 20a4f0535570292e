"""Writes for accounts: API tokens."""

from django.utils import timezone

from payflow.accounts.models import ApiToken, hash_token, mint_token


def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for the user; returns the row and the raw token (shown once, never stored)."""
    raw = mint_token()
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=hash_token(raw), display_prefix=raw[:10]
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def display_preference_set(*, user, time_zone: str, locale: str):
    """Save a person's display time zone and locale ("" for either: follow the browser)."""
    from payflow import formatting
    from payflow.accounts.models import DisplayPreference
    from payflow.exceptions import InvalidInput

    errors = {}
    if time_zone and not formatting.valid_time_zone(time_zone):
        errors["time_zone"] = [f"{time_zone!r} is not an IANA time zone such as Europe/Berlin."]
    if locale and locale not in formatting.LOCALES:
        errors["locale"] = ["Choose one of the listed number formats."]
    if errors:
        raise InvalidInput.for_fields(errors)
    preference, _ = DisplayPreference.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "locale": locale}
    )
    return preference
