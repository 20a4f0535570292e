"""Reads for transactions: replay from the outbox, the resume window, stream health; the
transactions list (sorted keyset pages), detail and CSV export."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Min
from django.utils import timezone

from payflow.currencies import CURRENCIES, major_text, parse_minimum
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
    rows = StreamEvent.objects.select_related("transaction")
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


# --- The transactions list, detail and export (the table, not the live feed) -----------------

TRANSACTION_SORTS = {
    "created_at": "created_at",
    "amount": "amount",
    "status": "status",
    "kind": "kind",
    "merchant": "merchant",
}
DEFAULT_TRANSACTION_SORT = "-created_at"
MAX_TRANSACTION_PAGE = 200
_REF_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")


@dataclass(frozen=True)
class TransactionQuery:
    """The stream's filters plus links to a payment or payout batch, and a sort."""

    filters: StreamFilters
    payment_ref: str = ""
    payout_ref: str = ""
    sort: object = None  # payflow.pagination.SortSpec


def parse_transaction_query(params) -> TransactionQuery:
    """Validate every field and name every bad one (InvalidInput), never just the first."""
    from payflow.exceptions import InvalidInput
    from payflow.pagination import parse_sort
    from transactions.stream import StreamInputError, parse_stream_request

    errors: dict[str, list[str]] = {}
    parsed = {}
    for name in ("kind", "status", "currency", "min_amount"):
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name)
        if values in (None, "", []):
            continue
        single = {name: values}
        try:
            parsed[name] = getattr(parse_stream_request(_Params(single)).filters, _ATTR[name])
        except StreamInputError as exc:
            errors[exc.field] = [exc.message]
    refs = {}
    for name in ("payment_ref", "payout_ref"):
        value = (params.get(name) or "").strip()
        if value and not _REF_RE.match(value):
            errors[name] = ["Use a public id such as pay_… or po_…."]
        refs[name] = value
    sort = None
    try:
        sort = parse_sort(
            params.get("sort"), allowed=TRANSACTION_SORTS, default=DEFAULT_TRANSACTION_SORT
        )
    except ValueError as exc:
        errors["sort"] = [str(exc).removeprefix("sort: ")]
    if errors:
        raise InvalidInput.for_fields(errors)
    filters = StreamFilters(
        kinds=parsed.get("kind", frozenset()),
        statuses=parsed.get("status", frozenset()),
        currencies=parsed.get("currency", frozenset()),
        min_amount=parsed.get("min_amount"),
    )
    return TransactionQuery(filters=filters, sort=sort, **refs)


def typed_min_amount(params) -> tuple[int | None, str | None]:
    """The form's typed minimum ("12.50") in minor units of its one chosen currency, or why not
    (``payflow.currencies.parse_minimum``)."""
    typed = (params.get("min") or "").strip()
    if not typed:
        return None, None
    currencies = ",".join(params.getlist("currency")).split(",")
    try:
        return parse_minimum(typed, currencies), None
    except ValueError as exc:
        return None, str(exc)


def min_amount_as_typed(filters: StreamFilters) -> tuple[str, bool]:
    """The minimum as a person would type it back ("12.50"), and whether it cannot be (no
    single known currency to read the minor units in)."""
    if filters.min_amount is None:
        return "", False
    [code] = filters.currencies if len(filters.currencies) == 1 else [None]
    if code not in CURRENCIES:
        return "", True
    return major_text(filters.min_amount, code), False


_ATTR = {
    "kind": "kinds",
    "status": "statuses",
    "currency": "currencies",
    "min_amount": "min_amount",
}


class _Params(dict):
    def getlist(self, name):
        value = self.get(name, [])
        return value if isinstance(value, list) else [value]


def transactions_matching(query: TransactionQuery):
    from transactions.models import Transaction

    rows = Transaction.objects.filter(**query.filters.as_query())
    if query.payment_ref:
        rows = rows.filter(payment_ref=query.payment_ref)
    if query.payout_ref:
        rows = rows.filter(payout_ref=query.payout_ref)
    return rows


