"""Real stream clients for the tests: a WebSocket and an SSE reader, each on its own thread.

They talk to a real daphne child process, so everything between the outbox and the socket is
the production path. ``wait_for`` polls a condition with a deadline (no fixed sleeps).
"""

import asyncio
import json
import socket
import threading
import time

import httpx
import websockets
from django.db import transaction

from transactions.events import record_transaction_event

WAIT_SECONDS = 20


def produce(count: int, **overrides) -> list[int]:
    """Commit ``count`` events (one transaction each); returns their ids."""
    ids = []
    for index in range(count):
        with transaction.atomic():
            fields = {
                "kind": "capture",
                "amount": 1000 + index,
                "currency": "USD",
                "status": "captured",
                "merchant": "Test Merchant",
                **overrides,
            }
            ids.append(record_transaction_event(**fields).id)
    return ids


def wait_for(condition, *, timeout: float = WAIT_SECONDS, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Collector:
    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()

    @property
    def events(self) -> list[dict]:
        with self.lock:
            return [event for m in self.messages if m["type"] == "events" for event in m["events"]]

    @property
    def event_ids(self) -> list[int]:
        return [event["id"] for event in self.events]

    def of_type(self, kind: str) -> list[dict]:
        with self.lock:
            return [message for message in self.messages if message["type"] == kind]

    @property
    def dropped_count(self) -> int:
        return sum(message["count"] for message in self.of_type("dropped"))

    def record(self, message: dict) -> None:
        with self.lock:
            self.messages.append(message)

    def wait_subscribed(self) -> "Collector":
        wait_for(lambda: self.of_type("heartbeat") or self.finished.is_set(), what="subscription")
        return self

    def wait_for_ids(self, ids, *, timeout: float = WAIT_SECONDS) -> list[int]:
        wanted = set(ids)
        wait_for(lambda: wanted <= set(self.event_ids), timeout=timeout, what=f"events {ids}")
        return self.event_ids


class WebSocketCollector(Collector):
    """Reads ``/ws/transactions/``; ``paused`` stops reading so the server sees a slow client."""

    def __init__(self, server, *, query: str = "", headers=None, small_buffers: bool = False):
        super().__init__()
        self.url = f"{server.ws_url}/ws/transactions/" + (f"?{query}" if query else "")
        self.origin = server.url
        self.port = server.port
        self.headers = headers or {}
        self.small_buffers = small_buffers
        self.paused = threading.Event()
        self.stop_requested = threading.Event()
        self.close_code: int | None = None

    def start(self) -> "WebSocketCollector":
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()
        return self

    async def _run(self):
        kwargs = {"origin": self.origin, "additional_headers": self.headers, "max_size": None}
        if self.small_buffers:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", self.port))
            kwargs.update(sock=sock, max_queue=1)
        try:
            async with websockets.connect(self.url, **kwargs) as ws:
                while not self.stop_requested.is_set():
                    if self.paused.is_set():
                        await asyncio.sleep(0.05)
                        continue
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.2)
                    except TimeoutError:
                        continue
                    self.record(json.loads(raw))
        except websockets.ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.finished.set()

    def stop(self) -> None:
        self.stop_requested.set()
        self.finished.wait(10)


class SseCollector(Collector):
    def __init__(self, server, *, query: str = "", headers=None):
        super().__init__()
        self.url = f"{server.url}/stream/transactions/" + (f"?{query}" if query else "")
        self.headers = headers or {}
        self.status_code: int | None = None
        self.response_headers: dict = {}
        self.body = b""
        self.frame_ids: list[int] = []
        self.stop_requested = threading.Event()

    def start(self) -> "SseCollector":
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        try:
            timeout = httpx.Timeout(5.0, read=2.0)
            with httpx.stream("GET", self.url, headers=self.headers, timeout=timeout) as response:
                self.status_code = response.status_code
                self.response_headers = dict(response.headers)
                if response.status_code != 200:
                    self.body = response.read()
                    return
                frame: dict = {}
                for line in response.iter_lines():
                    if self.stop_requested.is_set():
                        return
                    if line.startswith("id: "):
                        frame["id"] = int(line[4:])
                    elif line.startswith("event: "):
                        frame["event"] = line[7:]
                    elif line.startswith("data: "):
                        frame["data"] = json.loads(line[6:])
                    elif line == "" and "data" in frame:
                        assert frame["event"] == frame["data"]["type"]
                        if "id" in frame:
                            self.frame_ids.append(frame["id"])
                        self.record(frame["data"])
                        frame = {}
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.finished.set()

    def stop(self) -> None:
        self.stop_requested.set()
        self.finished.wait(10)
