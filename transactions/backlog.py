"""Reads behind one connection's backlog: events it still has to get from the outbox table.

A connection that cannot take a batch into its queue (a burst, a catch-up after a stall, a
resume) keeps only the id range it still owes the client and reads it from the table page by
page as the client drains. When that range grows past ``STREAM_BACKLOG_MAX_EVENTS`` ids, the
oldest part is dropped: ``dropped_between`` says exactly how many of the client's events that
was, so received + dropped = sent still holds.
"""

from django.db.models import Count, Max, Min

from transactions.models import StreamEvent
from transactions.stream import DropReport, StreamFilters


def dropped_between(*, after_id: int, through_id: int, filters: StreamFilters) -> DropReport | None:
    """The client's events with ``after_id < id <= through_id`` as one drop report (or None)."""
    rows = StreamEvent.objects.filter(id__gt=after_id, id__lte=through_id, **filters.as_query())
    found = rows.aggregate(count=Count("id"), first=Min("id"), last=Max("id"))
    if not found["count"]:
        return None
    return DropReport(count=found["count"], first_id=found["first"], last_id=found["last"])
