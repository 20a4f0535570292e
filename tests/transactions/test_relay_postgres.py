"""The relay on PostgreSQL: commit order is not id order, several processes, one publisher."""

import threading

import pytest
from django.db import connection, transaction

from tests.transactions.streamclient import WebSocketCollector, produce, wait_for
from transactions.events import record_transaction_event
from transactions.models import StreamRelayState

pytestmark = pytest.mark.postgres


class HeldProducer:
    """A producer whose transaction has written its event and then waits to commit or roll back."""

    def __init__(self, *, commit: bool):
        self.commit = commit
        self.written = threading.Event()
        self.release = threading.Event()
        self.event_id: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            with transaction.atomic():
                self.event_id = record_transaction_event(
                    kind="authorization",
                    amount=4200,
                    currency="USD",
                    status="authorized",
                    merchant="Held Open",
                ).id
                self.written.set()
                self.release.wait(30)
                if not self.commit:
                    transaction.set_rollback(True)
        finally:
            connection.close()

    def start(self) -> "HeldProducer":
        self.thread.start()
        assert self.written.wait(10)
        return self

    def finish(self) -> None:
        self.release.set()
        self.thread.join(10)


def test_event_committed_after_higher_ids_is_delivered_once_and_in_order(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()

    held = HeldProducer(commit=True).start()
    later = produce(3)  # higher ids, committed while the lower one is still open
    assert all(event_id > held.event_id for event_id in later)
    [marker] = produce(1)
    wait_for(lambda: held.thread.is_alive(), what="the held transaction")
    # The relay must not run past the open transaction's id.
    assert not set(later + [marker]) & set(ws.event_ids)

    held.finish()
    ws.wait_for_ids([held.event_id, *later, marker])

    assert ws.event_ids == [held.event_id, *later, marker]
    ws.stop()


def test_held_transaction_that_rolls_back_releases_the_stream(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()

    held = HeldProducer(commit=False).start()
    later = produce(2)
    held.finish()
    ws.wait_for_ids(later)

    assert ws.event_ids == later
    ws.stop()


@pytest.mark.redis
def test_two_processes_one_relay_every_client_gets_every_event_once_in_order(stream_server, bearer):
    first, second = stream_server(), stream_server()
    clients = [
        WebSocketCollector(server, headers=bearer).start().wait_subscribed()
        for server in (first, second, first, second)
    ]

    ids = produce(30)

    for client in clients:
        client.wait_for_ids(ids)
        assert client.event_ids == ids
    holder = wait_for(lambda: StreamRelayState.objects.filter(pk=1).first(), what="relay state")
    pids = {str(first.process.pid), str(second.process.pid)}
    assert holder.holder.rsplit(":", 1)[1] in pids
    for client in clients:
        client.stop()


@pytest.mark.redis
def test_killing_the_relay_holder_hands_over_without_gap_or_duplicate(stream_server, bearer):
    servers = [stream_server(), stream_server()]
    watchers = [WebSocketCollector(s, headers=bearer).start().wait_subscribed() for s in servers]
    before = produce(10)
    for watcher in watchers:
        watcher.wait_for_ids(before)
    state = StreamRelayState.objects.get(pk=1)
    holder_pid = int(state.holder.rsplit(":", 1)[1])
    [holder] = [s for s in servers if s.process.pid == holder_pid]
    [survivor] = [s for s in servers if s is not holder]
    survivor_watcher = watchers[servers.index(survivor)]

    holder.stop(kill=True)
    during = produce(10)  # written while nobody publishes: the survivor must pick them up
    survivor_watcher.wait_for_ids(during)
    after = produce(5)
    survivor_watcher.wait_for_ids(after)

    assert survivor_watcher.event_ids == before + during + after
    new_state = wait_for(
        lambda: StreamRelayState.objects.filter(pk=1, last_published_id__gte=after[-1]).first(),
        what="the survivor's high-water mark",
    )
    assert new_state.holder.endswith(f":{survivor.process.pid}")
    for watcher in watchers:
        watcher.stop()


def terminate_relay_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'payflow-stream-relay' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.redis
def test_relay_reconnects_after_losing_its_database_connection(stream_server, bearer):
    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()
    before = produce(5)
    ws.wait_for_ids(before)

    assert terminate_relay_connections() >= 1
    during = produce(5)  # the relay is reconnecting: these must not be lost
    after = produce(2)
    ws.wait_for_ids(during + after)

    assert ws.event_ids == before + during + after
    ws.stop()


@pytest.mark.redis
def test_hub_resyncs_from_the_table_after_losing_its_redis_subscription(
    stream_server, bearer, settings
):
    import redis

    server = stream_server()
    ws = WebSocketCollector(server, headers=bearer).start().wait_subscribed()
    before = produce(3)
    ws.wait_for_ids(before)

    client = redis.Redis.from_url(settings.REDIS_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    subscribers = [c for c in client.client_list() if int(c["db"]) == db and int(c["sub"]) > 0]
    assert subscribers
    for subscriber in subscribers:
        client.client_kill_filter(_id=subscriber["id"])
    during = produce(5)
    after = produce(2)
    ws.wait_for_ids(during + after)

    assert ws.event_ids == before + during + after
    ws.stop()
