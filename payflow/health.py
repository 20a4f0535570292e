"""Liveness, readiness and Prometheus metrics (no login: probes and scrapers call them)."""

import asyncio
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

READINESS_TIMEOUT_SECONDS = 2.0


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_answers() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # A probe must not keep a broken connection around for the next request.
        connection.close_if_unusable_or_obsolete()


async def _channel_layer_answers() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": "readyz.ping", "sent": time.time()})
    await layer.receive(channel)


async def _check(name: str, check) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(check(), timeout=READINESS_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; report which
        return name, f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    return name, None


@never_cache
async def readyz(request):
    results = await asyncio.gather(
        _check("database", sync_to_async(_database_answers, thread_sensitive=True)),
        _check("channel_layer", _channel_layer_answers),
    )
    checks = {name: ("ok" if error is None else "failed") for name, error in results}
    failed = {name: error for name, error in results if error is not None}
    if failed:
        body = {
            "status": "unavailable",
            "failed": sorted(failed),
            "checks": checks,
            "errors": failed,
            "message": "Not ready: " + ", ".join(sorted(failed)) + " did not answer.",
        }
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ready", "checks": checks})


@never_cache
def metrics_view(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
