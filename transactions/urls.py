from django.urls import path

from transactions import views

app_name = "transactions"

urlpatterns = [
    path("transactions", views.transactions_page, name="page"),
    path("transactions/chart", views.volume_chart, name="chart"),
    path("transactions/related", views.related_transactions, name="related"),
    path("transactions/events/<int:event_id>", views.transaction_for_event, name="event"),
    path("transactions/<str:public_id>", views.transaction_detail_page, name="detail"),
    path("stream/transactions/", views.transaction_stream, name="stream"),
]
