"""Per-user bearer API tokens, stored as SHA-256 hashes (the token itself is shown once)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "pf_"


def hash_token(raw_token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no salt/stretching needed.
    return hashlib.sha256(raw_token.encode()).hexdigest()


def mint_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so a person can tell tokens apart without the secret.
    display_prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.display_prefix}… ({self.user}, {state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DisplayPreference(models.Model):
    """How one person reads money and time: a display time zone and a number locale.

    Blank means "not chosen": the time zone then follows the browser (the ``pf_tz`` cookie that
    static/js/shell.js sets) and the locale follows the browser's Accept-Language.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="display_preference"
    )
    time_zone = models.CharField(max_length=64, blank=True)
    locale = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone or 'browser zone'}, {self.locale or 'browser locale'}"
