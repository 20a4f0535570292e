"""The bare baseline for bench/stream.py: asyncio + uvloop + websockets, no Django.

``/ws`` clients get the same wire format as PayFlow (``events`` frames, ``dropped``, a first
``heartbeat``), each with a bounded drop-oldest queue of the same capacity. ``/ingest`` takes
JSON lists of events from the bench producer and broadcasts them. On SIGTERM it prints one JSON
line with its event-loop lag figures.

    python bench/baseline.py --port 8950 --capacity 500
"""

import argparse
import asyncio
import json
import signal
import time
from collections import deque

import uvloop
import websockets

LAG_PROBE_SECONDS = 0.1
MAX_FRAME_EVENTS = 500


class Client:
    def __init__(self, ws, capacity: int):
        self.ws = ws
        self.capacity = capacity
        self.queue: deque = deque()
        self.wake = asyncio.Event()
        self.dropped = None  # [count, first_id, last_id]

    def offer(self, events):
        for event in events:
            if len(self.queue) >= self.capacity:
                old = self.queue.popleft()["id"]
                if self.dropped is None:
                    self.dropped = [0, old, old]
                self.dropped[0] += 1
                self.dropped[2] = old
            self.queue.append(event)
        self.wake.set()

    async def pump(self):
        await self.ws.send(json.dumps({"type": "heartbeat", "last_id": 0}))
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue or self.dropped:
                if self.dropped:
                    count, first, last = self.dropped
                    self.dropped = None
                    report = {"count": count, "first_id": first, "last_id": last}
                    await self.ws.send(json.dumps({"type": "dropped", **report}))
                    continue
                size = min(len(self.queue), MAX_FRAME_EVENTS)
                batch = [self.queue.popleft() for _ in range(size)]
                # websockets' send waits for the socket to drain: the same backpressure as ours.
                await self.ws.send(json.dumps({"type": "events", "events": batch}))


class Baseline:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.clients: set[Client] = set()
        self.lags: list[float] = []

    async def handler(self, ws):
        path = ws.request.path
        if path.startswith("/ingest"):
            async for raw in ws:
                events = json.loads(raw)
                for client in list(self.clients):
                    client.offer(events)
            return
        client = Client(ws, self.capacity)
        self.clients.add(client)
        pump = asyncio.create_task(client.pump())
        try:
            await ws.wait_closed()
        finally:
            pump.cancel()
            self.clients.discard(client)

    async def probe_lag(self):
        while True:
            started = time.monotonic()
            await asyncio.sleep(LAG_PROBE_SECONDS)
            self.lags.append(max(0.0, time.monotonic() - started - LAG_PROBE_SECONDS))

    async def serve(self, port: int):
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        probe = asyncio.create_task(self.probe_lag())
        async with websockets.serve(
            self.handler, "127.0.0.1", port, compression=None, max_size=None, max_queue=64
        ):
            print(json.dumps({"ready": True}), flush=True)  # noqa: T201
            await stop
        probe.cancel()
        lags = sorted(self.lags) or [0.0]
        summary = {
            "lag_mean_ms": 1000 * sum(lags) / len(lags),
            "lag_p99_ms": 1000 * lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        }
        print(json.dumps(summary), flush=True)  # noqa: T201


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8950)
    parser.add_argument("--capacity", type=int, default=500)
    args = parser.parse_args()
    uvloop.run(Baseline(args.capacity).serve(args.port))


if __name__ == "__main__":
    main()
