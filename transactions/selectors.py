"""Reads for the transactions stream: replay from the outbox, the resume window, stream health."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Min
from django.utils import timezone

from transactions.models import StreamEvent, StreamRelayState
from transactions.stream import StreamFilters


def newest_event_id() -> int:
    return StreamEvent.objects.aggregate(newest=Max("id"))["newest"] or 0


def relay_high_water_mark() -> int:
    """Where live delivery starts when this process is not the publisher.

    With one relay across processes (PostgreSQL + Redis) that is its persisted mark; otherwise
    every process relays from the newest event it found at start.
    """
    from transactions.relay import uses_leader_election

    if uses_leader_election():
        state = StreamRelayState.objects.filter(pk=1).values_list("last_published_id", flat=True)
        if state:
            return state[0]
    return newest_event_id()


def events_between(
    *, after_id: int, through_id: int, limit: int, filters: StreamFilters | None = None
) -> list[dict]:
    """Wire events with ``after_id < id <= through_id``, oldest first, at most ``limit``."""
    rows = StreamEvent.objects.filter(id__gt=after_id, id__lte=through_id)
    if filters is not None:
        rows = rows.filter(**filters.as_query())
    return [event.as_wire() for event in rows.order_by("id")[:limit]]


@dataclass(frozen=True)
class ReplayPlan:
    """Replay ids ``start_after < id <= through``; ``gap`` is what the window leaves out.

    ``live_after``: live events up to this id were already seen by the client (it resumed from
    an id the relay had not reached yet when it connected).
    """

    start_after: int
    through: int
    gap: tuple[int, int] | None
    live_after: int


def replay_plan(*, since: int, through: int) -> ReplayPlan:
    """Bound a resume by the replay window (STREAM_REPLAY_MAX_EVENTS / _MAX_SECONDS).

    The window counts every event (not only those matching the client's filters), newest back.
    """
    if since >= through:
        # An id from the future (say, a reset database) is capped at the newest event.
        live_after = max(through, min(since, newest_event_id()))
        return ReplayPlan(start_after=through, through=through, gap=None, live_after=live_after)
    max_events = settings.STREAM_REPLAY_MAX_EVENTS
    max_seconds = settings.STREAM_REPLAY_MAX_SECONDS
    missed = StreamEvent.objects.filter(id__gt=since, id__lte=through)
    window_start = since + 1
    oldest_by_count = list(
        missed.order_by("-id").values_list("id", flat=True)[max_events - 1 : max_events]
    )
    if oldest_by_count:
        window_start = max(window_start, oldest_by_count[0])
    cutoff = timezone.now() - timedelta(seconds=max_seconds)
    oldest_by_age = missed.filter(created_at__gte=cutoff).aggregate(oldest=Min("id"))["oldest"]
    window_start = max(window_start, oldest_by_age if oldest_by_age is not None else through + 1)
    left_out = missed.filter(id__lt=window_start).aggregate(first=Min("id"), last=Max("id"))
    gap = (left_out["first"], left_out["last"]) if left_out["first"] is not None else None
    return ReplayPlan(start_after=window_start - 1, through=through, gap=gap, live_after=through)


def recent_events(*, limit: int = 50, filters: StreamFilters | None = None) -> list[StreamEvent]:
    rows = StreamEvent.objects.all()
    if filters is not None:
        rows = rows.filter(**filters.as_query())
    return list(rows.order_by("-id")[:limit])


def stream_health() -> dict:
    """For the overview page: clients, recent publish rate, drops, freshness of the last event.

    ``connected_clients`` and ``dropped_total`` add up every server process that reported in the
    last 30 s through the cache (Redis in production: all processes; the local-memory cache in
    development: this process only).
    """
    from transactions.hub import PROCESS_REGISTRY_KEY

    registry = cache.get(PROCESS_REGISTRY_KEY) or {}
    reports = cache.get_many([f"transactions:stream:process:{name}" for name in registry])
    now = timezone.now()
    window = timedelta(seconds=10)
    recent = StreamEvent.objects.filter(created_at__gte=now - window, created_at__lte=now).count()
    last_event_at = StreamEvent.objects.aggregate(last=Max("created_at"))["last"]
    return {
        "connected_clients": sum(report["connected"] for report in reports.values()),
        "events_per_second": round(recent / window.total_seconds(), 2),
        "dropped_total": sum(report["dropped_total"] for report in reports.values()),
        "last_event_at": last_event_at.isoformat() if last_event_at else None,
    }
