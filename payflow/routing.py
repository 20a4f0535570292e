"""WebSocket routes of every app, gathered for the ASGI router.

``direct_websockets`` maps an exact path to a plain ASGI app that authenticates by itself;
``websocket_urlpatterns`` are Channels consumers served behind ``AuthMiddlewareStack``.
"""

import inspect

from transactions.routing import direct_websockets as transaction_sockets
from transactions.routing import websocket_urlpatterns as transaction_streams

direct_websockets = {**transaction_sockets}
websocket_urlpatterns = [*transaction_streams]


def route_direct(direct: dict, fallback):
    """Send a WebSocket whose path is in ``direct`` straight to its app, others to ``fallback``."""

    @inspect.markcoroutinefunction  # hands over the app's coroutine: see payflow/asgi.py
    def application(scope, receive, send):
        return direct.get(scope.get("path", ""), fallback)(scope, receive, send)

    return application
