"""The relay: moves committed outbox events (``StreamEvent`` rows) to the Channels group.

It publishes batches ``{"prev_id", "last_id", "events"}``: every id up to ``last_id`` is final
(committed and published, or proven never to commit), so a subscriber that sees ``prev_id``
ahead of what it has can fetch the difference from the table: nothing is lost when a message is.

Modes (see docs/transactions.md):
- Shared channel layer (Redis) on PostgreSQL: exactly one process publishes, the holder of a
  lease in ``StreamRelayState`` (renewed every loop, ``STREAM_LEASE_SECONDS``, database clock).
  A holder that stops renewing (dead, frozen, partitioned) is replaced once the lease expires;
  the new holder resumes from the persisted high-water mark with a higher fencing token, every
  write of the old one is conditional on its token, and hubs ignore batches from a lower token.
  A holder that shuts down cleanly (SIGTERM, SIGINT) hands the lease over at exit, recording
  what it published, so a standby takes over within a second instead of after the lease.
- Otherwise (in-memory layer, or SQLite): every server process relays for its own clients.

The outbox trap: on PostgreSQL ids are drawn at insert but transactions commit in any order, so
a lower id can appear after a higher one. The relay publishes in id order and stops at the first
hole; the hole is skipped only once every transaction of this database that was writing when the
hole was seen has finished and the row is still absent (it rolled back). A long transaction holds
the stream back; it never loses an event. On SQLite writers are serialized: holes are final.
"""

import asyncio
import logging
import os
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection as django_connection

from payflow import metrics
from payflow.lifetime import at_shutdown, process_task

logger = logging.getLogger(__name__)

GROUP = "transactions.stream"
NOTIFY_CHANNEL = "payflow_stream"
FETCH_LIMIT = 1000
TICK_SECONDS = 2.0
LEASE_RETRY_SECONDS = 1.0
GAP_RECHECK_SECONDS = 0.05
# Retries after a database or Redis failure never wait longer than this.
MAX_BACKOFF_SECONDS = 2.0

EVENT_COLUMNS = "id, kind, amount, currency, status, merchant, created_at"


def process_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def layer_is_shared() -> bool:
    """True when every server process reads the same channel layer (Redis)."""
    layer = get_channel_layer()
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def uses_leader_election() -> bool:
    return is_postgres() and layer_is_shared()


def wire_event(row) -> dict:
    event_id, kind, amount, currency, status, merchant, created_at = row
    return {
        "id": event_id,
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "status": status,
        "merchant": merchant,
        "created_at": created_at.isoformat(),
    }


@dataclass
class PendingGap:
    """Missing ids ``start..end`` seen below a committed row, and who might still fill them."""

    start: int
    end: int
    blockers: list[str] = field(default_factory=list)
    settled: bool = False


@dataclass
class PublishPlan:
    events: list[dict]
    through: int
    stopped_at: tuple[int, int] | None  # a hole not yet proven permanent
    skipped: list[tuple[int, int]]  # holes proven permanent (rolled back or never used)


def plan_publish(
    through: int, events: list[dict], *, gap: PendingGap | None, holes_are_final: bool
) -> PublishPlan:
    """Which fetched events (ids > ``through``, ascending) may be published now, in id order."""
    out: list[dict] = []
    skipped: list[tuple[int, int]] = []
    expected = through + 1
    for event in events:
        if event["id"] > expected:
            hole = (expected, event["id"] - 1)
            permanent = holes_are_final or (
                gap is not None and gap.settled and gap.start == hole[0] and hole[1] <= gap.end
            )
            if not permanent:
                return PublishPlan(out, expected - 1, hole, skipped)
            skipped.append(hole)
        out.append(event)
        expected = event["id"] + 1
    return PublishPlan(out, expected - 1, None, skipped)


