"""Tasks that live as long as the server process, whichever request happened to start them."""

import asyncio
import contextvars
from collections.abc import Coroutine


def process_task(coroutine: Coroutine, *, name: str) -> asyncio.Task:
    """Start ``coroutine`` in an empty context, so it carries nothing of the request that
    started it: no request id or log context in its logs, and no claim on that request's
    worker thread (a task that inherited it would run its database calls there, or fail once
    the request is over)."""
    return asyncio.get_running_loop().create_task(
        coroutine, name=name, context=contextvars.Context()
    )
