"""A clean stop runs the process's shutdown hooks once, through the application's ASGI lifespan
(uvicorn, granian) or at interpreter exit (daphne). Driven with real lifespan messages."""

import asyncio

from asgiref.testing import ApplicationCommunicator

from payflow import lifetime
from payflow.asgi import application


def test_the_lifespan_answers_startup_and_runs_every_hook_once_at_shutdown():
    ran = []

    def failing():
        ran.append("failing")
        raise RuntimeError("the database is gone")

    lifetime.at_shutdown(lambda: ran.append("first"))
    lifetime.at_shutdown(failing)

    async def lifespan():
        server = ApplicationCommunicator(application, {"type": "lifespan"})
        await server.send_input({"type": "lifespan.startup"})
        started = await server.receive_output(timeout=5)
        assert ran == [], "nothing runs at startup"
        await server.send_input({"type": "lifespan.shutdown"})
        stopped = await server.receive_output(timeout=5)
        await server.wait(timeout=5)
        return started, stopped

    started, stopped = asyncio.run(lifespan())

    assert started == {"type": "lifespan.startup.complete"}
    assert stopped == {"type": "lifespan.shutdown.complete"}
    assert sorted(ran) == ["failing", "first"], "a failing hook does not stop the others"
    lifetime.run_shutdown_hooks()  # as at interpreter exit afterwards
    assert len(ran) == 2, "each hook runs once"
