"""One live-stream connection, whatever the transport (WebSocket or SSE).

Order of work: subscribe to the process hub first, then replay what the client missed from the
table (bounded by the replay window; a ``gap`` message says what is left out), then go live.
The hub hands events to ``offer``; ``messages`` yields what the transport sends: ``events``
frames (many events each), ``dropped`` reports, ``gap``, ``heartbeat``.

Pull, not push: a batch that does not fit in the queue is never forced into it. The connection
keeps the id range it still owes (its *backlog*) and reads it from the outbox table page by page
as the client drains, so a client that keeps up gets everything whatever happened upstream (a
burst, a relay stall, a hub catch-up). Only a client that falls more than
``STREAM_BACKLOG_MAX_EVENTS`` ids behind the head loses its oldest events, counted and reported.

Never silent: a failed table read (database down) keeps the backlog where it was, heartbeats go
on, and the read is retried with capped backoff until it succeeds.
"""

import asyncio
import json
import logging
import random
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import Error as DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from chaos.config import CHAOS_OFF, aget_chaos_settings
from payflow import metrics
from payflow.exceptions import DomainError, ServiceUnavailable
from transactions import backlog, selectors
from transactions.hub import get_hub
from transactions.relay import Backoff
from transactions.stream import StreamBuffer, StreamRequest

logger = logging.getLogger(__name__)

MAX_FRAME_EVENTS = 500
# A consumer slowed by chaos reads small frames, so a fast feed really fills its queue and the
# drop-oldest path (counts, warnings, resume) can be seen live.
SLOW_CONSUMER_FRAME_EVENTS = 10
REPLAY_PAGE = 500
RETRY_AFTER_SECONDS = 2
OUTAGE_ERRORS = (DatabaseError, RedisError, OSError)
FRAME_CACHE_SIZE = 2048
EVENT_CACHE_SIZE = 50_000

# Serialized once per process, shared by every connection: an event's JSON by id (events never
# change once committed), and a whole ``events`` frame by (filters, first id, last id, count).
# A frame is a contiguous run of the connection's filtered feed, so connections with the same
# filters that send the same run send the same bytes.
_event_json: dict[int, str] = {}
_frame_text: dict[tuple, str] = {}


