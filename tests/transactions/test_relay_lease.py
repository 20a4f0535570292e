"""Relay leadership under a frozen holder (SIGSTOP), and what fast clients see after a stall.

Two real server processes on PostgreSQL + Redis; the relay holder is frozen with SIGSTOP (its
database connection stays open, as in a GC pause, a stuck disk or a VM migration), then woken
with SIGCONT.
"""

import os
import signal
import threading
import time

import pytest

from payflow.servers import GRACEFUL_SHUTDOWN_SECONDS
from tests.transactions.streamclient import SseCollector, WebSocketCollector, produce, wait_for
from transactions.models import StreamRelayState

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LEASE_SECONDS = 3


def holder_and_survivor(servers):
    state = wait_for(
        lambda: StreamRelayState.objects.filter(pk=1).exclude(holder="").first(),
        what="a relay holder",
    )
    holder_pid = int(state.holder.rsplit(":", 1)[1])
    [holder] = [s for s in servers if s.process.pid == holder_pid]
    [survivor] = [s for s in servers if s is not holder]
    return holder, survivor


class SteadyProducer:
    """Commits events at a steady rate on its own thread until stopped; keeps their ids.

    Ten events per transaction every 50 ms, so a loaded machine still writes ~200/s.
    """

    def __init__(self, *, per_second: int):
        self.per_tick = max(1, per_second // 20)
        self.interval = 0.05
        self.ids: list[int] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from django.db import connection, transaction

        try:
            while not self.stopped.is_set():
                started = time.monotonic()
                with transaction.atomic():
                    self.ids.extend(produce(self.per_tick))
                time.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            connection.close()

    def start(self) -> "SteadyProducer":
        self.thread.start()
        return self

    def stop(self) -> list[int]:
        self.stopped.set()
        self.thread.join(10)
        return list(self.ids)


def test_frozen_relay_holder_is_replaced_within_the_lease_and_wakes_without_publishing(
    stream_server, bearer
):
    servers = [stream_server(STREAM_LEASE_SECONDS=LEASE_SECONDS) for _ in range(2)]
    clients = [WebSocketCollector(s, headers=bearer).start().wait_subscribed() for s in servers]
    before = produce(5)
    for client in clients:
        client.wait_for_ids(before)
    holder, survivor = holder_and_survivor(servers)
    survivor_client = clients[servers.index(survivor)]

    os.kill(holder.process.pid, signal.SIGSTOP)
    try:
        frozen_at = time.monotonic()
        during = produce(5)
        # Replaced within the lease (plus the standby's one-second poll and the delivery).
        survivor_client.wait_for_ids(during, timeout=LEASE_SECONDS + 3)
        took_over_after = time.monotonic() - frozen_at
        state = StreamRelayState.objects.get(pk=1)
        assert state.holder.endswith(f":{survivor.process.pid}")
        more = produce(5)
        survivor_client.wait_for_ids(more)
    finally:
        os.kill(holder.process.pid, signal.SIGCONT)
    token_after_takeover = StreamRelayState.objects.get(pk=1).lease_token

    after = produce(5)
    for client in clients:
        client.wait_for_ids(after, timeout=15)
    time.sleep(2)  # room for a woken stale holder to (wrongly) publish or reclaim
    expected = before + during + more + after
    for client in clients:
        assert client.event_ids == expected  # nothing lost, nothing twice, in order
    state = StreamRelayState.objects.get(pk=1)
    assert state.holder.endswith(f":{survivor.process.pid}")
    assert state.lease_token == token_after_takeover  # the woken holder did not take it back
    assert took_over_after < LEASE_SECONDS + 3
    for client in clients:
        client.stop()


def test_after_an_8_second_relay_stall_a_fast_client_has_dropped_nothing(stream_server, bearer):
    # Default lease (5 s) would end the stall early; a long lease keeps the relay stalled 8 s.
    servers = [stream_server(STREAM_LEASE_SECONDS=30, STREAM_QUEUE_CAPACITY=100) for _ in range(2)]
    clients = [WebSocketCollector(s, headers=bearer).start().wait_subscribed() for s in servers]
    warm = produce(3)
    for client in clients:
        client.wait_for_ids(warm)
    holder, survivor = holder_and_survivor(servers)
    fast = clients[servers.index(survivor)]

    producer = SteadyProducer(per_second=200).start()
    os.kill(holder.process.pid, signal.SIGSTOP)
    try:
        time.sleep(8)
    finally:
        os.kill(holder.process.pid, signal.SIGCONT)
    time.sleep(1)
    sent = warm + producer.stop()
    assert len(sent) > 5 * 100  # far more than the queue (100) holds

    fast.wait_for_ids(sent, timeout=30)
    assert fast.dropped_count == 0
    assert not fast.of_type("dropped")
    assert fast.event_ids == sent
    for client in clients:
        client.stop()


@pytest.mark.parametrize("server_name", ["daphne", "uvicorn"])
def test_a_holder_that_shuts_down_cleanly_hands_the_lease_over_at_once(
    stream_server, bearer, server_name
):
    # A lease far longer than the test: only the handover can explain a quick takeover.
    servers = [stream_server(server=server_name, STREAM_LEASE_SECONDS=60) for _ in range(2)]
    clients = [WebSocketCollector(s, headers=bearer).start().wait_subscribed() for s in servers]
    before = produce(5)
    for client in clients:
        client.wait_for_ids(before)
    holder, survivor = holder_and_survivor(servers)
    survivor_client = clients[servers.index(survivor)]
    # An SSE response never ends by itself: the holder must stop in spite of it.
    holder_sse = SseCollector(holder, headers=bearer).start().wait_subscribed()
    token = StreamRelayState.objects.get(pk=1).lease_token

    stopped_at = time.monotonic()
    # SIGTERM. daphne stops its loop and exits; uvicorn closes WebSockets (1012), cuts SSE
    # after its grace period, then sends the lifespan's shutdown.
    holder.stop()
    exited_after = time.monotonic() - stopped_at
    after = produce(5)
    survivor_client.wait_for_ids(after, timeout=10)
    took_over_after = time.monotonic() - stopped_at

    assert holder.process.returncode is not None
    assert exited_after < GRACEFUL_SHUTDOWN_SECONDS + 3, "not killed after the stop's timeout"
    wait_for(lambda: holder_sse.finished.is_set(), what="the holder's SSE response to end")
    state = StreamRelayState.objects.get(pk=1)
    assert state.holder.endswith(f":{survivor.process.pid}")
    assert state.lease_token == token + 1
    assert took_over_after < GRACEFUL_SHUTDOWN_SECONDS + 5, "well inside the 60 s lease"
    assert survivor_client.event_ids == before + after  # nothing lost, nothing twice
    survivor_client.stop()
