"""Reads for saved views: a person's views for a page, plus the defaults everyone has."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from search.models import PAGES, SavedView


@dataclass(frozen=True)
class ViewLink:
    name: str
    url: str
    saved_id: int | None = None  # None for a default view


def default_views(*, page: str, today_in_zone: str) -> list[ViewLink]:
    """The views everyone has: "Needs attention" and "Failed today" (today in the reader's
    zone) where the list can filter that way."""
    today = datetime.now(ZoneInfo(today_in_zone)).date().isoformat()
    defaults = {
        "payments": [
            ViewLink("Needs attention", "/payments?status=requires_action"),
            ViewLink("Failed today", f"/payments?status=failed&created_from={today}"),
        ],
        # Payout and stream filters have no "created on" date: their second default is
        # honest about that rather than called "today".
        "payouts": [
            ViewLink("Needs attention", "/payouts?needs_attention=1"),
            ViewLink("Failed", "/payouts?status=failed"),
        ],
        "transactions": [
            ViewLink("Failed or declined", "/transactions?status=failed,declined"),
        ],
    }
    return defaults.get(page, [])


def views_for(*, user, page: str) -> list[ViewLink]:
    if page not in PAGES:
        return []
    rows = SavedView.objects.filter(owner=user, page=page).order_by("name")
    return [ViewLink(view.name, f"/views/{view.pk}", view.pk) for view in rows]


def saved_view_get(*, view_id: int) -> SavedView | None:
    return SavedView.objects.filter(pk=view_id).first()
