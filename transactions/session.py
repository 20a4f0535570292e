"""One live-stream connection, whatever the transport (WebSocket or SSE).

Order of work: subscribe to the process hub first, then replay what the client missed from the
table (bounded by the replay window; a ``gap`` message says what is left out), then go live.
The hub hands events to ``offer``; ``messages`` yields what the transport sends: ``events``
frames (many events each), ``dropped`` reports, ``gap``, ``heartbeat``.
"""

import asyncio
import contextlib
import random
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from chaos.config import CHAOS_OFF, aget_chaos_settings
from payflow import metrics
from transactions import selectors
from transactions.hub import get_hub
from transactions.stream import StreamBuffer, StreamRequest

MAX_FRAME_EVENTS = 500
# A consumer slowed by chaos reads small frames, so a fast feed really fills its queue and the
# drop-oldest path (counts, warnings, resume) can be seen live.
SLOW_CONSUMER_FRAME_EVENTS = 10
REPLAY_PAGE = 500


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

    def __init__(self, message: dict | None):
        super().__init__(message and message.get("reason"))
        self.message = message


def slow_client_message(seconds: float) -> dict:
    return {
        "type": "closing",
        "reason": "slow_consumer",
        "message": (
            f"Disconnected: this client read nothing for {seconds:g} s while its queue was full. "
            "Reconnect with the last event id to resume."
        ),
    }


class StreamSession:
    def __init__(self, *, request: StreamRequest, transport: str, capacity: int | None = None):
        self.filters = request.filters
        self.since = request.since
        self.transport = transport
        capacity = capacity or settings.STREAM_QUEUE_CAPACITY
        self.buffer = StreamBuffer(capacity)
        self.heartbeat_seconds = float(settings.STREAM_HEARTBEAT_SECONDS)
        self.through = 0
        self.replay_after: int | None = None
        self.replay_through = 0
        self.pending: list[dict] = []
        self.delivered = 0
        self.last_sent_id = 0
        # Live events up to here are ones the client says it already has.
        self.live_floor = self.since or 0
        self.hub = None
        self._wake = asyncio.Event()
        self._open = False

    async def open(self) -> None:
        self.hub = await get_hub()
        self.through = self.hub.register(self)
        self.last_sent_id = self.through if self.since is None else min(self.since, self.through)
        self._open = True
        metrics.STREAM_CONNECTIONS.labels(self.transport).inc()
        if self.since is not None:
            plan = await database_sync_to_async(selectors.replay_plan)(
                since=self.since, through=self.through
            )
            if plan.gap:
                self.pending.append({"type": "gap", "from_id": plan.gap[0], "to_id": plan.gap[1]})
            self.replay_after, self.replay_through = plan.start_after, plan.through
            self.through = max(self.through, plan.live_after)
            self.live_floor = plan.live_after
            # What the client has "seen" so far: its resume id, or the end of the gap.
            self.last_sent_id = max(min(self.since, plan.live_after), plan.start_after)

    def close(self) -> None:
        if self._open:
            self._open = False
            self.hub.unregister(self)
            metrics.STREAM_CONNECTIONS.labels(self.transport).dec()

    def offer(self, events: list[dict]) -> None:
        """Called by the hub with every new event, in id order; keeps the matching ones."""
        dropped = 0
        for event in events:
            if event["id"] <= self.through:
                continue
            self.through = event["id"]
            if event["id"] > self.live_floor and self.filters.matches(event):
                dropped += self.buffer.offer(event)
        if dropped:
            metrics.STREAM_EVENTS_DROPPED.labels(self.transport).inc(dropped)
            self.hub.dropped_total += dropped
        self._wake.set()

    async def _replay_page(self) -> list[dict]:
        events = await database_sync_to_async(selectors.events_between)(
            after_id=self.replay_after,
            through_id=self.replay_through,
            limit=REPLAY_PAGE,
            filters=self.filters,
        )
        if len(events) < REPLAY_PAGE:
            self.replay_after = None
        else:
            self.replay_after = events[-1]["id"]
        return events

    async def _next_events(self, limit: int = MAX_FRAME_EVENTS) -> list[dict]:
        if self.replay_after is not None:
            events = await self._replay_page()
            if events:
                return events
        return self.buffer.take(limit)

    def _events_message(self, events: list[dict]) -> dict:
        self.delivered += len(events)
        self.last_sent_id = events[-1]["id"]
        metrics.STREAM_EVENTS_DELIVERED.labels(self.transport).inc(len(events))
        return {"type": "events", "events": events}

    def heartbeat(self) -> dict:
        """``last_id``: everything up to it was sent, reported dropped, or filtered out."""
        if self.replay_after is None and not len(self.buffer):
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
            # Drop reports concern live events: they follow the replay, which is older.
            if self.replay_after is None and (report := self.buffer.take_drop_report()):
                yield report.as_message()
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + self.heartbeat_seconds
                chaos = await chaos_settings.get()
                rate = chaos.stream_disconnect_rate
                if not first and rate and random.random() < rate:
                    metrics.CHAOS_INJECTIONS.labels("stream_disconnect").inc()
                    raise StreamClosed(None)
                first = False
                yield self.heartbeat()
            self._wake.clear()
            chaos = await chaos_settings.get()
            slowed = chaos.stream_slow_consumer_ms
            events = await self._next_events(
                SLOW_CONSUMER_FRAME_EVENTS if slowed else MAX_FRAME_EVENTS
            )
            if events:
                if slowed:
                    await asyncio.sleep(slowed / 1000)
                yield self._events_message(events)
                continue
            if self.buffer.has_drop_report or self.pending:
                continue
            timeout = max(0.0, next_heartbeat - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
