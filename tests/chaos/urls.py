"""The real URLs plus probe views whose calls are counted (sync and async)."""

from django.http import HttpResponse
from django.urls import path

from payflow.accounts.decorators import public
from payflow.urls import urlpatterns as payflow_urlpatterns

CALLS: list[str] = []


def probe(request):
    CALLS.append(f"{request.method} {request.path}")
    return HttpResponse("probe answered")


async def async_probe(request):
    CALLS.append(f"{request.method} {request.path}")
    return HttpResponse("async probe answered")


urlpatterns = [
    # Public: the probes count calls, access is not what these tests are about.
    path("probe/sync", public(probe)),
    path("probe/async", public(async_probe)),
    path("payments-probe", public(probe)),
    *payflow_urlpatterns,
]
