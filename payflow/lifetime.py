"""Tasks that live as long as the server process, whichever request happened to start them, and
what such work does when the process stops cleanly."""

import asyncio
import atexit
import contextvars
import logging
from collections.abc import Callable, Coroutine

logger = logging.getLogger(__name__)
_shutdown_hooks: list[Callable[[], None]] = []


def process_task(coroutine: Coroutine, *, name: str) -> asyncio.Task:
    """Start ``coroutine`` in an empty context, so it carries nothing of the request that
    started it: no request id or log context in its logs, and no claim on that request's
    worker thread (a task that inherited it would run its database calls there, or fail once
    the request is over)."""
    return asyncio.get_running_loop().create_task(
        coroutine, name=name, context=contextvars.Context()
    )


def at_shutdown(hook: Callable[[], None]) -> None:
    """Run ``hook`` once when the process stops cleanly (SIGTERM, SIGINT).

    Servers stop in two ways. uvicorn and granian send the ASGI lifespan's shutdown once open
    connections have closed (or their grace period is over), then exit without running exit
    hooks (uvicorn re-raises the signal); ``lifespan`` below runs the hooks then, on the running
    loop. daphne has no lifespan: it stops its loop and returns, and the hooks run at
    interpreter exit, with the loop stopped. A hook is synchronous and short, and must work in
    both places."""
    if hook not in _shutdown_hooks:
        _shutdown_hooks.append(hook)


def run_shutdown_hooks() -> None:
    while _shutdown_hooks:
        hook = _shutdown_hooks.pop()
        try:
            hook()
        except Exception:  # a failing hook must not keep the others from running
            logger.exception("shutdown hook %r failed", hook)


atexit.register(run_shutdown_hooks)


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol: nothing to do at startup (per-process work starts with the
    first connection, as under daphne); the shutdown hooks at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            run_shutdown_hooks()
            await send({"type": "lifespan.shutdown.complete"})
            return
