"""Model pieces every app shares: the append-only base for history tables."""

from django.db import models

# Every history list (pages, API, admin) reads newest first; the id orders rows of one instant.
HISTORY_ORDER = ("-created_at", "-id")


class AppendOnlyError(ValueError):
    """A history row was about to be changed or deleted."""


class AppendOnlyModel(models.Model):
    """History is never edited: saving an existing row or deleting one is refused."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only; never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only; never deleted.")
