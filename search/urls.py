from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("search", views.search_page, name="page"),
    path("views", views.saved_view_create, name="view_create"),
    path("views/<int:view_id>", views.saved_view_open, name="view_open"),
    path("views/<int:view_id>/delete", views.saved_view_delete, name="view_delete"),
]
