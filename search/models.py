"""Saved views: a person's named filters and sort for a list page, opened by a shareable URL.

A view stores the page and its query string (filters and sort, never a cursor), so opening one
is a redirect to the list with those parameters: the list validates them as it always does.
"""

from django.conf import settings
from django.db import models

PAGES = {
    "payments": "/payments",
    "payouts": "/payouts",
    "transactions": "/transactions",
}


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    page = models.CharField(max_length=20, choices=[(key, key.title()) for key in PAGES])
    query = models.CharField(max_length=1000, blank=True, help_text="Filters and sort.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "page", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.page}, {self.owner})"

    @property
    def url(self) -> str:
        return PAGES[self.page] + (f"?{self.query}" if self.query else "")
