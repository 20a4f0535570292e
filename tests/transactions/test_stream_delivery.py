"""End to end through a real daphne process: outbox -> relay -> hub -> WebSocket / SSE."""

import os

import pytest
from django.db import transaction

from tests.transactions.streamclient import (
    SseCollector,
    WebSocketCollector,
    produce,
    wait_for,
)
from transactions.events import record_transaction_event


def test_committed_event_reaches_websocket_and_sse_clients(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()
    sse = SseCollector(server, headers=bearer).start().wait_subscribed()

    [event_id] = produce(1, kind="refund", amount=1250, currency="EUR", status="refunded")

    ws.wait_for_ids([event_id])
    sse.wait_for_ids([event_id])
    for client in (ws, sse):
        [event] = client.events
        assert event == {
            "id": event_id,
            "kind": "refund",
            "amount": 1250,
            "currency": "EUR",
            "status": "refunded",
            "merchant": "Test Merchant",
            "created_at": event["created_at"],
        }
    assert sse.response_headers["content-type"].startswith("text/event-stream")
    assert sse.response_headers["cache-control"] == "no-cache"
    assert sse.response_headers["x-accel-buffering"] == "no"
    assert event_id in sse.frame_ids  # SSE `id:` is the last event id of the frame
    ws.stop()
    sse.stop()


def write_then_fail():
    with transaction.atomic():
        record_transaction_event(
            kind="capture", amount=1, currency="USD", status="captured", merchant="Never"
        )
        raise RuntimeError("the producer's change failed")


def test_event_from_rolled_back_transaction_is_never_delivered(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()

    [before] = produce(1)
    with pytest.raises(RuntimeError, match="change failed"):
        write_then_fail()
    [after] = produce(1)
    ws.wait_for_ids([before, after])
    produce(1)  # one more round trip through the relay after `after`
    wait_for(lambda: len(ws.events) == 3, what="the last event")

    # (SQLite may reuse a rolled-back id, so the event is told apart by its content.)
    assert [event["merchant"] for event in ws.events] == ["Test Merchant"] * 3
    ws.stop()


def test_reconnect_with_last_id_receives_exactly_the_missed_events(stream_server, bearer):
    server = stream_server()
    first = WebSocketCollector(server, headers=bearer).start().wait_subscribed()
    seen = produce(3)
    first.wait_for_ids(seen)
    first.stop()

    missed = produce(4)
    again = WebSocketCollector(server, query=f"since={seen[-1]}", headers=bearer).start()
    again.wait_for_ids(missed)
    live = produce(1)
    again.wait_for_ids(live)

    assert again.event_ids == missed + live
    assert again.of_type("gap") == []
    again.stop()


def test_sse_resumes_from_last_event_id_header(stream_server, bearer):
    server = stream_server()
    earlier = produce(2)
    missed = produce(3)

    sse = SseCollector(server, headers={**bearer, "Last-Event-ID": str(earlier[-1])}).start()
    sse.wait_for_ids(missed)

    assert sse.event_ids == missed
    sse.stop()


def test_client_beyond_the_replay_window_is_told_the_exact_gap(stream_server, bearer):
    ids = produce(12)  # before the server starts: all of them are history, not live
    server = stream_server(STREAM_REPLAY_MAX_EVENTS=5)

    ws = WebSocketCollector(server, query=f"since={ids[0] - 1}", headers=bearer).start()
    ws.wait_for_ids(ids[-5:])

    [gap] = ws.of_type("gap")
    assert gap == {"type": "gap", "from_id": ids[0], "to_id": ids[6]}
    assert ws.event_ids == ids[-5:]
    ws.stop()


def test_filters_apply_to_live_events_and_replay(stream_server, bearer):
    server = stream_server()
    [small_replayed] = produce(1, amount=10)
    [big_replayed] = produce(1, amount=5000)
    since = small_replayed - 1
    query = f"kind=capture&currency=usd&min_amount=1000&since={since}"
    ws = WebSocketCollector(server, query=query, headers=bearer).start()
    ws.wait_for_ids([big_replayed])

    [refund] = produce(1, kind="refund", amount=9000)
    [yen] = produce(1, currency="JPY", amount=9000)
    [wanted] = produce(1, amount=2000)
    ws.wait_for_ids([wanted])

    assert ws.event_ids == [big_replayed, wanted]
    assert refund not in ws.event_ids
    assert yen not in ws.event_ids
    ws.stop()


def test_slow_client_drop_counts_plus_received_equal_sent(stream_server, bearer):
    # The client falls more than 200 ids behind the head: only then are its oldest dropped.
    server = stream_server(
        STREAM_QUEUE_CAPACITY=20,
        STREAM_BACKLOG_MAX_EVENTS=200,
        STREAM_WRITE_BUFFER_BYTES=2048,
        STREAM_SOCKET_SNDBUF_BYTES=4096,
    )
    slow = WebSocketCollector(server, headers=bearer, small_buffers=True).start().wait_subscribed()
    slow.paused.set()

    with transaction.atomic():
        sent = [
            record_transaction_event(
                kind="capture", amount=100, currency="USD", status="captured", merchant="M" * 60
            ).id
            for _ in range(1500)
        ]
    # Wait until the server has had to drop (it tells us once we read again).
    slow.paused.clear()
    wait_for(
        lambda: len(slow.event_ids) + slow.dropped_count >= len(sent),
        what="every sent event received or reported dropped",
    )

    received = slow.event_ids
    dropped = slow.of_type("dropped")
    assert slow.dropped_count > 0
    assert len(received) + slow.dropped_count == len(sent)
    assert received == sorted(received)
    assert set(received) <= set(sent)
    for report in dropped:
        assert report["first_id"] in sent
        assert report["last_id"] in sent
        # The dropped ranges hold exactly the events this client never received.
        in_range = [i for i in sent if report["first_id"] <= i <= report["last_id"]]
        assert not set(in_range) & set(received)
    assert sum(len([i for i in sent if d["first_id"] <= i <= d["last_id"]]) for d in dropped) == (
        slow.dropped_count
    )
    slow.stop()


def test_anonymous_websocket_is_refused_with_4401(stream_server):
    server = stream_server()
    ws = WebSocketCollector(server).start()
    wait_for(ws.finished.is_set, what="the server to close the socket")

    assert ws.close_code == 4401
    [error] = ws.of_type("error")
    assert error["code"] == "not_authenticated"


def test_anonymous_sse_is_refused_with_401_json(stream_server):
    server = stream_server()
    sse = SseCollector(server).start()
    wait_for(sse.finished.is_set, what="the response")

    assert sse.status_code == 401
    assert b'"code": "not_authenticated"' in sse.body


def test_bad_token_on_websocket_is_refused(stream_server):
    server = stream_server()
    ws = WebSocketCollector(server, query="token=pf_wrong").start()
    wait_for(ws.finished.is_set, what="the server to close the socket")

    assert ws.close_code == 4401
    assert ws.of_type("error")[0]["code"] == "invalid_token"


def test_token_in_query_string_is_accepted_on_websocket(stream_server, viewer_token):
    server = stream_server()
    ws = WebSocketCollector(server, query=f"token={viewer_token}").start().wait_subscribed()
    [event_id] = produce(1)
    ws.wait_for_ids([event_id])
    ws.stop()


def test_bad_filter_closes_websocket_with_an_error_naming_the_field(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, query="min_amount=-5", headers=bearer).start()
    wait_for(ws.finished.is_set, what="the server to close the socket")

    assert ws.close_code == 4400
    [error] = ws.of_type("error")
    assert error["field"] == "min_amount"
    assert "min_amount" in error["message"]


def test_chaos_slowed_consumer_overflows_its_queue_and_counts_every_drop(
    stream_server, bearer, admin
):
    from chaos.config import ChaosSettings
    from chaos.services import chaos_settings_update

    # Chaos is set before the server starts, so its very first read sees the slowed consumer.
    with transaction.atomic():
        chaos_settings_update(actor=admin, chaos=ChaosSettings(stream_slow_consumer_ms=100))
    server = stream_server(STREAM_QUEUE_CAPACITY=30, STREAM_BACKLOG_MAX_EVENTS=50)
    # A client that reads promptly; chaos alone slows what the server sends it.
    client = WebSocketCollector(server, headers=bearer).start().wait_subscribed()
    with transaction.atomic():  # one burst: far faster than 10 events per 100 ms
        sent = [
            record_transaction_event(
                kind="capture", amount=100, currency="USD", status="captured", merchant="M"
            ).id
            for _ in range(300)
        ]

    wait_for(
        lambda: len(client.event_ids) + client.dropped_count >= len(sent),
        what="every sent event received or reported dropped",
    )
    assert client.dropped_count > 0
    assert len(client.event_ids) + client.dropped_count == len(sent)
    assert max(len(frame["events"]) for frame in client.of_type("events")) <= 10
    client.stop()


def server_thread_count(server) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/task"))


def test_open_sse_streams_share_one_worker_thread(stream_server, bearer):
    """A thread per open stream would cost more than the stream itself; and the hub that the
    first stream started keeps serving after that stream has ended."""
    server = stream_server()
    first = SseCollector(server, headers=bearer).start().wait_subscribed()
    [early] = produce(1)
    first.wait_for_ids([early])
    first.stop()
    threads_with_one_stream = server_thread_count(server)

    streams = [SseCollector(server, headers=bearer).start().wait_subscribed() for _ in range(8)]
    [late] = produce(1)
    for stream in streams:
        stream.wait_for_ids([late])

    assert server_thread_count(server) <= threads_with_one_stream + 1
    for stream in streams:
        stream.stop()
