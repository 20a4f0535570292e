from django.urls import path

from chaos import views

app_name = "chaos"

urlpatterns = [
    path("chaos", views.panel, name="panel"),
    path("chaos/settings", views.panel_save, name="save"),
    path("chaos/presets/<slug:name>", views.panel_preset, name="preset"),
    path("chaos/banner", views.banner, name="banner"),
]
