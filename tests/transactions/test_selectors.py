from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.transactions.streamclient import produce
from transactions import selectors
from transactions.stream import StreamFilters

pytestmark = pytest.mark.django_db


def test_replay_within_the_window_has_no_gap():
    ids = produce(5)
    plan = selectors.replay_plan(since=ids[1], through=ids[-1])
    assert plan.gap is None
    assert plan.start_after == ids[1]


def test_replay_beyond_the_event_window_reports_the_left_out_ids(settings):
    settings.STREAM_REPLAY_MAX_EVENTS = 3
    ids = produce(8)
    plan = selectors.replay_plan(since=ids[0] - 1, through=ids[-1])
    assert plan.gap == (ids[0], ids[4])
    assert plan.start_after == ids[4]


def test_replay_beyond_the_time_window_reports_the_left_out_ids(settings):
    settings.STREAM_REPLAY_MAX_SECONDS = 60
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        old = produce(3)
    recent = produce(2)
    plan = selectors.replay_plan(since=old[0] - 1, through=recent[-1])
    assert plan.gap == (old[0], old[-1])
    assert plan.start_after == recent[0] - 1


def test_resume_id_from_the_future_is_capped_at_the_newest_event():
    ids = produce(2)
    plan = selectors.replay_plan(since=ids[-1] + 1000, through=ids[0])
    assert plan.live_after == ids[-1]


def test_events_between_applies_filters_and_bounds():
    ids = produce(2, amount=50) + produce(2, amount=5000)
    events = selectors.events_between(
        after_id=ids[0], through_id=ids[-1], limit=10, filters=StreamFilters(min_amount=1000)
    )
    assert [event["id"] for event in events] == ids[2:]


def test_stream_health_reports_rate_clients_and_freshness():
    from transactions.hub import record_process_clients

    produce(20)
    record_process_clients(connected=3, dropped_total=7)
    health = selectors.stream_health()
    assert health["connected_clients"] == 3
    assert health["dropped_total"] == 7
    assert health["events_per_second"] == 2.0  # 20 events in the last 10 s
    assert health["last_event_at"] is not None
