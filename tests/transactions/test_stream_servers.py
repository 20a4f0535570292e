"""The stream end to end under the other supported ASGI server (``manage.py serve --server``).

daphne is covered by every other stream test; this runs the same path (outbox -> relay -> hub ->
socket) through a real uvicorn process, including the relay starting with the first connection
and the close codes the consumer sends.
"""

import threading
import time

import httpx
import pytest
from django.db import connection

from tests.transactions.streamclient import SseCollector, WebSocketCollector, produce, wait_for

SERVER = "uvicorn"


@pytest.fixture
def uvicorn_server(stream_server):
    pytest.importorskip("uvicorn")
    return stream_server(server=SERVER)


def test_events_reach_websocket_and_sse_clients_under_uvicorn(uvicorn_server, bearer):
    ws = WebSocketCollector(uvicorn_server, headers=bearer).start().wait_subscribed()
    sse = SseCollector(uvicorn_server, headers=bearer).start().wait_subscribed()

    ids = produce(3, currency="EUR")

    assert ws.wait_for_ids(ids) == ids
    assert sse.wait_for_ids(ids) == ids
    assert {event["currency"] for event in ws.events} == {"EUR"}
    ws.stop()
    sse.stop()


def test_resume_and_refusals_keep_their_close_codes_under_uvicorn(uvicorn_server, bearer):
    [first] = produce(1)
    resumed = WebSocketCollector(uvicorn_server, query=f"since={first - 1}", headers=bearer)
    resumed.start()
    assert resumed.wait_for_ids([first]) == [first]
    resumed.stop()

    anonymous = WebSocketCollector(uvicorn_server).start()
    wait_for(lambda: anonymous.finished.is_set(), what="the refusal")
    assert anonymous.close_code == 4401
    assert anonymous.of_type("error")[0]["code"] == "not_authenticated"

    bad = WebSocketCollector(uvicorn_server, query="kind=nope", headers=bearer).start()
    wait_for(lambda: bad.finished.is_set(), what="the refusal")
    assert bad.close_code == 4400
    assert bad.of_type("error")[0]["field"] == "kind"


def open_websocket_streams(server) -> float:
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in metrics.splitlines():
        if line.startswith('payflow_stream_connections{transport="websocket"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def produce_and_disconnect(count: int) -> None:
    try:
        produce(count, merchant="M" * 60)
    finally:
        connection.close()


@pytest.mark.parametrize("server_name", ["daphne", "uvicorn"])
def test_a_client_that_stops_reading_is_told_why_and_closed_with_4429(
    stream_server, bearer, server_name
):
    server = stream_server(
        server=server_name,
        STREAM_SLOW_CLIENT_SECONDS=2,
        STREAM_WRITE_BUFFER_BYTES=2048,
        STREAM_SOCKET_SNDBUF_BYTES=4096,
    )
    slow = WebSocketCollector(server, headers=bearer, small_buffers=True).start().wait_subscribed()
    slow.paused.set()
    # Produced on the side: on a loaded machine writing the burst takes longer than the server
    # takes to give up on the client, and the client must read again soon after that.
    burst = threading.Thread(target=produce_and_disconnect, args=(1500,), daemon=True)
    burst.start()
    wait_for(
        lambda: open_websocket_streams(server) == 0,
        timeout=30,
        what="the server to close the slow client",
    )
    # Longer than autobahn's own 1 s wait for the reply to a close, well inside the stream's.
    time.sleep(3)
    slow.paused.clear()

    wait_for(slow.finished.is_set, timeout=20, what="the slow client to read up to the close")
    burst.join(60)
    [closing] = slow.of_type("closing")
    assert closing["reason"] == "slow_consumer"
    assert closing["last_id"] >= 0
    assert slow.close_code == 4429