def transaction_list(*, query: TransactionQuery, cursor: str | None, limit: int):
    """One sorted keyset page: (transactions, next_cursor). A foreign cursor is InvalidInput."""
    from payflow.exceptions import InvalidInput
    from payflow.pagination import sorted_page

    try:
        return sorted_page(
            transactions_matching(query), sort=query.sort, cursor=cursor, limit=limit
        )
    except ValueError as exc:
        raise InvalidInput.for_fields({"cursor": [str(exc).removeprefix("cursor: ")]}) from None


def transaction_get(*, public_id: str):
    from payflow.exceptions import NotFound
    from transactions.models import Transaction

    transaction = Transaction.objects.filter(public_id=public_id).first()
    if transaction is None:
        raise NotFound(f"No transaction {public_id!r}.")
    return transaction


def transaction_for_event(*, event_id: int):
    """The transaction a stream event reports (live rows link through this)."""
    from payflow.exceptions import NotFound

    event = StreamEvent.objects.select_related("transaction").filter(pk=event_id).first()
    if event is None or event.transaction is None:
        raise NotFound(f"No transaction for stream event {event_id}.")
    return event.transaction


def transaction_events(*, transaction) -> list[StreamEvent]:
    """What the stream said about this transaction, newest first."""
    return list(StreamEvent.objects.filter(transaction=transaction).order_by("-id")[:50])


def transaction_siblings(*, transaction) -> list:
    """Other transactions of the same payment or payout batch, newest first."""
    from transactions.models import Transaction

    if transaction.payment_ref:
        rows = Transaction.objects.filter(payment_ref=transaction.payment_ref)
    elif transaction.payout_ref:
        rows = Transaction.objects.filter(payout_ref=transaction.payout_ref)
    else:
        return []
    return list(rows.exclude(pk=transaction.pk).order_by("-created_at", "-id")[:50])


EXPORT_HEADER = [
    "id",
    "created_at",
    "kind",
    "status",
    "amount",
    "currency",
    "amount_minor",
    "merchant",
    "payment_id",
    "payout_batch_id",
]


def transaction_export(*, query: TransactionQuery):
    """(total, rows): every matching transaction as CSV cells, streamed in chunks."""
    from payflow.export import CHUNK_ROWS
    from payflow.formatting import decimal_string, utc_iso

    rows = transactions_matching(query).order_by(*query.sort.order_by())
    total = rows.count()
    fields = ["public_id", "created_at", "kind", "status", "amount", "currency", "merchant"]
    fields += ["payment_ref", "payout_ref"]

    def cells():
        for t in rows.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
            public_id, created_at, kind, status, amount, currency, merchant, pay, payout = t
            try:
                money = decimal_string(amount, currency)
            except ValueError:
                money = ""
            yield [
                public_id,
                utc_iso(created_at),
                kind,
                status,
                money,
                currency,
                amount,
                merchant,
                pay,
                payout,
            ]

    return total, cells()


FAILED_STATUSES = ("failed", "declined")


def volume_per_minute(*, minutes: int = 60, now=None) -> list[tuple]:
    """(minute start, transactions, failed or declined) for each of the last ``minutes``
    minutes, oldest first: one grouped query over an indexed time range."""
    from django.db.models import Count, Q
    from django.db.models.functions import TruncMinute
    from django.utils import timezone

    from transactions.models import Transaction

    now = (now or timezone.now()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    rows = (
        Transaction.objects.filter(created_at__gte=start)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute")
        .annotate(n=Count("id"), failed=Count("id", filter=Q(status__in=FAILED_STATUSES)))
        .order_by()
    )
    counts = {row["minute"]: (row["n"], row["failed"]) for row in rows}
    buckets = []
    for index in range(minutes):
        minute = start + timedelta(minutes=index)
        count, failed = counts.get(minute, (0, 0))
        buckets.append((minute, count, failed))
    return buckets
