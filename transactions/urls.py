from django.urls import path

from transactions import views

app_name = "transactions"

urlpatterns = [
    path("transactions", views.transactions_page, name="page"),
    path("stream/transactions/", views.transaction_stream, name="stream"),
]
