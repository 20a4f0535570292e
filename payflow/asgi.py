"""ASGI entry point: HTTP via Django; WebSocket via Channels with session auth, and origin
checks for cookie sessions (bearer-token clients need no Origin; see payflow/ws_origin.py).
The live stream's WebSocket is a plain ASGI app that authenticates by itself (see
payflow/routing.py and transactions/consumers.py). Served by daphne on the embedded defaults
and by uvicorn in production as recommended; see payflow/servers.py.

The layers PayFlow writes here hand over rather than wait: each is a plain function (marked as
a coroutine function for servers and routers) that does its work and returns the inner
application's coroutine. A stream connection passes through all of them and lasts hours; an
``async def`` layer would keep its frame alive, a few hundred bytes, for all of that time."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payflow.settings")
# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from payflow.lifetime import lifespan  # noqa: E402
from payflow.routing import direct_websockets, route_direct, websocket_urlpatterns  # noqa: E402
from payflow.ws_origin import CookieSessionOriginValidator  # noqa: E402
from payments.background import with_payments_background  # noqa: E402
from transactions.transport import stream_aware  # noqa: E402

# stream_aware: starts the stream relay with the first connection (daphne has no lifespan) and
# lets stream connections see their socket's write buffer (see transactions/transport.py).
# with_payments_background: the janitor's periodic task (one runner at a time across processes).
application = with_payments_background(
    stream_aware(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                "lifespan": lifespan,  # uvicorn and granian: clean shutdown (payflow/lifetime.py)
                "websocket": CookieSessionOriginValidator(
                    route_direct(
                        direct_websockets, AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                    )
                ),
            }
        )
    )
)
