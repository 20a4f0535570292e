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
