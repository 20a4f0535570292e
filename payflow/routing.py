"""WebSocket routes of every app, gathered for the ASGI router."""

from transactions.routing import websocket_urlpatterns as transaction_streams

websocket_urlpatterns = [*transaction_streams]
