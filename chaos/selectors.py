"""Reads for chaos: what is in force, in words; what each process sees; the change log."""

import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from chaos.config import (
    CHAOS_OFF,
    REQUEST_KINDS,
    ChaosSettings,
    get_chaos_settings,
    process_views,
    published_chaos_settings,
)
from chaos.models import ChaosChange, ChaosState
from chaos.presets import preset_label

KIND_LABELS = {"page": "pages", "partial": "section refreshes", "api": "API calls"}
PROCESS_STALE_SECONDS = 15


def _percent(rate: float) -> str:
    return f"{round(rate * 100, 1):g}%"


def _kinds(kinds) -> str:
    return ", ".join(KIND_LABELS[kind] for kind in REQUEST_KINDS if kind in kinds)


def describe_chaos(chaos: ChaosSettings, *, now: datetime | None = None) -> list[str]:
    """One plain sentence per active fault, for the banner, the panel and the change log."""
    now = now or timezone.now()
    lines = []
    for fault in chaos.http_faults:
        parts = []
        if fault.latency_ms or fault.jitter_ms:
            parts.append(f"{fault.latency_ms} ms delay (+ up to {fault.jitter_ms} ms)")
        if fault.error_rate:
            parts.append(f"{_percent(fault.error_rate)} errors (500/503)")
        if fault.timeout_rate:
            parts.append(f"{_percent(fault.timeout_rate)} timeouts")
        if parts:
            where = f"{_kinds(fault.request_kinds)} under {fault.path_prefix}"
            lines.append(f"{' and '.join(parts)} on {where}")
    if chaos.stream_disconnect_rate:
        lines.append(f"streams cut at {_percent(chaos.stream_disconnect_rate)} of heartbeats")
    if chaos.stream_burst_multiplier > 1:
        if chaos.burst_active(now):
            left = math.ceil((chaos.stream_burst_ends_at - now).total_seconds())
            lines.append(
                f"event burst ×{chaos.stream_burst_multiplier} for "
                f"{chaos.stream_burst_seconds} s ({left} s left)"
            )
        elif chaos.stream_burst_started_at is None:
            lines.append(
                f"event burst ×{chaos.stream_burst_multiplier} for {chaos.stream_burst_seconds} s"
            )
    if chaos.stream_slow_consumer_ms:
        lines.append(f"stream sends slowed by {chaos.stream_slow_consumer_ms} ms per frame")
    return lines


@dataclass(frozen=True)
class ChaosStatus:
    """Chaos as this process acts on it now (the banner)."""

    active: bool
    preset: str
    preset_label: str
    lines: list[str]
    version: int


def chaos_status() -> ChaosStatus:
    chaos = get_chaos_settings()
    return ChaosStatus(
        active=chaos.active,
        preset=chaos.preset,
        preset_label=preset_label(chaos.preset),
        lines=describe_chaos(chaos),
        version=chaos.version,
    )


@dataclass(frozen=True)
class ProcessView:
    id: str
    version: int
    active: bool
    preset_label: str
    seen_seconds_ago: int
    in_sync: bool
    quiet: bool  # no heartbeat lately: the process served nothing (or is gone)


@dataclass(frozen=True)
class ChaosPanelState:
    chaos: ChaosSettings  # the stored settings, as they act now
    version: int
    updated_at: datetime | None
    updated_by: str
    published_version: int | None
    processes: list[ProcessView]
    changes: list[ChaosChange]
    lines: list[str]

    @property
    def preset_label(self) -> str:
        return preset_label(self.chaos.preset)


def chaos_processes(*, current_version: int) -> list[ProcessView]:
    now = time.time()
    views = []
    for record in process_views():
        age = max(0, int(now - record["seen_at"]))
        views.append(
            ProcessView(
                id=record["id"],
                version=record["version"],
                active=record["active"],
                preset_label=preset_label(record["preset"]),
                seen_seconds_ago=age,
                in_sync=record["version"] == current_version,
                quiet=age > PROCESS_STALE_SECONDS,
            )
        )
    return views


def chaos_panel_state(*, changes_limit: int = 10) -> ChaosPanelState:
    state = (
        ChaosState.objects.select_related("updated_by").filter(pk=ChaosState.SINGLETON_PK).first()
    )
    stored = ChaosSettings.from_dict(state.settings) if state and state.settings else CHAOS_OFF
    version = state.version if state else 0
    published = published_chaos_settings()
    now = timezone.now()
    return ChaosPanelState(
        chaos=stored.effective(now),
        version=version,
        updated_at=state.updated_at if state else None,
        updated_by=state.updated_by.get_username() if state and state.updated_by else "",
        published_version=published.version if published else None,
        processes=chaos_processes(current_version=version),
        changes=list(ChaosChange.objects.all()[:changes_limit]),
        lines=describe_chaos(stored, now=now),
    )
