"""WebSocket endpoint of the live stream: ``/ws/transactions/``.

The consumer only authenticates, parses the request and pumps ``StreamSession.messages()`` into
the socket; the session holds the logic shared with SSE. Close codes: 4400 invalid parameter,
4401 not authenticated, 4403 wrong role, 4429 too slow (queue full too long), 4503 try again
later (the database or channel layer is unavailable, or a chaos cut), 4500 a server fault (the
server may only send 1000 or 3000-4999, so not 1011/1013). Every
close the server decides is preceded by a JSON message saying why (``error`` or ``closing``,
the latter with the ``last_id`` to resume from).
"""

import asyncio
import contextlib
import json
import logging
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from payflow.exceptions import DomainError
from transactions.access import stream_access
from transactions.session import (
    OUTAGE_ERRORS,
    StreamClosed,
    StreamSession,
    closing_for_error,
    server_error_message,
    slow_client_message,
    stream_unavailable,
)
from transactions.stream import StreamInputError, parse_stream_request
from transactions.transport import transport_watch

logger = logging.getLogger(__name__)

CLOSE_CODES = {401: 4401, 403: 4403}
TRY_AGAIN_LATER = 4503
SERVER_ERROR = 4500


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
        try:
            request = parse_stream_request(query)
        except StreamInputError as exc:
            request, bad_input = None, exc
        else:
            bad_input = None
        try:
            access = await database_sync_to_async(stream_access)(
                session_user=self.scope.get("user"),
                authorization=authorization.decode("latin-1") if authorization else None,
                token=(query.get("token") or [None])[0],
            )
        except OUTAGE_ERRORS as exc:
            logger.warning("stream: cannot check access (%s: %s)", type(exc).__name__, exc)
            since = request.since if request is not None else None
            closing = closing_for_error(stream_unavailable(), last_id=since)
            return await self.refuse(closing, TRY_AGAIN_LATER)
        if not access.allowed:
            return await self.refuse(access.as_message(), CLOSE_CODES[access.status])
        if bad_input is not None:
            return await self.refuse(bad_input.as_message(), 4400)
        self.session = StreamSession(request=request, transport="websocket")
        self.pump = asyncio.create_task(self.pump_messages())

    async def refuse(self, message: dict, code: int) -> None:
        await self.send(text_data=json.dumps(message))
        await self.close(code=code)

    async def pump_messages(self):
        """Supervises the connection: it ends only with a message saying why, never silently."""
        slow_after = float(settings.STREAM_SLOW_CLIENT_SECONDS)
        watch = transport_watch(self.scope)
        session = self.session
        try:
            try:
                await session.open()
            except DomainError as exc:
                raise StreamClosed(
                    closing_for_error(exc, last_id=session.since), code=TRY_AGAIN_LATER
                ) from exc
            async for message in session.messages():
                if not await watch.wait_writable(slow_after):
                    closing = slow_client_message(slow_after, last_id=session.resume_id)
                    raise StreamClosed(closing, code=4429)
                await self.send(text_data=session.text(message))
        except StreamClosed as closed:
            if closed.message:
                await self.send(text_data=json.dumps(closed.message))
            await self.close(code=closed.code)
        except asyncio.CancelledError:
            raise
        except Disconnected:
            pass  # the client went away while we were sending: nothing to tell it
        except Exception:
            logger.exception("stream: websocket connection failed")
            closing = server_error_message(last_id=session.resume_id)
            with contextlib.suppress(Exception):
                await self.send(text_data=json.dumps(closing))
                await self.close(code=SERVER_ERROR)
        finally:
            session.close()

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
