"""Writes for chaos: every change is checked, stored with who and when, then published."""

import dataclasses

from django.db import IntegrityError, transaction
from django.utils import timezone

from chaos.config import (
    REQUEST_KINDS,
    ChaosSettings,
    chaos_enabled,
    publish_chaos_settings,
    published_chaos_settings,
)
from chaos.models import ChaosChange, ChaosState
from chaos.presets import PRESETS
from chaos.selectors import describe_chaos
from payflow.observability import current_request_id

MAX_FAULTS = 20
MAX_PATH_PREFIX_LENGTH = 200
MAX_LATENCY_MS = 30_000
MAX_BURST_MULTIPLIER = 100
MAX_BURST_SECONDS = 300
MAX_SLOW_CONSUMER_MS = 10_000


class ChaosDisabled(Exception):
    """CHAOS_ENABLED is off: nothing can be turned on."""


class ChaosInvalid(Exception):
    """The settings break a rule; ``fields`` names each offending field."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("Invalid chaos settings: " + ", ".join(sorted(fields)))
        self.fields = fields


class UnknownPreset(Exception):
    pass


def _check_range(errors, name: str, value, low, high, unit: str = "") -> None:
    if not low <= value <= high:
        errors.setdefault(name, []).append(f"Must be between {low} and {high}{unit}.")


def chaos_settings_check(chaos: ChaosSettings) -> dict[str, list[str]]:
    """Every rule a chaos setting must follow; an empty dict means valid."""
    errors: dict[str, list[str]] = {}
    if len(chaos.http_faults) > MAX_FAULTS:
        errors["http_faults"] = [f"At most {MAX_FAULTS} path rules."]
    for index, fault in enumerate(chaos.http_faults):
        name = f"http_faults.{index}"
        prefix = fault.path_prefix
        if not prefix.startswith("/") or len(prefix) > MAX_PATH_PREFIX_LENGTH or " " in prefix:
            errors.setdefault(f"{name}.path_prefix", []).append(
                f"A path starting with '/', without spaces, at most "
                f"{MAX_PATH_PREFIX_LENGTH} characters."
            )
        if not fault.request_kinds or not fault.request_kinds <= set(REQUEST_KINDS):
            errors.setdefault(f"{name}.request_kinds", []).append(
                "Choose one or more of: page, partial, api."
            )
        _check_range(errors, f"{name}.latency_ms", fault.latency_ms, 0, MAX_LATENCY_MS, " ms")
        _check_range(errors, f"{name}.jitter_ms", fault.jitter_ms, 0, MAX_LATENCY_MS, " ms")
        _check_range(errors, f"{name}.error_rate", fault.error_rate, 0, 1)
        _check_range(errors, f"{name}.timeout_rate", fault.timeout_rate, 0, 1)
        rates_in_range = 0 <= fault.error_rate <= 1 and 0 <= fault.timeout_rate <= 1
        if rates_in_range and fault.error_rate + fault.timeout_rate > 1:
            errors.setdefault(f"{name}.timeout_rate", []).append(
                "The error rate and the timeout rate together cannot exceed 100%."
            )
    _check_range(errors, "stream_disconnect_rate", chaos.stream_disconnect_rate, 0, 1)
    _check_range(
        errors, "stream_burst_multiplier", chaos.stream_burst_multiplier, 1, MAX_BURST_MULTIPLIER
    )
    _check_range(
        errors, "stream_burst_seconds", chaos.stream_burst_seconds, 0, MAX_BURST_SECONDS, " s"
    )
    if chaos.stream_burst_multiplier > 1 and chaos.stream_burst_seconds < 1:
        errors.setdefault("stream_burst_seconds", []).append(
            "A burst needs a duration of at least 1 second."
        )
    _check_range(
        errors,
        "stream_slow_consumer_ms",
        chaos.stream_slow_consumer_ms,
        0,
        MAX_SLOW_CONSUMER_MS,
        " ms",
    )
    return errors


def _burst_started_at(previous: ChaosSettings, new: ChaosSettings, now):
    """A burst starts now, unless the same burst is still running (saving must not extend it)."""
    if new.stream_burst_multiplier <= 1:
        return None
    same_burst = (
        previous.burst_active(now)
        and previous.stream_burst_multiplier == new.stream_burst_multiplier
        and previous.stream_burst_seconds == new.stream_burst_seconds
    )
    return previous.stream_burst_started_at if same_burst else now


def _locked_state() -> ChaosState:
    try:
        with transaction.atomic():
            ChaosState.objects.get_or_create(pk=ChaosState.SINGLETON_PK)
    except IntegrityError:
        pass  # another process created it a moment ago
    return ChaosState.objects.select_for_update().get(pk=ChaosState.SINGLETON_PK)


def chaos_settings_update(*, actor, chaos: ChaosSettings, preset: str = "custom") -> ChaosSettings:
    """Store ``chaos`` as the settings in force, log who changed it, publish after commit.

    Raises ChaosDisabled when CHAOS_ENABLED is off and ChaosInvalid naming each bad field.
    """
    if not chaos_enabled():
        raise ChaosDisabled("Chaos is disabled on this deployment (CHAOS_ENABLED is off).")
    errors = chaos_settings_check(chaos)
    if errors:
        raise ChaosInvalid(errors)
    now = timezone.now()
    with transaction.atomic():
        state = _locked_state()
        previous = ChaosSettings.from_dict(state.settings) if state.settings else ChaosSettings()
        stored = dataclasses.replace(
            chaos,
            preset=preset,
            version=state.version + 1,
            stream_burst_started_at=_burst_started_at(previous, chaos, now),
        )
        state.version = stored.version
        state.settings = stored.to_dict()
        state.updated_at = now
        state.updated_by = actor
        state.save(update_fields=["version", "settings", "updated_at", "updated_by"])
        ChaosChange.objects.create(
            version=stored.version,
            created_at=now,
            actor=actor,
            actor_username=actor.get_username() if actor else "system",
            preset=preset,
            summary="; ".join(describe_chaos(stored, now=now)) or "Chaos off.",
            settings=stored.to_dict(),
            request_id=current_request_id(),
        )
        transaction.on_commit(lambda: publish_chaos_settings(stored))
    return stored


def chaos_preset_apply(*, actor, name: str) -> ChaosSettings:
    """Replace every chaos setting by the preset ``name`` ("off" turns everything off)."""
    preset = PRESETS.get(name)
    if preset is None:
        raise UnknownPreset(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return chaos_settings_update(actor=actor, chaos=preset.chaos, preset=name)


def chaos_off(*, actor) -> ChaosSettings:
    return chaos_preset_apply(actor=actor, name="off")


def chaos_publish_if_lost() -> bool:
    """Publish the stored settings again when the shared cache lost them or holds another version.

    The shared cache is how processes see chaos; if it was flushed (a Redis restart), processes
    quietly fall back to no chaos while the database still says otherwise. Whoever looks at the
    panel heals that. Returns True when it republished.
    """
    state = ChaosState.objects.filter(pk=ChaosState.SINGLETON_PK).first()
    if state is None or not chaos_enabled():
        return False
    published = published_chaos_settings()
    if published is not None and published.version == state.version:
        return False
    publish_chaos_settings(ChaosSettings.from_dict(state.settings))
    return True
