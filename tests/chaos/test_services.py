from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from chaos.config import ChaosSettings, HttpFault, get_chaos_settings, published_chaos_settings
from chaos.models import ChaosChange, ChaosState
from chaos.presets import PRESETS
from chaos.services import (
    ChaosDisabled,
    ChaosInvalid,
    UnknownPreset,
    chaos_off,
    chaos_preset_apply,
    chaos_publish_if_lost,
    chaos_settings_update,
)

pytestmark = pytest.mark.django_db

ERRORS_ON_PAYMENTS = ChaosSettings(http_faults=(HttpFault("/payments", error_rate=1.0),))


def test_a_change_is_stored_logged_with_who_and_when_and_published(admin, on_commit):
    before = timezone.now()
    stored = on_commit(chaos_settings_update, actor=admin, chaos=ERRORS_ON_PAYMENTS)

    assert stored.version == 1
    state = ChaosState.objects.get()
    assert state.version == 1
    assert state.updated_by == admin
    change = ChaosChange.objects.get()
    assert change.actor == admin
    assert change.actor_username == admin.username
    assert change.created_at >= before
    assert "100% errors" in change.summary
    assert "/payments" in change.summary
    assert published_chaos_settings().version == 1
    assert get_chaos_settings().http_faults[0].error_rate == 1.0


def test_every_change_gets_the_next_version_and_its_own_log_row(admin, on_commit):
    on_commit(chaos_settings_update, actor=admin, chaos=ERRORS_ON_PAYMENTS)
    on_commit(chaos_off, actor=admin)
    assert list(ChaosChange.objects.values_list("version", "preset")) == [(2, "off"), (1, "custom")]
    assert not get_chaos_settings().active


def test_nothing_is_published_before_the_change_commits(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        chaos_settings_update(actor=admin, chaos=ERRORS_ON_PAYMENTS)
    assert len(callbacks) == 1
    assert published_chaos_settings() is None


def test_invalid_settings_name_each_field_and_change_nothing(admin):
    bad = ChaosSettings(
        http_faults=(
            HttpFault(
                "payments",
                frozenset({"page", "bogus"}),
                latency_ms=-1,
                error_rate=0.8,
                timeout_rate=0.5,
            ),
        ),
        stream_burst_multiplier=5,
        stream_burst_seconds=0,
        stream_disconnect_rate=2,
    )
    with pytest.raises(ChaosInvalid) as caught:
        chaos_settings_update(actor=admin, chaos=bad)
    assert set(caught.value.fields) == {
        "http_faults.0.path_prefix",
        "http_faults.0.request_kinds",
        "http_faults.0.latency_ms",
        "http_faults.0.timeout_rate",
        "stream_burst_seconds",
        "stream_disconnect_rate",
    }
    assert not ChaosState.objects.exists()
    assert not ChaosChange.objects.exists()


def test_nothing_can_be_turned_on_while_chaos_is_disabled(admin, settings):
    settings.CHAOS_ENABLED = False
    with pytest.raises(ChaosDisabled):
        chaos_preset_apply(actor=admin, name="intermittent_failures")
    assert not ChaosChange.objects.exists()
    assert published_chaos_settings() is None


def test_unknown_preset_is_refused(admin):
    with pytest.raises(UnknownPreset, match="intermittent_failures"):
        chaos_preset_apply(actor=admin, name="meltdown")


def test_event_burst_records_its_start_and_ends_by_itself(admin, on_commit):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        stored = on_commit(chaos_preset_apply, actor=admin, name="event_burst")
        burst = PRESETS["event_burst"].chaos
        assert stored.stream_burst_started_at == timezone.now()
        assert get_chaos_settings().stream_burst_multiplier == burst.stream_burst_multiplier > 1
        clock.shift(timedelta(seconds=burst.stream_burst_seconds + 1))
        assert get_chaos_settings().stream_burst_multiplier == 1


def test_saving_during_a_burst_does_not_restart_it(admin, on_commit):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = on_commit(chaos_preset_apply, actor=admin, name="event_burst")
        clock.shift(timedelta(seconds=5))
        burst = PRESETS["event_burst"].chaos
        again = ChaosSettings(
            stream_burst_multiplier=burst.stream_burst_multiplier,
            stream_burst_seconds=burst.stream_burst_seconds,
            stream_slow_consumer_ms=5,
        )
        second = on_commit(chaos_settings_update, actor=admin, chaos=again)
        assert second.stream_burst_started_at == first.stream_burst_started_at


def test_the_change_log_is_append_only(admin, on_commit):
    on_commit(chaos_settings_update, actor=admin, chaos=ERRORS_ON_PAYMENTS)
    change = ChaosChange.objects.get()
    change.summary = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_lost_settings_are_published_again_from_the_database(admin, on_commit):
    on_commit(chaos_settings_update, actor=admin, chaos=ERRORS_ON_PAYMENTS)
    from chaos.config import SETTINGS_KEY, shared_cache

    shared_cache().delete(SETTINGS_KEY)  # e.g. Redis restarted
    assert chaos_publish_if_lost() is True
    assert published_chaos_settings().version == 1
    assert chaos_publish_if_lost() is False
