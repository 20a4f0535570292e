"""The bare ASGI baseline for bench/stream.py: the baseline's fan-out as a plain ASGI app, no
Django, so one server (daphne, uvicorn) can be measured with and without PayFlow on it.

Same wire format, queue capacity (``BASELINE_CAPACITY``, default 500) and drop-oldest queue as
bench/baseline.py, whose ``Client`` it reuses; ``/ingest`` takes the producer's JSON event
lists, ``/ws`` is a client. Served like PayFlow (payflow/servers.py) with this module's
``application``:

    python -m daphne -p 8951 bench.baseline_asgi:application
"""

import asyncio
import json
import os

from bench.baseline import Client

CAPACITY = int(os.environ.get("BASELINE_CAPACITY", "500"))
clients: set[Client] = set()


class AsgiSocket:
    """What ``Client`` sends through: the ASGI ``send`` of one WebSocket."""

    __slots__ = ("_send",)

    def __init__(self, send):
        self._send = send

    async def send(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    if scope["path"].startswith("/ingest"):
        while (message := await receive())["type"] == "websocket.receive":
            events = json.loads(message.get("text") or message["bytes"])
            for client in list(clients):
                client.offer(events)
        return
    client = Client(AsgiSocket(send), CAPACITY)
    clients.add(client)
    pump = asyncio.create_task(client.pump())
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        pump.cancel()
        clients.discard(client)
