"""ASGI glue for the stream: starts the relay with the server, and gives stream connections a
way to see their socket's write buffer.

Daphne's ``send`` never waits: whatever an app sends piles up in Twisted's write buffer, so a
client that stops reading would make the server's memory grow without bound. For the SSE path
this wrapper puts a ``TransportWatch`` in the scope (the WebSocket app makes its own from
``send``); the stream's sender waits until the socket
drains below ``STREAM_WRITE_BUFFER_BYTES`` before sending more, so unread events stay in the
bounded per-connection queue (where they are dropped and counted) instead.

uvicorn's ``send`` waits while its asyncio transport is paused, which would bound memory but
leave a client that stops reading stuck forever, never told why. There the watch reads the
asyncio transport's buffer the same way, and moves the transport's own pause above the watch's
mark, so the stream decides when a client is too slow and its ``closing`` message still fits.
Under both, the socket's kernel send buffer is made small (``STREAM_SOCKET_SNDBUF_BYTES``).
Other servers (granian) get a no-op watch and their own backpressure.

It also gives every SSE request one shared worker thread for its synchronous work. Django runs
each request's sync middleware and database calls in a thread of that request's own, which
lives until the response ends: for a stream that is hours, and a thread (its stack, its C
allocator cache, its database connection) costs far more than the stream's own state.
"""

import asyncio
import contextlib
import functools
import inspect
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

logger = logging.getLogger(__name__)

SSE_PATHS = ("/stream/transactions/",)
SCOPE_KEY = "payflow.transport_watch"
POLL_SECONDS = 0.01
MAX_FRAME_BYTES = 2**20  # the largest WebSocket message either server accepts
CLOSE_HANDSHAKE_SECONDS = 10.0  # uvicorn's (websockets') close timeout


def _twisted_tcp_transport(protocol):
    """The Twisted TCP transport under a daphne protocol (HTTP request or WebSocket), if any."""
    candidate = protocol
    for _ in range(4):
        candidate = getattr(candidate, "transport", None)
        if candidate is None:
            return None
        if hasattr(candidate, "_tempDataLen") and hasattr(candidate, "dataBuffer"):
            return candidate
    return None


def _daphne_protocol(send):
    """The daphne protocol behind a daphne ``send`` (``partial(handle_reply, protocol)``)."""
    return send.args[0] if isinstance(send, functools.partial) and send.args else None


def give_the_close_time(send) -> None:
    """Under daphne, let a close the server starts wait ``CLOSE_HANDSHAKE_SECONDS`` for the
    client's reply, as uvicorn does. autobahn's own wait is 1 s, after which it aborts the TCP
    connection and discards what is still buffered: for a client closed for reading too
    slowly, that is the ``closing`` message telling it why, which it reads late by definition.
    """
    protocol = _daphne_protocol(send)
    if hasattr(protocol, "closeHandshakeTimeout"):
        protocol.closeHandshakeTimeout = CLOSE_HANDSHAKE_SECONDS


def _asyncio_transport(send):
    """The asyncio transport behind a uvicorn ``send`` (a method of its protocol), if any."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    # Duck-typed: uvloop's transports are not asyncio.WriteTransport subclasses.
    if hasattr(transport, "get_write_buffer_size") and hasattr(transport, "is_closing"):
        return transport
    return None


def _small_send_buffer(sock) -> None:
    # A small kernel buffer makes "the client is not reading" visible to us quickly and bounds
    # kernel memory per stream too.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, int(settings.STREAM_SOCKET_SNDBUF_BYTES)
        )


class TransportWatch:
    __slots__ = ("tcp", "stream", "high_water")

    def __init__(self, tcp=None, stream=None):
        self.tcp = tcp  # daphne: the Twisted TCP transport
        self.stream = stream  # uvicorn: the asyncio transport
        self.high_water = int(settings.STREAM_WRITE_BUFFER_BYTES)

    @classmethod
    def from_send(cls, send) -> "TransportWatch":
        if (protocol := _daphne_protocol(send)) is not None:
            tcp = _twisted_tcp_transport(protocol)
            if tcp is not None:
                with contextlib.suppress(AttributeError):
                    _small_send_buffer(tcp.getHandle())
                return cls(tcp=tcp)
        stream = _asyncio_transport(send)
        if stream is None:
            return cls()
        _small_send_buffer(stream.get_extra_info("socket"))
        watch = cls(stream=stream)
        # Above the watch's mark by the largest frame (1 MiB): the sender stops below it, so
        # the server's own send only ever waits for a client that is already being closed.
        with contextlib.suppress(NotImplementedError, ValueError):
            stream.set_write_buffer_limits(high=watch.high_water + MAX_FRAME_BYTES)
        return watch

    def buffered_bytes(self) -> int:
        if self.tcp is not None:
            return len(self.tcp.dataBuffer) - self.tcp.offset + self.tcp._tempDataLen
        if self.stream is not None:
            return self.stream.get_write_buffer_size()
        return 0

    def _gone(self) -> bool:
        if self.tcp is not None:
            return getattr(self.tcp, "disconnected", False) or not getattr(self.tcp, "connected", 1)
        return self.stream is not None and self.stream.is_closing()

    async def wait_writable(self, within: float) -> bool:
        """True once the socket's write buffer is below the high-water mark; False on timeout."""
        if self.tcp is None and self.stream is None:
            return True
        deadline = time.monotonic() + within
        while self.buffered_bytes() > self.high_water:
            if self._gone():
                return True  # the send fails or is ignored; the disconnect is handled elsewhere
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True


@functools.cache
def stream_request_executor() -> ThreadPoolExecutor:
    """The one thread that runs the sync work of every SSE request, one call at a time.

    One thread, as Django's own default for sync work outside a request: a request's sync calls
    keep their order and their thread-local database connection, and streams that set up at
    once take turns for the few milliseconds each needs.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-requests")


def transport_watch(scope) -> TransportWatch:
    return scope.get(SCOPE_KEY) or TransportWatch()


def stream_aware(app):
    """Wrap the ASGI application: start the relay on the first connection, watch stream sockets."""
    started = False

    @inspect.markcoroutinefunction  # hands over the app's coroutine: see payflow/asgi.py
    def application(scope, receive, send):
        nonlocal started
        if not started and scope["type"] in ("http", "websocket"):
            started = True
            from transactions.relay import ensure_relay_started

            try:
                ensure_relay_started()
            except Exception:
                logger.exception("stream relay did not start; it starts with the next stream")
        # The stream's WebSocket app gets daphne's own ``send`` and makes its watch itself;
        # Django's SSE view only sees the scope, so it gets the watch there.
        if scope["type"] == "http" and scope.get("path", "").startswith(SSE_PATHS):
            scope = {**scope, SCOPE_KEY: TransportWatch.from_send(send)}
            return on_stream_thread(app(scope, receive, send))
        return app(scope, receive, send)

    return application


async def on_stream_thread(request):
    # The outermost context decides the thread: Django's own per-request one then leaves the
    # choice to this one.
    async with ThreadSensitiveContext(executor=stream_request_executor()):
        return await request
