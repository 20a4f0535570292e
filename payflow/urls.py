import importlib

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from payflow import health, views
from payflow.api import api

PAGE_APPS = ["payments", "payouts", "transactions", "chaos", "reconciliation"]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

for app in PAGE_APPS:
    try:
        importlib.import_module(f"{app}.urls")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.urls":
            raise
        continue
    urlpatterns.append(path("", include(f"{app}.urls")))

handler403 = "payflow.errors.permission_denied"
handler404 = "payflow.errors.page_not_found"
handler500 = "payflow.errors.server_error"
