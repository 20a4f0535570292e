from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("webhooks/processor", views.processor_webhook, name="processor_webhook"),
    path("webhooks", views.webhook_log_page, name="webhooks"),
    path("payments", views.payment_list_page, name="list"),
    path("payments/new", views.payment_new_page, name="new"),
    path("payments/export.csv", views.payment_export_page, name="export"),
    path("payments/<str:public_id>", views.payment_detail_page, name="detail"),
    path("payments/<str:public_id>/simulate", views.payment_simulate_action, name="simulate"),
    path("payments/<str:public_id>/refunds", views.payment_refund_action, name="refund"),
    path(
        "payments/<str:public_id>/transitions",
        views.payment_transition_action,
        name="transition",
    ),
]