class Backoff:
    def __init__(self, *, base: float = 0.5, cap: float = MAX_BACKOFF_SECONDS):
        self.base, self.cap, self.attempt = base, cap, 0

    def next_delay(self) -> float:
        self.attempt += 1
        delay = min(self.cap, self.base * 2 ** (self.attempt - 1))
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0


def _pg_connect_kwargs() -> dict:
    db = settings.DATABASES["default"]
    kwargs = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    kwargs = {key: str(value) for key, value in kwargs.items() if value}
    kwargs["application_name"] = "payflow-stream-relay"
    return kwargs


# Ends our lease now (only if it is still ours) and records how far we published, so the next
# holder starts exactly after it: nothing lost, nothing published twice.
RELEASE_LEASE_SQL = (
    "UPDATE transactions_streamrelaystate SET lease_expires_at = now(), "
    "last_published_id = greatest(last_published_id, %s), updated_at = now() "
    "WHERE id = 1 AND lease_token = %s AND lease_expires_at > now()"
)


class PostgresOutbox:
    """Outbox reads and relay state on one dedicated autocommit psycopg connection."""

    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def connect(cls) -> "PostgresOutbox":
        import psycopg

        conn = await psycopg.AsyncConnection.connect(
            **_pg_connect_kwargs(), autocommit=True, connect_timeout=5
        )
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def acquire_lease(self, seconds: float) -> tuple[int, int] | None:
        """Take the lease if nobody holds a live one: ``(fencing token, high-water mark)``."""
        await self.load_high_water_mark()  # creates the row on a fresh database
        cursor = await self.conn.execute(
            "UPDATE transactions_streamrelaystate SET holder = %s, lease_token = lease_token + 1, "
            "lease_expires_at = now() + make_interval(secs => %s), updated_at = now() "
            "WHERE id = 1 AND (lease_expires_at IS NULL OR lease_expires_at < now()) "
            "RETURNING lease_token, last_published_id",
            [process_label(), seconds],
        )
        row = await cursor.fetchone()
        return (row[0], row[1]) if row else None

    async def renew_lease(self, token: int, seconds: float, through: int) -> bool:
        """Extend our lease and record the mark; False if the lease expired or was taken."""
        cursor = await self.conn.execute(
            "UPDATE transactions_streamrelaystate "
            "SET lease_expires_at = now() + make_interval(secs => %s), "
            "last_published_id = greatest(last_published_id, %s), updated_at = now() "
            "WHERE id = 1 AND lease_token = %s AND lease_expires_at > now()",
            [seconds, through, token],
        )
        return cursor.rowcount == 1

    async def listen(self) -> None:
        await self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

    async def wait_for_notify(self, seconds: float) -> None:
        # Runs to completion (no break) so psycopg releases the connection lock.
        async for _ in self.conn.notifies(timeout=seconds, stop_after=1):
            pass

    async def fetch_after(self, through: int, limit: int = FETCH_LIMIT) -> list[dict]:
        cursor = await self.conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM transactions_streamevent "
            "WHERE id > %s ORDER BY id LIMIT %s",
            [through, limit],
        )
        return [wire_event(row) for row in await cursor.fetchall()]

    async def max_id(self) -> int:
        cursor = await self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM transactions_streamevent"
        )
        return (await cursor.fetchone())[0]

    async def writing_transactions(self) -> list[str]:
        """Transaction ids of every session of this database that holds one now (not ours)."""
        cursor = await self.conn.execute(
            "SELECT backend_xid::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid IS NOT NULL "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in await cursor.fetchall()]

    async def any_still_running(self, xids: list[str]) -> bool:
        if not xids:
            return False
        cursor = await self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid::text = ANY(%s)",
            [xids],
        )
        return (await cursor.fetchone())[0] > 0

    async def load_high_water_mark(self) -> int:
        """The persisted mark; created at the current newest event on a fresh database."""
        cursor = await self.conn.execute(
            "SELECT last_published_id FROM transactions_streamrelaystate WHERE id = 1"
        )
        row = await cursor.fetchone()
        if row is not None:
            return row[0]
        start = await self.max_id()
        await self.conn.execute(
            "INSERT INTO transactions_streamrelaystate "
            "(id, last_published_id, holder, lease_token, updated_at) "
            "VALUES (1, %s, '', 0, now()) ON CONFLICT (id) DO NOTHING",
            [start],
        )
        return await self.load_high_water_mark()


