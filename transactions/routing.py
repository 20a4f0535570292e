from transactions.consumers import transaction_stream_socket

# Plain ASGI apps by exact path: the stream authenticates on its own and needs none of Channels'
# per-connection middleware (see transactions/consumers.py).
direct_websockets = {"/ws/transactions/": transaction_stream_socket}

# Channels consumers behind session auth (none in this app).
websocket_urlpatterns = []
