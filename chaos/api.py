"""The chaos API: read and change the shared chaos settings (admin role; 404 when disabled)."""

from typing import Literal

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from chaos.config import REQUEST_KINDS, ChaosSettings, HttpFault, chaos_enabled
from chaos.presets import PRESETS
from chaos.selectors import ChaosPanelState, chaos_panel_state
from chaos.services import (
    MAX_BURST_MULTIPLIER,
    MAX_BURST_SECONDS,
    MAX_FAULTS,
    MAX_LATENCY_MS,
    MAX_PATH_PREFIX_LENGTH,
    MAX_SLOW_CONSUMER_MS,
    ChaosInvalid,
    chaos_preset_apply,
    chaos_publish_if_lost,
    chaos_settings_update,
)
from payflow.accounts.roles import Action
from payflow.api import needs
from payflow.exceptions import InvalidInput, NotFound

router = Router(tags=["chaos"])


def _bounds(low, high) -> dict:
    # Stated for the document; chaos_settings_check enforces them and names the field.
    return {"json_schema_extra": {"minimum": low, "maximum": high}}


class HttpFaultIn(Schema):
    model_config = ConfigDict(extra="forbid")
    path_prefix: str = Field(
        description="Requests whose path starts with this are affected.",
        json_schema_extra={
            "pattern": "^/[^ \\u0000]*$",
            "maxLength": MAX_PATH_PREFIX_LENGTH,
        },
    )
    request_kinds: list[Literal[REQUEST_KINDS]] = Field(  # type: ignore[valid-type]
        default=list(REQUEST_KINDS),
        min_length=1,
        description="Any of page, partial (htmx), api.",
    )
    latency_ms: int = Field(0, **_bounds(0, MAX_LATENCY_MS))
    jitter_ms: int = Field(0, **_bounds(0, MAX_LATENCY_MS))
    error_rate: float = Field(0.0, description="Share answered 500 or 503.", **_bounds(0, 1))
    timeout_rate: float = Field(
        0.0,
        description="Share that hang, then 504; with error_rate at most 1 in all.",
        **_bounds(0, 1),
    )


def _burst_needs_seconds(schema: dict) -> None:
    # A burst (multiplier above 1) lasts at least a second.
    schema["anyOf"] = [
        {"properties": {"stream_burst_multiplier": {"maximum": 1}}},
        {
            "required": ["stream_burst_seconds"],
            "properties": {"stream_burst_seconds": {"minimum": 1}},
        },
    ]


class ChaosSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_burst_needs_seconds)
    http_faults: list[HttpFaultIn] = Field(default_factory=list, max_length=MAX_FAULTS)
    stream_disconnect_rate: float = Field(0.0, description="Chance per heartbeat.", **_bounds(0, 1))
    stream_burst_multiplier: int = Field(
        1, description="1 = no burst; >1 starts a burst now.", **_bounds(1, MAX_BURST_MULTIPLIER)
    )
    stream_burst_seconds: int = Field(0, **_bounds(0, MAX_BURST_SECONDS))
    stream_slow_consumer_ms: int = Field(0, **_bounds(0, MAX_SLOW_CONSUMER_MS))

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
    description="A fault's error_rate and timeout_rate together are at most 1, which JSON "
    "Schema cannot state: a larger sum is refused with 422 naming timeout_rate.",
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
