"""Named chaos presets: one click rehearses a familiar kind of bad day."""

from dataclasses import dataclass

from chaos.config import ChaosSettings, HttpFault

ALL_KINDS = frozenset({"page", "partial", "api"})


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    description: str
    chaos: ChaosSettings


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "intermittent_failures",
            "Intermittent Failures",
            "30% of payments and payouts pages, API calls and section refreshes answer 500 or 503.",
            ChaosSettings(
                http_faults=(
                    HttpFault("/payments", ALL_KINDS, error_rate=0.3),
                    HttpFault("/payouts", ALL_KINDS, error_rate=0.3),
                    HttpFault("/api/", frozenset({"api"}), error_rate=0.3),
                    HttpFault("/", frozenset({"partial"}), error_rate=0.3),
                ),
                preset="intermittent_failures",
            ),
        ),
        Preset(
            "slow_network",
            "Slow Network",
            "Every page, section refresh and API call waits 800 ms plus up to 400 ms of jitter.",
            ChaosSettings(
                http_faults=(HttpFault("/", ALL_KINDS, latency_ms=800, jitter_ms=400),),
                preset="slow_network",
            ),
        ),
        Preset(
            "stream_flapping",
            "Stream Flapping",
            "Live streams are cut at half of their heartbeats; clients reconnect and resume.",
            ChaosSettings(stream_disconnect_rate=0.5, preset="stream_flapping"),
        ),
        Preset(
            "event_burst",
            "Event Burst",
            "Every produced event is multiplied by 20 for 15 s (then the burst ends by itself), "
            "and live views read slowly (10 events per 250 ms frame), so their queues overflow: "
            "drops are counted and warned about, and a reconnect fills them in.",
            ChaosSettings(
                stream_burst_multiplier=20,
                stream_burst_seconds=15,
                stream_slow_consumer_ms=250,
                preset="event_burst",
            ),
        ),
        Preset("off", "Off", "No failure is injected anywhere.", ChaosSettings(preset="off")),
    )
}


def preset_label(name: str) -> str:
    preset = PRESETS.get(name)
    return preset.label if preset else "Custom"
