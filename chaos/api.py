"""The chaos API: read and change the shared chaos settings (admin role; 404 when disabled)."""

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from chaos.config import REQUEST_KINDS, ChaosSettings, HttpFault, chaos_enabled
from chaos.presets import PRESETS
from chaos.selectors import ChaosPanelState, chaos_panel_state
from chaos.services import (
    ChaosInvalid,
    chaos_preset_apply,
    chaos_publish_if_lost,
    chaos_settings_update,
)
from payflow.accounts.roles import Action
from payflow.api import needs
from payflow.exceptions import InvalidInput, NotFound

router = Router(tags=["chaos"])


class HttpFaultIn(Schema):
    model_config = ConfigDict(extra="forbid")
    path_prefix: str = Field(description="Requests whose path starts with this are affected.")
    request_kinds: list[str] = Field(
        default=list(REQUEST_KINDS), description="Any of page, partial (htmx), api."
    )
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = Field(0.0, description="0..1: share answered 500 or 503.")
    timeout_rate: float = Field(0.0, description="0..1: share that hang, then 504.")


class ChaosSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    http_faults: list[HttpFaultIn] = Field(default_factory=list)
    stream_disconnect_rate: float = Field(0.0, description="0..1: chance per heartbeat.")
    stream_burst_multiplier: int = Field(1, description="1 = no burst; >1 starts a burst now.")
    stream_burst_seconds: int = 0
    stream_slow_consumer_ms: int = 0

    def to_settings(self) -> ChaosSettings:
        return ChaosSettings(
            http_faults=tuple(
                HttpFault(**{**fault.model_dump(), "request_kinds": frozenset(fault.request_kinds)})
                for fault in self.http_faults
            ),
            stream_disconnect_rate=self.stream_disconnect_rate,
            stream_burst_multiplier=self.stream_burst_multiplier,
            stream_burst_seconds=self.stream_burst_seconds,
            stream_slow_consumer_ms=self.stream_slow_consumer_ms,
        )


def _guard(request) -> None:
    if not chaos_enabled():
        raise NotFound("Chaos is disabled on this deployment.")


def _body(state: ChaosPanelState) -> dict:
    chaos = state.chaos
    ends_at = chaos.stream_burst_ends_at
    return {
        "enabled": True,
        "active": chaos.active,
        "version": state.version,
        "preset": chaos.preset,
        "preset_label": state.preset_label,
        "settings": chaos.to_dict(),
        "description": state.lines,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        "updated_by": state.updated_by or None,
        "published_version": state.published_version,
        "burst": {
            "active": chaos.burst_active(),
            "ends_at": ends_at.isoformat() if ends_at else None,
        },
        "processes": [vars(process) for process in state.processes],
        "changes": [
            {
                "version": change.version,
                "created_at": change.created_at.isoformat(),
                "actor": change.actor_username,
                "preset": change.preset,
                "summary": change.summary,
            }
            for change in state.changes
        ],
    }


@router.get(
    "/chaos",
    summary="The chaos settings in force and what each process sees",
    auth=needs(Action.USE_CHAOS),
)
def chaos_get(request):
    _guard(request)
    chaos_publish_if_lost()
    return _body(chaos_panel_state())


@router.put(
    "/chaos",
    summary="Replace the chaos settings (every process sees them within ~1 s)",
    auth=needs(Action.USE_CHAOS),
)
def chaos_put(request, payload: ChaosSettingsIn):
    _guard(request)
    try:
        chaos_settings_update(actor=request.auth, chaos=payload.to_settings())
    except ChaosInvalid as exc:
        raise InvalidInput.for_fields(exc.fields) from exc
    return _body(chaos_panel_state())


@router.post(
    "/chaos/presets/{name}",
    summary="Apply a preset; 'off' turns every fault off",
    auth=needs(Action.USE_CHAOS),
)
def chaos_preset(request, name: str):
    _guard(request)
    if name not in PRESETS:
        raise NotFound(
            f"No preset {name!r}; choose one of {', '.join(PRESETS)}.",
            fields={"name": [f"One of: {', '.join(PRESETS)}."]},
            code="unknown_preset",
        )
    chaos_preset_apply(actor=request.auth, name=name)
    return _body(chaos_panel_state())
