"""The real URLs plus probe views whose calls are counted (sync and async)."""

from django.http import HttpResponse
from django.urls import path

from payflow.urls import urlpatterns as payflow_urlpatterns

CALLS: list[str] = []


def probe(request):
    CALLS.append(f"{request.method} {request.path}")
    return HttpResponse("probe answered")


async def async_probe(request):
    CALLS.append(f"{request.method} {request.path}")
    return HttpResponse("async probe answered")


urlpatterns = [
    path("probe/sync", probe),
    path("probe/async", async_probe),
    path("payments-probe", probe),
    *payflow_urlpatterns,
]
