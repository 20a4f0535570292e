"""WebSocket endpoint of the live stream: ``/ws/transactions/`` (SPEC section 5).

The consumer only authenticates, parses the request and pumps ``StreamSession.messages()`` into
the socket; the session holds the logic shared with SSE. Close codes: 4400 invalid parameter,
4401 not authenticated, 4403 wrong role, 4429 too slow (queue full too long), 4503 chaos cut.
"""

import asyncio
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from transactions.access import stream_access
from transactions.session import StreamClosed, StreamSession, slow_client_message
from transactions.stream import StreamInputError, parse_stream_request
from transactions.transport import transport_watch

CLOSE_CODES = {401: 4401, 403: 4403}


class TransactionStreamConsumer(AsyncWebsocketConsumer):
    # No per-connection channel: one hub per process subscribes to the relay's group.
    channel_layer_alias = "payflow-stream-no-layer"
    session: StreamSession | None = None
    pump: asyncio.Task | None = None

    async def connect(self):
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        headers = dict(self.scope.get("headers", []))
        authorization = headers.get(b"authorization")
        access = await database_sync_to_async(stream_access)(
            session_user=self.scope.get("user"),
            authorization=authorization.decode("latin-1") if authorization else None,
            token=(query.get("token") or [None])[0],
        )
        if not access.allowed:
            return await self.refuse(access.as_message(), CLOSE_CODES[access.status])
        try:
            request = parse_stream_request(query)
        except StreamInputError as exc:
            return await self.refuse(exc.as_message(), 4400)
        self.session = StreamSession(request=request, transport="websocket")
        self.pump = asyncio.create_task(self.pump_messages())

    async def refuse(self, message: dict, code: int) -> None:
        await self.send(text_data=json.dumps(message))
        await self.close(code=code)

    async def pump_messages(self):
        slow_after = float(settings.STREAM_SLOW_CLIENT_SECONDS)
        watch = transport_watch(self.scope)
        try:
            await self.session.open()
            async for message in self.session.messages():
                if not await watch.wait_writable(slow_after):
                    raise StreamClosed(slow_client_message(slow_after))
                await self.send(text_data=json.dumps(message))
        except StreamClosed as closed:
            if closed.message:
                await self.send(text_data=json.dumps(closed.message))
            await self.close(code=4429 if closed.message else 4503)
        finally:
            self.session.close()

    async def receive(self, text_data=None, bytes_data=None):
        # The stream is one-way; say so rather than ignore what a client sent.
        text = "This stream takes no client messages; set filters and since in the URL."
        error = {"type": "error", "code": "unsupported_message", "message": text, "fields": {}}
        await self.send(text_data=json.dumps(error))

    async def disconnect(self, code):
        if self.pump is not None:
            self.pump.cancel()
        if self.session is not None:
            self.session.close()
