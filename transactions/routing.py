from django.urls import path

from transactions.consumers import TransactionStreamConsumer

websocket_urlpatterns = [
    path("ws/transactions/", TransactionStreamConsumer.as_asgi()),
]
