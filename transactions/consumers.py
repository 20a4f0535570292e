"""WebSocket endpoint of the live stream: ``/ws/transactions/``.

A plain ASGI application, not a Channels consumer: a stream connection is held open for hours by
thousands of clients, so it keeps only what it needs: the scope the server gave it, its
``StreamSession`` and one pump task that sends ``StreamSession.messages()``. It authenticates
once at connect (a bearer token, or the Django session cookie read in a worker thread) instead
of keeping Channels' lazy session and user in a copy of the scope for the connection's life.

Close codes: 4400 invalid parameter, 4401 not authenticated, 4403 wrong role, 4429 too slow
(queue full too long), 4503 try again later (the database or channel layer is unavailable, or a
chaos cut), 4500 a server fault (the server may only send 1000 or 3000-4999, so not
1011/1013). Every close the server decides is preceded by a JSON message saying why (``error``
or ``closing``, the latter with the ``last_id`` to resume from).
"""

import asyncio
import contextlib
import json
import logging
from importlib import import_module
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.auth import get_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie

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
from transactions.transport import TransportWatch, give_the_close_time

logger = logging.getLogger(__name__)

CLOSE_CODES = {401: 4401, 403: 4403}
TRY_AGAIN_LATER = 4503
SERVER_ERROR = 4500
try:  # uvicorn's "the client is gone" (an OSError subclass); absent when uvicorn is not installed
    from uvicorn.protocols.utils import ClientDisconnected
except ImportError:  # pragma: no cover
    ClientDisconnected = Disconnected

# The client went away while we were sending: daphne raises Disconnected, uvicorn its own.
GONE = (Disconnected, ClientDisconnected)
UNSUPPORTED_MESSAGE = json.dumps(
    {
        "type": "error",
        "code": "unsupported_message",
        "message": "This stream takes no client messages; set filters and since in the URL.",
        "fields": {},
    }
)


async def session_user(headers: dict[bytes, bytes]):
    """The user of the Django session cookie (AnonymousUser if none), read once."""
    cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    key = cookies.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return await get_user({"session": store})


class TransactionStreamSocket:
    """One ``/ws/transactions/`` connection. ``transaction_stream_socket`` is the ASGI app."""

    __slots__ = ("scope", "_send", "session", "pump")

    def __init__(self, scope, send):
        self.scope = scope
        self._send = send
        self.session: StreamSession | None = None
        self.pump: asyncio.Task | None = None

    async def send(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int) -> None:
        give_the_close_time(self._send)  # so the message before the close is not discarded
        await self._send({"type": "websocket.close", "code": code})

    async def connect(self) -> None:
        await self._send({"type": "websocket.accept"})
        scope = self.scope
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        authorization = headers.get(b"authorization")
        token = (query.get("token") or [None])[0]
        try:
            request = parse_stream_request(query)
        except StreamInputError as exc:
            request, bad_input = None, exc
        else:
            bad_input = None
        try:
            user = None
            if authorization is None and not token:
                user = await session_user(headers)
            access = await database_sync_to_async(stream_access)(
                session_user=user,
                authorization=authorization.decode("latin-1") if authorization else None,
                token=token,
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
        await self.send(json.dumps(message))
        await self.close(code)

    async def pump_messages(self):
        """Supervises the connection: it ends only with a message saying why, never silently."""
        slow_after = float(settings.STREAM_SLOW_CLIENT_SECONDS)
        watch = TransportWatch.from_send(self._send)
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
                await self.send(session.text(message))
        except StreamClosed as closed:
            with contextlib.suppress(*GONE):
                if closed.message:
                    await self.send(json.dumps(closed.message))
                await self.close(closed.code)
        except asyncio.CancelledError:
            raise
        except GONE:
            pass  # the client went away while we were sending: nothing to tell it
        except Exception:
            logger.exception("stream: websocket connection failed")
            closing = server_error_message(last_id=session.resume_id)
            with contextlib.suppress(Exception):
                await self.send(json.dumps(closing))
                await self.close(SERVER_ERROR)
        finally:
            session.close()

    async def receive(self) -> None:
        # The stream is one-way; say so rather than ignore what a client sent.
        with contextlib.suppress(*GONE):
            await self.send(UNSUPPORTED_MESSAGE)

    def disconnect(self) -> None:
        if self.pump is not None:
            self.pump.cancel()
        if self.session is not None:
            self.session.close()


async def transaction_stream_socket(scope, receive, send):
    """ASGI application of ``/ws/transactions/``: connect, then wait for the client to leave."""
    if scope["type"] != "websocket":
        raise ValueError("transaction_stream_socket serves WebSocket connections only")
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    connection = TransactionStreamSocket(scope, send)
    try:
        with contextlib.suppress(*GONE):
            await connection.connect()
        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                await connection.receive()
            elif message["type"] == "websocket.disconnect":
                return
    finally:
        connection.disconnect()
