"""Reads for accounts: resolve a bearer token to its user."""

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
