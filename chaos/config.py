"""Chaos settings shared by every server process.

This module is the contract other apps use: the stream reads ``get_chaos_settings()`` /
``aget_chaos_settings()`` for its disconnects, bursts and slowed consumers; the middleware
reads the HTTP part. Storage (shared across processes) is filled in by the chaos issue; until
then everything is off.
"""

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class HttpFault:
    """Faults injected for requests whose path starts with ``path_prefix``."""

    path_prefix: str = "/"
    request_kinds: frozenset[str] = frozenset({"page", "partial", "api"})
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0  # 0..1: share of requests answered 500/503
    timeout_rate: float = 0.0  # 0..1: share of requests that hang past the client's timeout


@dataclass(frozen=True)
class ChaosSettings:
    http_faults: tuple[HttpFault, ...] = field(default_factory=tuple)
    stream_disconnect_rate: float = 0.0  # 0..1: chance per heartbeat that a stream is cut
    stream_burst_multiplier: int = 1  # each produced event is multiplied while a burst lasts
    stream_burst_seconds: int = 0
    stream_slow_consumer_ms: int = 0  # extra delay before each frame sent to clients
    preset: str = "off"

    @property
    def active(self) -> bool:
        return bool(
            any(
                f.latency_ms or f.jitter_ms or f.error_rate or f.timeout_rate
                for f in self.http_faults
            )
            or self.stream_disconnect_rate
            or self.stream_burst_multiplier > 1
            or self.stream_slow_consumer_ms
        )


CHAOS_OFF = ChaosSettings()


def chaos_enabled() -> bool:
    return bool(getattr(settings, "CHAOS_ENABLED", False))


def get_chaos_settings() -> ChaosSettings:
    """The settings in force now, as every process sees them; all off unless CHAOS_ENABLED."""
    return CHAOS_OFF


async def aget_chaos_settings() -> ChaosSettings:
    return CHAOS_OFF
