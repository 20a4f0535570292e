"""One table of idempotency keys for every write that takes an ``Idempotency-Key`` header."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """A write request's key, scoped per user: claimed first, then completed with its answer.

    ``scope`` names the operation ("payments.create", "payouts.create", ...); it is part of
    the fingerprint, so one key reused for another operation is refused as reused.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of scope and canonical body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    claim_token = models.CharField(max_length=32, help_text="Who holds an in-progress claim.")
    claimed_at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    resource_id = models.CharField(
        max_length=64, blank=True, help_text="Public id of what the first request made."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} ({self.state})"
