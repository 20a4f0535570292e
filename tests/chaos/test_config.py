from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from chaos.config import (
    CHAOS_OFF,
    PROCESS_ID,
    ChaosSettings,
    HttpFault,
    aget_chaos_settings,
    get_chaos_settings,
    process_views,
    publish_chaos_settings,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_settings_survive_a_round_trip_through_the_shared_form():
    chaos = ChaosSettings(
        http_faults=(HttpFault("/payments", frozenset({"page", "api"}), 100, 50, 0.25, 0.1),),
        stream_disconnect_rate=0.5,
        stream_burst_multiplier=10,
        stream_burst_seconds=10,
        stream_slow_consumer_ms=40,
        preset="custom",
        stream_burst_started_at=NOW,
        version=7,
    )
    assert ChaosSettings.from_dict(chaos.to_dict()) == chaos


def test_nothing_set_is_not_active():
    assert not CHAOS_OFF.active
    assert not ChaosSettings(http_faults=(HttpFault("/"),)).active


def test_a_burst_acts_until_its_time_is_up_then_multiplies_nothing():
    chaos = ChaosSettings(
        stream_burst_multiplier=10, stream_burst_seconds=10, stream_burst_started_at=NOW
    )
    assert chaos.effective(NOW + timedelta(seconds=9)).stream_burst_multiplier == 10
    after = chaos.effective(NOW + timedelta(seconds=10))
    assert after.stream_burst_multiplier == 1
    assert not after.active


def test_fault_matches_by_prefix_and_kind():
    fault = HttpFault("/payments", frozenset({"partial"}), error_rate=1)
    assert fault.matches("/payments/new", "partial")
    assert not fault.matches("/payments/new", "page")
    assert not fault.matches("/payouts", "partial")


@pytest.mark.django_db
def test_published_settings_are_what_every_reader_gets():
    publish_chaos_settings(ChaosSettings(stream_disconnect_rate=0.3, version=3))
    assert get_chaos_settings().stream_disconnect_rate == 0.3
    assert get_chaos_settings().version == 3


@pytest.mark.django_db
def test_async_readers_get_the_same_settings():
    publish_chaos_settings(ChaosSettings(stream_slow_consumer_ms=25, version=4))
    assert async_to_sync(aget_chaos_settings)().stream_slow_consumer_ms == 25


@pytest.mark.django_db
def test_nothing_is_in_force_while_chaos_is_disabled(settings):
    publish_chaos_settings(ChaosSettings(stream_disconnect_rate=0.3, version=3))
    settings.CHAOS_ENABLED = False
    assert get_chaos_settings() is CHAOS_OFF


@pytest.mark.django_db
def test_a_reading_process_reports_the_version_it_sees():
    publish_chaos_settings(ChaosSettings(stream_disconnect_rate=0.3, version=5, preset="x"))
    get_chaos_settings()
    mine = [view for view in process_views() if view["id"] == PROCESS_ID]
    assert mine
    assert mine[0]["version"] == 5
    assert mine[0]["active"] is True
