"""A test URLconf: one operator-only page guarded by the real decorator."""

from django.http import HttpResponse
from django.urls import include, path

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action


@requires(Action.CREATE_PAYMENT)
def operator_page(request):
    return HttpResponse("operator content")


urlpatterns = [
    path("operator-only/", operator_page),
    path("", include("payflow.urls")),
]
