"""The per-process fan-out: one subscription to the relay's group feeds every local connection.

The hub follows the relay's ``prev_id``/``last_id`` chain. When it sees that it missed a batch
(Redis was down, a relay took over, the in-memory layer dropped a message), it reads the missing
range from the outbox table before going on, so connections see every event once and in order.
A watchdog does the same when the group goes quiet for too long (no ticks: Redis is down).
"""

import asyncio
import bisect
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from prometheus_client import Histogram

from payflow.lifetime import process_task
from transactions import selectors
from transactions.relay import GROUP, Backoff, current_relay, ensure_relay_started, process_label

logger = logging.getLogger(__name__)

QUIET_SECONDS = 5.0
CATCH_UP_PAGE = 1000
REJOIN_GROUP_SECONDS = 3600  # the in-memory layer expires group members after a day
CLIENT_COUNT_TTL = 30
CLIENT_COUNT_EVERY = 10
LAG_PROBE_SECONDS = 0.1
# The newest events kept in memory, shared by every connection of the process: a connection
# catching up on its backlog reads them from here and goes to the table only for older ones.
RECENT_EVENTS = 20_000

EVENT_LOOP_LAG = Histogram(
    "payflow_stream_event_loop_lag_seconds",
    "How late a 100 ms timer fires on a server process's event loop (stream processes only)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


async def published_through() -> int:
    """The id up to which every event is final and published (where live delivery starts)."""
    relay = current_relay()
    if relay is not None and relay.is_publisher and relay.through is not None:
        return relay.through
    return await database_sync_to_async(selectors.relay_high_water_mark)()


def _event_id(event: dict) -> int:
    return event["id"]


def supervised(run, name: str) -> asyncio.Task:
    """Run ``run()`` for the life of the process: restarted (after a pause) if it ever fails."""

    async def forever():
        while True:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("stream hub: task %s failed; restarting it", name)
            await asyncio.sleep(1.0)

    return process_task(forever(), name=name)


class StreamHub:
    def __init__(self):
        self.sessions: set = set()
        self.through: int | None = None
        self.layer = None
        self.channel: str | None = None
        self.last_message_at = time.monotonic()
        self.dropped_total = 0
        self.leader_token = 0
        # Every event with recent_floor < id <= through is in ``recent``, in id order.
        self.recent: list[dict] = []
        self.recent_floor = 0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        async with self._lock:
            if self._tasks:
                return
            ensure_relay_started()
            self.layer = get_channel_layer()
            # Position first, then join: a batch published in between shows up as a jump in
            # prev_id and is read from the table. (Both raise during an outage; the next
            # connection tries again.)
            through = await published_through()
            await self._join_group()
            self.through = self.recent_floor = through
            self._tasks = [
                supervised(self._receive_loop, "stream-hub-receive"),
                supervised(self._watchdog, "stream-hub-watchdog"),
                supervised(self._probe_loop_lag, "stream-loop-lag"),
            ]

    async def _join_group(self) -> None:
        self.channel = await self.layer.new_channel("stream-hub.")
        await self.layer.group_add(GROUP, self.channel)

    def register(self, session) -> int:
        """Subscribe a connection; returns the id its live feed starts after."""
        self.sessions.add(session)
        return self.through

    def unregister(self, session) -> None:
        self.sessions.discard(session)

    def _dispatch(self, events: list[dict]) -> None:
        if not events:
            return
        self._remember(events)
        for session in list(self.sessions):
            session.offer(events)

    def _remember(self, events: list[dict]) -> None:
        self.recent.extend(events)
        if len(self.recent) > RECENT_EVENTS + RECENT_EVENTS // 4:
            cut = len(self.recent) - RECENT_EVENTS
            self.recent_floor = self.recent[cut - 1]["id"]
            del self.recent[:cut]

    def recent_between(
        self, *, after_id: int, through_id: int, limit: int, filters
    ) -> list[dict] | None:
        """Like ``selectors.events_between`` from memory; None if the range is not all here."""
        if after_id < self.recent_floor or through_id > self.through:
            return None
        recent = self.recent
        out: list[dict] = []
        for index in range(bisect.bisect_right(recent, after_id, key=_event_id), len(recent)):
            event = recent[index]
            if event["id"] > through_id:
                break
            if filters.matches(event):
                out.append(event)
                if len(out) >= limit:
                    break
        return out

    async def handle_batch(self, message: dict) -> None:
        async with self._lock:
            self.last_message_at = time.monotonic()
            last_id, prev_id = message["last_id"], message["prev_id"]
            token = message.get("token", 0)
            if token < self.leader_token:
                return  # from a relay holder whose lease was taken over: fenced off
            self.leader_token = token
            if last_id <= self.through:
                return
            if prev_id > self.through:
                await self._catch_up(prev_id)
            self._dispatch([event for event in message["events"] if event["id"] > self.through])
            self.through = last_id

    async def _catch_up(self, target: int) -> None:
        """Deliver ids ``through+1..target`` from the table (all final: the relay passed them)."""
        logger.info("stream hub: resyncing ids %s..%s from the table", self.through + 1, target)
        while self.through < target:
            events = await database_sync_to_async(selectors.events_between)(
                after_id=self.through, through_id=target, limit=CATCH_UP_PAGE
            )
            self._dispatch(events)
            self.through = events[-1]["id"] if len(events) == CATCH_UP_PAGE else target

    async def _receive_loop(self) -> None:
        backoff = Backoff()
        while True:
            try:
                message = await self.layer.receive(self.channel)
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - layer outage: rejoin and keep going
                delay = backoff.next_delay()
                logger.warning("stream hub: receive failed (%s); rejoining in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                try:
                    await self._join_group()
                except Exception as join_exc:  # noqa: BLE001
                    logger.warning("stream hub: rejoin failed (%s)", join_exc)
                continue
            if message.get("type") == "stream.batch":
                try:
                    await self.handle_batch(message)
                except Exception:
                    logger.exception("stream hub: could not handle a batch; the watchdog resyncs")

    async def _watchdog(self) -> None:
        last_rejoin = last_count = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            try:
                if now - self.last_message_at > QUIET_SECONDS:
                    target = await published_through()
                    async with self._lock:
                        if target > self.through:
                            await self._catch_up(target)
                    self.last_message_at = now
                if now - last_rejoin > REJOIN_GROUP_SECONDS:
                    await self.layer.group_add(GROUP, self.channel)
                    last_rejoin = now
                if now - last_count > CLIENT_COUNT_EVERY:
                    await self.report_clients()
                    last_count = now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database or cache down: try again later
                logger.warning("stream hub: watchdog step failed (%s)", exc)

    async def _probe_loop_lag(self) -> None:
        """A busy loop delays every connection; this shows how much, in /metrics."""
        while True:
            started = time.monotonic()
            await asyncio.sleep(LAG_PROBE_SECONDS)
            EVENT_LOOP_LAG.observe(max(0.0, time.monotonic() - started - LAG_PROBE_SECONDS))

    async def report_clients(self) -> None:
        await database_sync_to_async(record_process_clients)(
            connected=len(self.sessions), dropped_total=self.dropped_total
        )


PROCESS_REGISTRY_KEY = "transactions:stream:processes"


def record_process_clients(*, connected: int, dropped_total: int) -> None:
    """Publish this process's connection count (with an expiry) for ``stream_health``."""
    label = process_label()
    cache.set(
        f"transactions:stream:process:{label}",
        {"connected": connected, "dropped_total": dropped_total},
        CLIENT_COUNT_TTL,
    )
    registry = cache.get(PROCESS_REGISTRY_KEY) or {}
    now = time.time()
    registry = {name: seen for name, seen in registry.items() if now - seen < CLIENT_COUNT_TTL}
    registry[label] = now
    cache.set(PROCESS_REGISTRY_KEY, registry, CLIENT_COUNT_TTL * 4)


_hub: StreamHub | None = None


async def get_hub() -> StreamHub:
    global _hub
    if _hub is None:
        _hub = StreamHub()
    await _hub.start()
    return _hub


def current_hub() -> StreamHub | None:
    return _hub
