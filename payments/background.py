"""Start the payments app's per-process background work with the first request.

daphne has no ASGI lifespan, so, like the stream relay, the janitor's periodic task starts
when the process serves its first connection; that also tells the simulated processor this
server's own address for webhooks to itself.
"""

import inspect
import logging

logger = logging.getLogger(__name__)


def with_payments_background(app):
    started = False

    @inspect.markcoroutinefunction  # hands over the app's coroutine: see payflow/asgi.py
    def application(scope, receive, send):
        nonlocal started
        if not started and scope["type"] in ("http", "websocket"):
            started = True
            from payments import janitor, processor

            processor.note_server(scope.get("server"))
            try:
                janitor.start_periodic()
            except Exception:  # noqa: BLE001 - serving must not depend on the janitor
                logger.exception("the janitor's periodic task did not start")
        return app(scope, receive, send)

    return application
