from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("reconciliation", views.statements_page, name="statements"),
    path("reconciliation/statements", views.statement_upload, name="upload"),
    path("reconciliation/statements/<str:statement_id>", views.statement_page, name="statement"),
    path("reconciliation/lines/<str:line_id>", views.statement_line_redirect, name="line"),
    path("reconciliation/exceptions", views.exceptions_page, name="exceptions"),
    path("reconciliation/exceptions/<str:exception_id>", views.exception_page, name="exception"),
    path(
        "reconciliation/exceptions/<str:exception_id>/assign",
        views.exception_assign,
        name="assign",
    ),
    path(
        "reconciliation/exceptions/<str:exception_id>/resolve",
        views.exception_resolve,
        name="resolve",
    ),
    path(
        "reconciliation/exceptions/<str:exception_id>/approve",
        views.exception_approve,
        name="approve",
    ),
]
