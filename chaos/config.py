"""Chaos settings shared by every server process.

This module is the contract other apps use: the stream reads ``get_chaos_settings()`` /
``aget_chaos_settings()`` for its disconnects, bursts and slowed consumers; the middleware
reads the HTTP part. Nothing is injected unless ``settings.CHAOS_ENABLED``.

Where the settings live: the database row ``chaos.ChaosState`` is the durable truth and the
change log; every change is *published* to a shared cache (Redis when ``REDIS_URL`` is set,
else a file cache beside the database, so the daphne and simulator processes of ``make run``
share it too). The request path only ever reads that cache, at most once a second per process
(a local memo in front of it), so injection costs no database query. Each process also reports
a heartbeat (the version it sees) so the panel can show what is active where.
"""

import dataclasses
import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

REQUEST_KINDS = ("page", "partial", "api")
LOCAL_MEMO_SECONDS = 1.0  # every process sees a change within about this long
HEARTBEAT_EVERY_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 30
SETTINGS_KEY = "chaos:settings"
PROCESSES_KEY = "chaos:processes"
PROCESS_KEY_PREFIX = "chaos:process:"


@dataclass(frozen=True)
class HttpFault:
    """Faults injected for requests whose path starts with ``path_prefix``."""

    path_prefix: str = "/"
    request_kinds: frozenset[str] = frozenset({"page", "partial", "api"})
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0  # 0..1: share of requests answered 500/503
    timeout_rate: float = 0.0  # 0..1: share of requests that hang past the client's timeout

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.jitter_ms or self.error_rate or self.timeout_rate)

    def matches(self, path: str, kind: str) -> bool:
        return kind in self.request_kinds and path.startswith(self.path_prefix)

    def to_dict(self) -> dict:
        return {
            "path_prefix": self.path_prefix,
            "request_kinds": sorted(self.request_kinds, key=REQUEST_KINDS.index),
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "HttpFault":
        return cls(
            path_prefix=str(data.get("path_prefix", "/")),
            request_kinds=frozenset(data.get("request_kinds", REQUEST_KINDS)),
            latency_ms=int(data.get("latency_ms", 0)),
            jitter_ms=int(data.get("jitter_ms", 0)),
            error_rate=float(data.get("error_rate", 0.0)),
            timeout_rate=float(data.get("timeout_rate", 0.0)),
        )


@dataclass(frozen=True)
class ChaosSettings:
    http_faults: tuple[HttpFault, ...] = field(default_factory=tuple)
    stream_disconnect_rate: float = 0.0  # 0..1: chance per heartbeat that a stream is cut
    stream_burst_multiplier: int = 1  # each produced event is multiplied while a burst lasts
    stream_burst_seconds: int = 0
    stream_slow_consumer_ms: int = 0  # extra delay before each frame sent to clients
    preset: str = "off"
    # When the burst started: it ends by itself ``stream_burst_seconds`` later.
    stream_burst_started_at: datetime | None = None
    version: int = 0  # bumped by every change; each process reports the version it sees

    @property
    def active(self) -> bool:
        return bool(
            any(fault.active for fault in self.http_faults)
            or self.stream_disconnect_rate
            or self.stream_burst_multiplier > 1
            or self.stream_slow_consumer_ms
        )

    @property
    def stream_burst_ends_at(self) -> datetime | None:
        if self.stream_burst_started_at is None or self.stream_burst_multiplier <= 1:
            return None
        return self.stream_burst_started_at + timedelta(seconds=self.stream_burst_seconds)

    def burst_active(self, now: datetime | None = None) -> bool:
        ends_at = self.stream_burst_ends_at
        return ends_at is not None and (now or timezone.now()) < ends_at

    def effective(self, now: datetime | None = None) -> "ChaosSettings":
        """These settings as they act now: a burst whose time is up multiplies nothing."""
        if self.stream_burst_multiplier > 1 and not self.burst_active(now):
            return dataclasses.replace(self, stream_burst_multiplier=1)
        return self

    def to_dict(self) -> dict:
        started = self.stream_burst_started_at
        return {
            "http_faults": [fault.to_dict() for fault in self.http_faults],
            "stream_disconnect_rate": self.stream_disconnect_rate,
            "stream_burst_multiplier": self.stream_burst_multiplier,
            "stream_burst_seconds": self.stream_burst_seconds,
            "stream_slow_consumer_ms": self.stream_slow_consumer_ms,
            "preset": self.preset,
            "stream_burst_started_at": started.isoformat() if started else None,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ChaosSettings":
        started = data.get("stream_burst_started_at")
        return cls(
            http_faults=tuple(HttpFault.from_dict(item) for item in data.get("http_faults", ())),
            stream_disconnect_rate=float(data.get("stream_disconnect_rate", 0.0)),
            stream_burst_multiplier=int(data.get("stream_burst_multiplier", 1)),
            stream_burst_seconds=int(data.get("stream_burst_seconds", 0)),
            stream_slow_consumer_ms=int(data.get("stream_slow_consumer_ms", 0)),
            preset=str(data.get("preset", "off")),
            stream_burst_started_at=datetime.fromisoformat(started) if started else None,
            version=int(data.get("version", 0)),
        )


CHAOS_OFF = ChaosSettings()


def chaos_enabled() -> bool:
    return bool(settings.CHAOS_ENABLED)


# --- the shared cache ------------------------------------------------------------------------

_file_caches: dict[str, object] = {}


def _database_identity() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"{db['ENGINE']}|{db.get('HOST') or ''}|{db.get('PORT') or ''}|{db['NAME']}"


def shared_cache():
    """The cache every process of this deployment shares.

    Redis (or any non-local backend) when configured; otherwise a file cache keyed by the
    database, so processes on the same machine and database see the same chaos settings and
    processes on another database (a parallel test run) never do.
    """
    from django.core.cache import caches
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.filebased import FileBasedCache
    from django.core.cache.backends.locmem import LocMemCache

    default = caches["default"]
    if not isinstance(default, (LocMemCache, DummyCache)):
        return default
    digest = hashlib.sha256(_database_identity().encode()).hexdigest()[:16]
    location = os.path.join(tempfile.gettempdir(), f"payflow-chaos-{digest}")
    cache = _file_caches.get(location)
    if cache is None:
        cache = _file_caches[location] = FileBasedCache(location, {"TIMEOUT": None})
    return cache


# --- this process's view ------------------------------------------------------------------------

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"
PROCESS_STARTED_AT = time.time()


@dataclass
class _Memo:
    settings: ChaosSettings = CHAOS_OFF
    read_at: float = float("-inf")  # monotonic
    heartbeat_at: float = float("-inf")  # monotonic
    heartbeat_version: int = -1


_memo = _Memo()
_memo_lock = threading.Lock()
_last_error_logged = float("-inf")


def reset_local_cache() -> None:
    """Forget this process's memo so the next read goes to the shared cache."""
    global _memo
    with _memo_lock:
        _memo = _Memo()


def _memo_fresh(now: float) -> bool:
    return now - _memo.read_at < LOCAL_MEMO_SECONDS


def _parse(raw) -> ChaosSettings:
    if not raw:
        # Nothing published (a fresh deployment, or the cache lost it): inject nothing.
        return CHAOS_OFF
    return ChaosSettings.from_dict(raw)


def _log_cache_failure(exc: Exception) -> None:
    global _last_error_logged
    now = time.monotonic()
    if now - _last_error_logged > 60:
        _last_error_logged = now
        logger.warning("chaos: the shared cache did not answer; keeping the last settings: %s", exc)


def _heartbeat_due(seen: ChaosSettings, now: float) -> bool:
    return (
        seen.version != _memo.heartbeat_version
        or now - _memo.heartbeat_at >= HEARTBEAT_EVERY_SECONDS
    )


def _heartbeat_record(seen: ChaosSettings) -> dict:
    return {
        "id": PROCESS_ID,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "version": seen.version,
        "preset": seen.preset,
        "active": seen.effective().active,
        "seen_at": time.time(),
        "started_at": PROCESS_STARTED_AT,
    }


def _write_heartbeat(cache, record: dict) -> None:
    cache.set(PROCESS_KEY_PREFIX + record["id"], record, HEARTBEAT_TTL_SECONDS)
    # The index of processes is read-modify-write; a lost update heals at the next beat.
    index = cache.get(PROCESSES_KEY) or {}
    cutoff = record["seen_at"] - 4 * HEARTBEAT_TTL_SECONDS
    index = {pid: seen for pid, seen in index.items() if seen >= cutoff}
    index[record["id"]] = record["seen_at"]
    cache.set(PROCESSES_KEY, index, None)


def _remember(seen: ChaosSettings, now: float) -> bool:
    """Store what the shared cache said; True when a heartbeat should be written."""
    global _memo
    with _memo_lock:
        due = _heartbeat_due(seen, now)
        _memo = _Memo(
            settings=seen,
            read_at=now,
            heartbeat_at=now if due else _memo.heartbeat_at,
            heartbeat_version=seen.version if due else _memo.heartbeat_version,
        )
    return due


def get_chaos_settings() -> ChaosSettings:
    """The settings in force now, as every process sees them; all off unless CHAOS_ENABLED."""
    if not chaos_enabled():
        return CHAOS_OFF
    now = time.monotonic()
    if not _memo_fresh(now):
        try:
            cache = shared_cache()
            seen = _parse(cache.get(SETTINGS_KEY))
            if _remember(seen, now):
                _write_heartbeat(cache, _heartbeat_record(seen))
        except Exception as exc:  # noqa: BLE001 - chaos must never take a request down
            _log_cache_failure(exc)
            _remember(_memo.settings, now)
    return _memo.settings.effective()


async def aget_chaos_settings() -> ChaosSettings:
    """``get_chaos_settings`` for async code: the cache is read off the event loop."""
    if not chaos_enabled():
        return CHAOS_OFF
    now = time.monotonic()
    if not _memo_fresh(now):
        try:
            cache = shared_cache()
            seen = _parse(await cache.aget(SETTINGS_KEY))
            if _remember(seen, now):
                from asgiref.sync import sync_to_async

                await sync_to_async(_write_heartbeat, thread_sensitive=False)(
                    cache, _heartbeat_record(seen)
                )
        except Exception as exc:  # noqa: BLE001 - chaos must never take a request down
            _log_cache_failure(exc)
            _remember(_memo.settings, now)
    return _memo.settings.effective()


def publish_chaos_settings(chaos: ChaosSettings) -> None:
    """Make ``chaos`` the settings every process reads (called after the change commits)."""
    shared_cache().set(SETTINGS_KEY, chaos.to_dict(), None)
    reset_local_cache()


def published_chaos_settings() -> ChaosSettings | None:
    """What the shared cache holds now (None when nothing is published)."""
    raw = shared_cache().get(SETTINGS_KEY)
    return ChaosSettings.from_dict(raw) if raw else None


def process_views() -> list[dict]:
    """The latest heartbeat of every process seen recently, newest first."""
    cache = shared_cache()
    index = cache.get(PROCESSES_KEY) or {}
    records = cache.get_many([PROCESS_KEY_PREFIX + pid for pid in index])
    return sorted(records.values(), key=lambda record: record["seen_at"], reverse=True)


def clear_shared_state() -> None:
    """Remove the published settings and heartbeats (tests, and a database that was reset)."""
    cache = shared_cache()
    index = cache.get(PROCESSES_KEY) or {}
    cache.delete_many([SETTINGS_KEY, PROCESSES_KEY, *(PROCESS_KEY_PREFIX + pid for pid in index)])
    reset_local_cache()
