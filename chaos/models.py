"""The chaos settings in force (one row) and the append-only log of every change to them."""

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone


class ChaosState(models.Model):
    """The single row (pk 1) holding the chaos settings; changed only by chaos.services."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    version = models.PositiveIntegerField(default=0)
    settings = models.JSONField(default=dict)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "chaos state"
        verbose_name_plural = "chaos state"

    def __str__(self) -> str:
        return f"Chaos settings v{self.version} ({self.settings.get('preset', 'off')})"


class ChaosChange(models.Model):
    """One change of the chaos settings: who, when, what. Never updated or deleted."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the log still names the person after their account is removed.
    actor_username = models.CharField(max_length=150)
    preset = models.CharField(max_length=40)
    summary = models.TextField()
    settings = models.JSONField()
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} by {self.actor_username}: {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Chaos changes are append-only; record a new change instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Chaos changes are append-only and cannot be deleted.")
