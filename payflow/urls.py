from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from payflow import health, views
from payflow.accounts import views as account_views
from payflow.accounts.decorators import public
from payflow.accounts.throttle import throttled_login
from payflow.api import api

urlpatterns = [
    path("", views.home, name="home"),
    # Open to everyone: the way in and out, and what probes and scrapers call.
    path(
        "login/",
        public(throttled_login(auth_views.LoginView.as_view(redirect_authenticated_user=True))),
        name="login",
    ),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("healthz", public(health.healthz), name="healthz"),
    path("readyz", public(health.readyz), name="readyz"),
    path("metrics", public(health.metrics_view), name="metrics"),
    path("account/preferences", account_views.preferences_page, name="preferences"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("payments.urls")),
    path("", include("payouts.urls")),
    path("", include("transactions.urls")),
    path("", include("chaos.urls")),
    path("", include("search.urls")),
    path("", include("reconciliation.urls")),
]


handler400 = "payflow.errors.bad_request"
handler403 = "payflow.errors.permission_denied"
handler404 = "payflow.errors.page_not_found"
handler500 = "payflow.errors.server_error"
