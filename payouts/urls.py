from django.urls import path

from payouts import views

app_name = "payouts"

urlpatterns = [
    path("payouts", views.payout_list, name="list"),
    path("payouts/calendar", views.payout_calendar, name="calendar"),
    path("payouts/items/<str:item_id>", views.payout_item_redirect, name="item"),
    path("payouts/new", views.payout_new, name="new"),
    path("payouts/items/<str:item_id>/pay-again", views.payout_item_pay_again, name="pay_again"),
    path("payouts/<str:batch_id>", views.payout_detail, name="detail"),
    path("payouts/<str:batch_id>/reconcile", views.payout_reconcile, name="reconcile"),
]
