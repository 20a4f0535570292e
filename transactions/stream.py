"""The transport-independent core of one live-stream connection.

``StreamRequest`` is what a client asked for (filters, resume point), parsed from query
parameters with errors that name the field. ``StreamBuffer`` is the per-connection bounded
queue: when the client is slower than the feed it drops the oldest events and counts them, so
a connection never holds more than ``capacity`` events whatever the client does.
"""

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from transactions.models import TransactionKind

MAX_FILTER_VALUES = 20
_STATUS_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_EVENT_ID = 2**63 - 1


class StreamInputError(ValueError):
    """A query parameter (or header) of a stream request is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def as_body(self) -> dict:
        return {
            "code": "validation_error",
            "message": f"Invalid value for {self.field}: {self.message}",
            "fields": {self.field: [self.message]},
        }

    def as_message(self) -> dict:
        return {
            "type": "error",
            "code": "validation_error",
            "field": self.field,
            "message": f"Invalid value for {self.field}: {self.message}",
            "fields": {self.field: [self.message]},
        }


@dataclass(frozen=True)
class StreamFilters:
    kinds: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    currencies: frozenset[str] = frozenset()
    min_amount: int | None = None

    def matches(self, event: dict) -> bool:
        return (
            (not self.kinds or event["kind"] in self.kinds)
            and (not self.statuses or event["status"] in self.statuses)
            and (not self.currencies or event["currency"] in self.currencies)
            and (self.min_amount is None or event["amount"] >= self.min_amount)
        )

    def as_query(self) -> dict:
        """Keyword filters for the ORM, so a replay from the table matches the live feed."""
        query = {}
        if self.kinds:
            query["kind__in"] = sorted(self.kinds)
        if self.statuses:
            query["status__in"] = sorted(self.statuses)
        if self.currencies:
            query["currency__in"] = sorted(self.currencies)
        if self.min_amount is not None:
            query["amount__gte"] = self.min_amount
        return query


@dataclass(frozen=True)
class StreamRequest:
    filters: StreamFilters = field(default_factory=StreamFilters)
    since: int | None = None


def _values(params: Mapping, name: str) -> list[str]:
    """All values of a parameter, whether repeated (?kind=a&kind=b) or comma-separated."""
    raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    values = [part.strip() for item in raw for part in str(item).split(",") if part.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise StreamInputError(name, f"at most {MAX_FILTER_VALUES} values.")
    return values


def _single(params: Mapping, name: str) -> str | None:
    values = _values(params, name)
    if len(values) > 1:
        raise StreamInputError(name, "give one value.")
    return values[0] if values else None


def parse_event_id(value: str | None, *, field_name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not value.isdigit() or int(value) > MAX_EVENT_ID:
        raise StreamInputError(
            field_name, f"must be a non-negative integer event id, got {value!r}."
        )
    return int(value)


def parse_stream_request(params: Mapping, *, last_event_id: str | None = None) -> StreamRequest:
    """Parse ``kind``, ``status``, ``currency``, ``min_amount`` and the resume point.

    ``last_event_id`` (the SSE ``Last-Event-ID`` header) wins over ``?since=`` when both are given.
    """
    kinds = _values(params, "kind")
    unknown = [kind for kind in kinds if kind not in TransactionKind.values]
    if unknown:
        raise StreamInputError(
            "kind",
            f"unknown kind {unknown[0]!r}; use one of {', '.join(TransactionKind.values)}.",
        )
    statuses = [status.lower() for status in _values(params, "status")]
    bad = [status for status in statuses if not _STATUS_RE.match(status)]
    if bad:
        raise StreamInputError("status", f"{bad[0]!r} is not a status name.")
    currencies = [currency.upper() for currency in _values(params, "currency")]
    bad = [currency for currency in currencies if not _CURRENCY_RE.match(currency)]
    if bad:
        raise StreamInputError("currency", f"{bad[0]!r} is not a 3-letter ISO 4217 code.")
    min_amount = _single(params, "min_amount")
    if min_amount is not None:
        if not min_amount.isdigit() or int(min_amount) > MAX_EVENT_ID:
            raise StreamInputError(
                "min_amount", f"must be a non-negative integer in minor units, got {min_amount!r}."
            )
        min_amount = int(min_amount)
    if last_event_id is not None and last_event_id.strip():
        since = parse_event_id(last_event_id, field_name="Last-Event-ID")
    else:
        since = parse_event_id(_single(params, "since"), field_name="since")
    return StreamRequest(
        filters=StreamFilters(
            kinds=frozenset(kinds),
            statuses=frozenset(statuses),
            currencies=frozenset(currencies),
            min_amount=min_amount,
        ),
        since=since,
    )


@dataclass
class DropReport:
    count: int
    first_id: int
    last_id: int

    def as_message(self) -> dict:
        return {
            "type": "dropped",
            "count": self.count,
            "first_id": self.first_id,
            "last_id": self.last_id,
        }


class StreamBuffer:
    """A bounded FIFO of events for one connection that drops its oldest when full.

    Dropped events are counted and their id range kept until ``take_drop_report`` hands them to
    the sender, so what a client receives plus what it is told was dropped is exactly what was
    offered. Memory is bounded by ``capacity`` events, never by how slow the client is.
    """

    __slots__ = ("capacity", "_events", "_drops", "dropped_total", "offered_total")

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity: must be at least 1")
        self.capacity = capacity
        # Allocated with the first event: an idle connection holds no queue storage.
        self._events: deque[dict] | None = None
        self._drops: DropReport | None = None
        self.dropped_total = 0
        self.offered_total = 0

    def __len__(self) -> int:
        return len(self._events) if self._events is not None else 0

    @property
    def is_full(self) -> bool:
        return len(self) >= self.capacity

    def offer(self, event: dict) -> bool:
        """Queue an event; returns True if an older event had to be dropped to make room."""
        self.offered_total += 1
        dropped = False
        if self._events is None:
            self._events = deque()
        elif len(self._events) >= self.capacity:
            self._record_drop(self._events.popleft())
            dropped = True
        self._events.append(event)
        return dropped

    def _record_drop(self, event: dict) -> None:
        self.dropped_total += 1
        if self._drops is None:
            self._drops = DropReport(count=1, first_id=event["id"], last_id=event["id"])
        else:
            self._drops.count += 1
            self._drops.first_id = min(self._drops.first_id, event["id"])
            self._drops.last_id = max(self._drops.last_id, event["id"])

    def take(self, limit: int) -> list[dict]:
        """Up to ``limit`` of the oldest queued events, oldest first."""
        events = self._events
        if events is None:
            return []
        if len(events) <= limit:
            self._events = None  # drained: give the storage back
            return list(events)
        return [events.popleft() for _ in range(limit)]

    def take_drop_report(self) -> DropReport | None:
        report, self._drops = self._drops, None
        return report

    @property
    def has_drop_report(self) -> bool:
        return self._drops is not None