def _json(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


def event_json(event: dict) -> str:
    text = _event_json.get(event["id"])
    if text is None:
        if len(_event_json) >= EVENT_CACHE_SIZE:
            _event_json.clear()
        text = _event_json[event["id"]] = _json(event)
    return text


def events_frame_text(events: list[dict], filters) -> str:
    key = (filters, events[0]["id"], events[-1]["id"], len(events))
    text = _frame_text.get(key)
    if text is None:
        if len(_frame_text) >= FRAME_CACHE_SIZE:
            _frame_text.clear()
        body = ",".join([event_json(event) for event in events])
        text = _frame_text[key] = '{"type":"events","events":[' + body + "]}"
    return text


class _ChaosCache:
    """Chaos settings read at most once a second per process, however many connections ask."""

    def __init__(self):
        self.value = CHAOS_OFF
        self.read_at = 0.0

    async def get(self):
        if time.monotonic() - self.read_at >= 1.0:
            self.read_at = time.monotonic()
            try:
                self.value = await aget_chaos_settings()
            except Exception:  # noqa: BLE001 - chaos must never break the stream
                self.value = CHAOS_OFF
        return self.value


chaos_settings = _ChaosCache()


class StreamClosed(Exception):
    """The stream ends on purpose; ``message`` (if any) is sent to the client first."""

    def __init__(self, message: dict | None, *, code: int = 4503):
        super().__init__(message and message.get("reason"))
        self.message = message
        self.code = code


def stream_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The live stream cannot start: the database or channel layer is unavailable. "
        f"Retry in {RETRY_AFTER_SECONDS} s.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def closing_message(*, reason: str, message: str, last_id: int | None) -> dict:
    """Why the server ends the stream, and where the client resumes (``since`` = ``last_id``)."""
    return {"type": "closing", "reason": reason, "message": message, "last_id": last_id}


def closing_for_error(error: DomainError, *, last_id: int | None) -> dict:
    return closing_message(reason=error.code, message=error.message, last_id=last_id)


def slow_client_message(seconds: float, *, last_id: int | None) -> dict:
    return closing_message(
        reason="slow_consumer",
        message=(
            f"Disconnected: this client read nothing for {seconds:g} s while its queue was full. "
            "Reconnect with the last event id to resume."
        ),
        last_id=last_id,
    )


def server_error_message(*, last_id: int | None) -> dict:
    return closing_message(
        reason="server_error",
        message="The stream failed on the server. Reconnect with the last event id to resume.",
        last_id=last_id,
    )


def _wake_up(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


class StreamSession:
    # Thousands of these live for hours: slots, and nothing allocated before it is needed (the
    # queue's storage on the first event, the retry backoff on the first failed read, a wake-up
    # future only while the sender waits).
    __slots__ = (
        "filters", "since", "transport", "buffer", "heartbeat_seconds", "backlog_max",
        "through", "backlog_after", "backlog_through", "dropped_after", "dropped_through",
        "pending", "delivered", "last_sent_id", "live_floor", "hub", "_woken", "_waiter", "_open",
        "_retry", "_retry_at",
    )  # fmt: skip

    def __init__(self, *, request: StreamRequest, transport: str, capacity: int | None = None):
        self.filters = request.filters
        self.since = request.since
        self.transport = transport
        self.buffer = StreamBuffer(capacity or settings.STREAM_QUEUE_CAPACITY)
        self.heartbeat_seconds = float(settings.STREAM_HEARTBEAT_SECONDS)
        self.backlog_max = settings.STREAM_BACKLOG_MAX_EVENTS
        self.through = 0
        # Events with backlog_after < id <= backlog_through still to be read from the table.
        self.backlog_after: int | None = None
        self.backlog_through = 0
        # Ids dropped_after < id <= dropped_through fell off the backlog; reported next.
        self.dropped_after: int | None = None
        self.dropped_through = 0
        self.pending: list[dict] = []
        self.delivered = 0
        self.last_sent_id = 0
        # Live events up to here are ones the client says it already has.
        self.live_floor = self.since or 0
        self.hub = None
        # Set by ``offer``; the sender looks again before it sleeps (what an Event would do).
        self._woken = False
        self._waiter: asyncio.Future | None = None
        self._open = False
        self._retry: Backoff | None = None
        self._retry_at = 0.0

    @property
    def resume_id(self) -> int | None:
        """Where the client resumes from if the stream ends now."""
        if not self._open:
            return self.since
        return self.last_sent_id

    async def open(self) -> None:
        """Subscribe and plan the replay; raises ServiceUnavailable during an outage."""
        try:
            self.hub = await get_hub()
            self.through = self.hub.register(self)
            self._open = True
            since = self.through if self.since is None else self.since
            self.last_sent_id = min(since, self.through)
            if self.since is not None:
                plan = await database_sync_to_async(selectors.replay_plan)(
                    since=self.since, through=self.through
                )
                if plan.gap:
                    self.pending.append(
                        {"type": "gap", "from_id": plan.gap[0], "to_id": plan.gap[1]}
                    )
                if plan.start_after < plan.through:
                    self.backlog_after, self.backlog_through = plan.start_after, plan.through
                self.through = max(self.through, plan.live_after)
                self.live_floor = plan.live_after
                # What the client has "seen" so far: its resume id, or the end of the gap.
                self.last_sent_id = max(min(self.since, plan.live_after), plan.start_after)
        except OUTAGE_ERRORS as exc:
            logger.warning("stream: cannot open (%s: %s)", type(exc).__name__, exc)
            self.close()
            raise stream_unavailable() from exc
        metrics.STREAM_CONNECTIONS.labels(self.transport).inc()

    def close(self) -> None:
        if self._open:
            self._open = False
            self.hub.unregister(self)
            metrics.STREAM_CONNECTIONS.labels(self.transport).dec()

    def offer(self, events: list[dict]) -> None:
        """Called by the hub with every new event, in id order; keeps the matching ones.

        What fits in the queue goes there; the rest of the batch (and every batch after it)
        becomes backlog, read from the table when the queue has drained.
        """
        if not events or events[-1]["id"] <= self.through:
            return
        last = events[-1]["id"]
        if self.backlog_after is None:
            for event in events:
                event_id = event["id"]
                if event_id <= self.through:
                    continue
                if event_id > self.live_floor and self.filters.matches(event):
                    if self.buffer.is_full:
                        self.backlog_after = max(self.through, self.live_floor)
                        break
                    self.buffer.offer(event)
                self.through = event_id
        if self.backlog_after is not None:
            self.backlog_through = self.through = last
            self._trim_backlog()
        self._wake()

    def _wake(self) -> None:
        self._woken = True
        if self._waiter is not None:
            _wake_up(self._waiter)

    def _trim_backlog(self) -> None:
        """A client this far behind the head is slower than the feed: drop its oldest."""
        keep_after = self.backlog_through - self.backlog_max
        if self.backlog_after >= keep_after:
            return
        if self.dropped_after is None:
            self.dropped_after = self.backlog_after
        self.dropped_through = keep_after
        self.backlog_after = keep_after

    @property
    def caught_up(self) -> bool:
        return self.backlog_after is None and self.dropped_after is None and not len(self.buffer)

    async def _drop_report(self) -> dict | None:
        after, through = self.dropped_after, self.dropped_through
        report = await database_sync_to_async(backlog.dropped_between)(
            after_id=after, through_id=through, filters=self.filters
        )
        if self.dropped_through == through:
            self.dropped_after = None
        else:  # more fell off while we counted: report that next
            self.dropped_after = through
        self.last_sent_id = max(self.last_sent_id, through)
        if report is None:
            return None
        metrics.STREAM_EVENTS_DROPPED.labels(self.transport).inc(report.count)
        self.hub.dropped_total += report.count
        return report.as_message()

    async def _backlog_page(self, limit: int) -> list[dict]:
        after = self.backlog_after
        through = self.backlog_through
        # Recent events come from the hub's shared memory; older ones from the table.
        events = self.hub.recent_between(
            after_id=after, through_id=through, limit=limit, filters=self.filters
        )
        if events is None:
            events = await database_sync_to_async(selectors.events_between)(
                after_id=after, through_id=through, limit=limit, filters=self.filters
            )
        if self.backlog_after is None or self.backlog_after > after:
            return []  # trimmed while we read: the drop report comes first
        self.backlog_after = events[-1]["id"] if len(events) == limit else through
        if self.backlog_after >= self.backlog_through:
            self.backlog_after = None
        return events

    async def _next_message(self, limit: int) -> dict | None:
        """The next frame to send: queued events, then a drop report, then backlog pages."""
        if len(self.buffer):
            return self._events_message(self.buffer.take(limit))
        while time.monotonic() >= self._retry_at:
            try:
                if self.dropped_after is not None:
                    if message := await self._drop_report():
                        return message
                    continue
                if self.backlog_after is None:
                    return None
                events = await self._backlog_page(min(limit, REPLAY_PAGE))
                self._retry = None
                if events:
                    return self._events_message(events)
            except OUTAGE_ERRORS as exc:
                if self._retry is None:
                    self._retry = Backoff(base=0.2)
                delay = self._retry.next_delay()
                self._retry_at = time.monotonic() + delay
                logger.warning(
                    "stream: table read failed (%s: %s); retrying in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay,
                )
        return None

    def _events_message(self, events: list[dict]) -> dict:
        self.delivered += len(events)
        self.last_sent_id = events[-1]["id"]
        metrics.STREAM_EVENTS_DELIVERED.labels(self.transport).inc(len(events))
        return {"type": "events", "events": events}

    def text(self, message: dict) -> str:
        """The message as sent on the wire (events frames shared with other connections)."""
        if message["type"] == "events":
            return events_frame_text(message["events"], self.filters)
        return _json(message)

    def heartbeat(self) -> dict:
        """``last_id``: everything up to it was sent, reported dropped, or filtered out."""
        if self.caught_up:
            self.last_sent_id = max(self.last_sent_id, self.through)
        now = timezone.now().isoformat()
        return {"type": "heartbeat", "last_id": self.last_sent_id, "server_time": now}

    async def messages(self):
        """Yield wire messages until the connection ends; raises StreamClosed to end it."""
        # The first heartbeat goes out at once: the client knows it is subscribed.
        next_heartbeat = time.monotonic()
        first = True
        while True:
            while self.pending:
                yield self.pending.pop(0)
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + self.heartbeat_seconds
                chaos = await chaos_settings.get()
                rate = chaos.stream_disconnect_rate
                if not first and rate and random.random() < rate:
                    metrics.CHAOS_INJECTIONS.labels("stream_disconnect").inc()
                    raise StreamClosed(None)
                first = False
                yield self.heartbeat()
            self._woken = False
            chaos = await chaos_settings.get()
            slowed = chaos.stream_slow_consumer_ms
            # A consumer slowed on purpose stands for a client too slow to carry: it is allowed
            # no more lag than its queue holds, so drops (counts, warnings, resume) show within
            # seconds at demo rates instead of after STREAM_BACKLOG_MAX_EVENTS ids.
            self.backlog_max = (
                self.buffer.capacity if slowed else settings.STREAM_BACKLOG_MAX_EVENTS
            )
            message = await self._next_message(
                SLOW_CONSUMER_FRAME_EVENTS if slowed else MAX_FRAME_EVENTS
            )
            if message is not None:
                if slowed and message["type"] == "events":
                    await asyncio.sleep(slowed / 1000)
                yield message
                continue
            if self.pending:
                continue
            wake_at = next_heartbeat
            if self._retry_at > time.monotonic():
                wake_at = min(wake_at, self._retry_at)
            if self._woken:
                continue  # offered while we were busy: look again before sleeping
            # A future and one timer: an idle connection spends its life here, and wait_for's
            # coroutine and timeout context would cost it more than its own state.
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(max(0.0, wake_at - time.monotonic()), _wake_up, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
