"""The pure parts of the stream: request parsing, the bounded queue, the relay's publish plan."""

import pytest
from django.http import QueryDict

from transactions.relay import PendingGap, plan_publish
from transactions.stream import StreamBuffer, StreamInputError, parse_stream_request


def event(event_id: int, **fields) -> dict:
    base = {"kind": "capture", "amount": 100, "currency": "USD", "status": "captured"}
    return {"id": event_id, "merchant": "M", "created_at": "2026-01-01T00:00:00Z", **base, **fields}


def test_filters_parse_repeated_and_comma_separated_values():
    request = parse_stream_request(
        QueryDict("kind=capture,refund&kind=fee&status=FAILED&currency=usd&min_amount=500&since=9")
    )
    assert request.filters.kinds == {"capture", "refund", "fee"}
    assert request.filters.statuses == {"failed"}
    assert request.filters.currencies == {"USD"}
    assert request.filters.min_amount == 500
    assert request.since == 9


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=chargeback", "kind"),
        ("status=not a status", "status"),
        ("currency=US", "currency"),
        ("currency=U$D", "currency"),
        ("min_amount=-1", "min_amount"),
        ("min_amount=12.50", "min_amount"),
        ("min_amount=1&min_amount=2", "min_amount"),
        ("since=abc", "since"),
        ("since=99999999999999999999999", "since"),
    ],
)
def test_bad_values_name_the_field(query, field):
    with pytest.raises(StreamInputError) as caught:
        parse_stream_request(QueryDict(query))
    assert caught.value.field == field
    assert caught.value.as_message()["fields"] == {field: [caught.value.message]}


def test_last_event_id_header_wins_over_since_and_is_validated():
    assert parse_stream_request(QueryDict("since=3"), last_event_id="7").since == 7
    with pytest.raises(StreamInputError) as caught:
        parse_stream_request(QueryDict(""), last_event_id="seven")
    assert caught.value.field == "Last-Event-ID"


def test_filters_match_like_the_database_query():
    filters = parse_stream_request(QueryDict("kind=refund&min_amount=1000")).filters
    assert filters.matches(event(1, kind="refund", amount=1000))
    assert not filters.matches(event(2, kind="refund", amount=999))
    assert not filters.matches(event(3, kind="capture", amount=5000))
    assert filters.as_query() == {"kind__in": ["refund"], "amount__gte": 1000}


def test_buffer_drops_the_oldest_and_reports_count_and_range():
    buffer = StreamBuffer(capacity=3)
    for event_id in range(1, 8):
        buffer.offer(event(event_id))

    report = buffer.take_drop_report()
    assert (report.count, report.first_id, report.last_id) == (4, 1, 4)
    assert [e["id"] for e in buffer.take(10)] == [5, 6, 7]
    assert buffer.take_drop_report() is None


def test_buffer_never_holds_more_than_its_capacity():
    buffer = StreamBuffer(capacity=50)
    for event_id in range(10_000):
        buffer.offer(event(event_id))
        assert len(buffer) <= 50
    assert buffer.dropped_total + len(buffer) == buffer.offered_total == 10_000


def test_plan_publishes_contiguous_ids():
    plan = plan_publish(10, [event(11), event(12)], gap=None, holes_are_final=False)
    assert [e["id"] for e in plan.events] == [11, 12]
    assert plan.through == 12
    assert plan.stopped_at is None


def test_plan_stops_at_a_hole_that_may_still_commit():
    plan = plan_publish(10, [event(11), event(13), event(14)], gap=None, holes_are_final=False)
    assert [e["id"] for e in plan.events] == [11]
    assert plan.through == 11
    assert plan.stopped_at == (12, 12)


def test_plan_skips_a_hole_once_its_writers_have_finished():
    gap = PendingGap(start=12, end=12, blockers=["901"], settled=True)
    plan = plan_publish(11, [event(13), event(14)], gap=gap, holes_are_final=False)
    assert [e["id"] for e in plan.events] == [13, 14]
    assert plan.skipped == [(12, 12)]
    assert plan.through == 14


def test_plan_waits_while_the_hole_is_not_settled():
    gap = PendingGap(start=12, end=12, blockers=["901"], settled=False)
    plan = plan_publish(11, [event(13)], gap=gap, holes_are_final=False)
    assert plan.events == []
    assert plan.through == 11


def test_plan_on_sqlite_treats_holes_as_final():
    plan = plan_publish(10, [event(12)], gap=None, holes_are_final=True)
    assert [e["id"] for e in plan.events] == [12]
    assert plan.skipped == [(11, 11)]
