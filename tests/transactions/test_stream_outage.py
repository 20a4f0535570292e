"""A real database outage under live streams: a test-owned PostgreSQL stopped and restarted.

The server is a real daphne child process on that cluster; the outage is ``pg_ctl stop -m fast``
(every connection cut, nothing answers) and the recovery ``pg_ctl start`` on the same port.
"""

import time

import httpx
import pytest

from tests.server import ServerProcess
from tests.transactions.owned_postgres import OwnedPostgres, pg_bin
from tests.transactions.streamclient import SseCollector, WebSocketCollector, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_bin("initdb") is None, reason="needs PostgreSQL's initdb and pg_ctl"),
]


@pytest.fixture
def owned_postgres():
    cluster = OwnedPostgres().init()
    yield cluster
    cluster.destroy()


@pytest.fixture
def owned_server(owned_postgres):
    servers = []

    def start(**env) -> ServerProcess:
        env = {
            "STREAM_HEARTBEAT_SECONDS": 1,
            "REDIS_PREFIX": f"payflow-owned-{owned_postgres.port}",
            **env,
            **owned_postgres.env(),
        }
        server = ServerProcess(env={key: str(value) for key, value in env.items()})
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def messages_after_last_events(client) -> list[dict]:
    with client.lock:
        messages = list(client.messages)
    last = max((i for i, m in enumerate(messages) if m["type"] == "events"), default=-1)
    return messages[last + 1 :]


def test_replay_interrupted_by_a_database_outage_resumes_and_delivers_every_event(
    owned_postgres, owned_server
):
    owned_postgres.produce(3000)
    expected = owned_postgres.event_ids()
    token = owned_postgres.viewer_token()
    server = owned_server(STREAM_WRITE_BUFFER_BYTES=2048, STREAM_SOCKET_SNDBUF_BYTES=4096)
    client = WebSocketCollector(
        server, query="since=0", headers={"Authorization": f"Bearer {token}"}, small_buffers=True
    )
    client.paused.set()  # the replay starts and then waits on a full socket: mid-replay
    client.start()
    time.sleep(2)

    owned_postgres.stop()
    client.paused.clear()
    wait_for(lambda: client.event_ids, what="the replay's first frames")
    # The replay cannot go on, but the connection is not silent: heartbeats keep coming.
    wait_for(
        lambda: (
            len([m for m in messages_after_last_events(client) if m["type"] == "heartbeat"]) >= 3
        ),
        timeout=15,
        what="heartbeats while the database is down",
    )
    assert 0 < len(client.event_ids) < len(expected)
    assert not client.finished.is_set()

    owned_postgres.start()
    client.wait_for_ids(expected, timeout=30)

    assert client.event_ids == expected  # every event, once, in order
    assert not client.of_type("dropped")
    client.stop()


def test_connecting_while_the_database_is_down_gets_503_json_and_a_closing_message(
    owned_postgres, owned_server
):
    token = owned_postgres.viewer_token()
    bearer = {"Authorization": f"Bearer {token}"}
    server = owned_server()
    owned_postgres.stop()

    response = httpx.get(f"{server.url}/stream/transactions/", headers=bearer, timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["message"]
    assert body["fields"] == {}

    ws = WebSocketCollector(server, query="since=7", headers=bearer).start()
    wait_for(ws.finished.is_set, what="the server to close the socket")
    [closing] = ws.of_type("closing")
    assert closing["reason"] == "service_unavailable"
    assert closing["last_id"] == 7  # where to resume from
    assert closing["message"]
    assert ws.close_code == 4503  # "try again later" (like HTTP 503), not a bare 1011

    owned_postgres.start()
    sse = SseCollector(server, headers=bearer).start()
    wait_for(lambda: sse.of_type("heartbeat"), what="a stream once the database is back")
    assert sse.status_code == 200
    sse.stop()


def test_simulator_survives_a_database_restart(owned_postgres):
    import os
    import subprocess
    import sys

    from tests.server import ROOT

    env = {**os.environ, **owned_postgres.env(), "DJANGO_SETTINGS_MODULE": "payflow.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "simulate", "transactions", "--rate", "50"]
        + ["--duration", "10", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(owned_postgres.event_ids()) > 20, what="the simulator's first events")
    owned_postgres.stop()
    time.sleep(3)
    owned_postgres.start()
    restarted_with = len(owned_postgres.event_ids())
    out, err = simulator.communicate(timeout=30)

    assert simulator.returncode == 0, err
    assert "Traceback" not in err
    assert "retrying" in err  # it said what happened
    assert len(owned_postgres.event_ids()) > restarted_with + 20  # and went on writing