class OrmOutbox:
    """Outbox reads through the Django ORM on one worker thread (SQLite and other backends)."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-relay")

    async def _run(self, fn, *args):
        def job():
            try:
                return fn(*args)
            except Exception:
                django_connection.close()
                raise

        return await asyncio.get_running_loop().run_in_executor(self.executor, job)

    async def fetch_after(self, through: int, limit: int = FETCH_LIMIT) -> list[dict]:
        from transactions.models import StreamEvent

        def fetch():
            rows = StreamEvent.objects.filter(id__gt=through).order_by("id")[:limit]
            return [event.as_wire() for event in rows]

        return await self._run(fetch)

    async def max_id(self) -> int:
        from django.db.models import Max

        from transactions.models import StreamEvent

        def newest():
            return StreamEvent.objects.aggregate(newest=Max("id"))["newest"] or 0

        return await self._run(newest)


class Relay:
    """One per server process; see the module docstring for which process publishes."""

    def __init__(self, *, poll_seconds: float | None = None):
        self.leader_election = uses_leader_election()
        self.postgres = is_postgres()
        self.poll_seconds = poll_seconds or float(settings.STREAM_RELAY_POLL_SECONDS)
        self.through: int | None = None
        self.lease_seconds = float(settings.STREAM_LEASE_SECONDS)
        self.token = 0  # the fencing token of our lease (0: no leader election)
        self.is_publisher = False
        self.state = "starting"
        self.last_published_at = time.monotonic()
        self.layer = get_channel_layer()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = process_task(self.run(), name="stream-relay")
            if self.postgres and self.leader_election:
                at_shutdown(self.stop)

    def stop(self) -> None:
        """The process is stopping cleanly: stop publishing, then hand the lease over. Nothing
        yields in between, so the relay cannot renew or retake the lease it just gave up."""
        if self.task is not None and not self.task.done() and self.task.get_loop().is_running():
            self.task.cancel()  # takes effect at the task's next step; its state is as it was
        self.hand_over_lease()

    def hand_over_lease(self) -> None:
        """Give the lease up if we still hold it, recording how far we published. Runs on its
        own short connection: the relay's may be mid-query, or its loop gone (daphne)."""
        if not (self.is_publisher and self.token and self.through is not None):
            return
        import psycopg

        try:
            with psycopg.connect(
                **_pg_connect_kwargs(), autocommit=True, connect_timeout=2
            ) as conn:
                conn.execute(RELEASE_LEASE_SQL, [self.through, self.token])
            logger.info("stream relay: lease %s handed over at id %s", self.token, self.through)
        except Exception as exc:  # noqa: BLE001 - at exit the lease simply expires instead
            logger.warning("stream relay: could not hand the lease over: %s", exc)

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                if self.postgres:
                    await self._run_postgres(backoff)
                else:
                    await self._run_polling(backoff)
            except asyncio.CancelledError:
                self.is_publisher = False
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any outage
                self.is_publisher = False
                self.state = "reconnecting"
                delay = backoff.next_delay()
                logger.warning(
                    "stream relay: %s: %s; retrying in %.1f s", type(exc).__name__, exc, delay
                )
                await asyncio.sleep(delay)

    async def publish(self, *, prev_id: int, last_id: int, events: list[dict]) -> None:
        """Send one batch to the group; retries (without advancing) while the layer is down."""
        backoff = Backoff(base=0.2)
        message = {
            "type": "stream.batch",
            "token": self.token,
            "prev_id": prev_id,
            "last_id": last_id,
            "events": events,
        }
        while True:
            try:
                await self.layer.group_send(GROUP, message)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis down: keep the batch, retry
                delay = backoff.next_delay()
                logger.warning("stream relay: publish failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        self.last_published_at = time.monotonic()
        if events:
            metrics.STREAM_EVENTS_PUBLISHED.inc(len(events))

    async def _publish_plan(self, plan: PublishPlan) -> bool:
        """Publish what the plan allows (or an idle tick); True if ``through`` advanced."""
        for start, end in plan.skipped:
            logger.info("stream relay: ids %s..%s never committed; skipped", start, end)
        if plan.through > self.through:
            await self.publish(prev_id=self.through, last_id=plan.through, events=plan.events)
            self.through = plan.through
            return True
        if time.monotonic() - self.last_published_at >= TICK_SECONDS:
            await self.publish(prev_id=self.through, last_id=self.through, events=[])
        return False

    async def _run_postgres(self, backoff: Backoff) -> None:
        outbox = await PostgresOutbox.connect()
        try:
            if self.leader_election:
                self.state = "standby"
                # Polling the lease: it expires on the database's clock, whatever the holder does.
                while (lease := await outbox.acquire_lease(self.lease_seconds)) is None:  # noqa: ASYNC110
                    await asyncio.sleep(LEASE_RETRY_SECONDS)
                self.token, self.through = lease
            elif self.through is None:
                # A reconnect keeps its place: nothing committed meanwhile is skipped.
                self.through = await outbox.max_id()
            await outbox.listen()
            self.is_publisher, self.state = True, "publishing"
            backoff.reset()
            logger.info("stream relay: publishing from id %s (%s)", self.through, process_label())
            gap: PendingGap | None = None
            while True:
                # Renewed every loop (at least every poll interval); checked before publishing.
                if self.leader_election and not await outbox.renew_lease(
                    self.token, self.lease_seconds, self.through
                ):
                    logger.warning(
                        "stream relay: lease %s lost (expired or taken); standing by", self.token
                    )
                    return
                if gap is not None and not gap.settled:
                    gap.settled = not await outbox.any_still_running(gap.blockers)
                events = await outbox.fetch_after(self.through)
                plan = plan_publish(self.through, events, gap=gap, holes_are_final=False)
                if plan.stopped_at and (gap is None or gap.start != plan.stopped_at[0]):
                    # Read after the fetch: whoever holds the missing ids is writing right now.
                    blockers = await outbox.writing_transactions()
                    gap = PendingGap(*plan.stopped_at, blockers=blockers)
                elif plan.stopped_at is None:
                    gap = None
                advanced = await self._publish_plan(plan)
                if advanced and len(events) >= FETCH_LIMIT:
                    continue
                wait = GAP_RECHECK_SECONDS if gap is not None else self.poll_seconds
                await outbox.wait_for_notify(min(wait, TICK_SECONDS))
        finally:
            self.is_publisher = False
            await outbox.close()

    async def _run_polling(self, backoff: Backoff) -> None:
        outbox = OrmOutbox()
        try:
            self.through = await outbox.max_id()
            self.is_publisher, self.state = True, "publishing"
            backoff.reset()
            while True:
                events = await outbox.fetch_after(self.through)
                plan = plan_publish(self.through, events, gap=None, holes_are_final=True)
                advanced = await self._publish_plan(plan)
                if not (advanced and len(events) >= FETCH_LIMIT):
                    await asyncio.sleep(self.poll_seconds)
        finally:
            self.is_publisher = False
            outbox.executor.shutdown(wait=False)


_relay: Relay | None = None


def current_relay() -> Relay | None:
    return _relay


def ensure_relay_started() -> Relay | None:
    """Start this process's relay once (daphne has no lifespan); None when turned off."""
    global _relay
    if not settings.STREAM_RELAY_ENABLED:
        return None
    if _relay is None:
        _relay = Relay()
    _relay.start()
    return _relay
