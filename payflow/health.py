"""Liveness, readiness and Prometheus metrics (no login: probes and scrapers call them).

``/readyz`` says which dependency failed; the error text itself (host names, database names)
only with ``Authorization: Bearer <PAYFLOW_READYZ_TOKEN>`` or to an admin. ``/metrics`` asks
for ``PAYFLOW_METRICS_TOKEN`` when one is configured.
"""

import asyncio
import hmac
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from payflow.accounts.roles import Action, can
from payflow.accounts.selectors import bearer_token_from_header

READINESS_TIMEOUT_SECONDS = 2.0


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database_answers() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A probe must not keep a broken connection around for the next request.
        connection.close()
        raise


def _token_matches(request, expected: str) -> bool:
    if not expected:
        return False
    offered = bearer_token_from_header(request.headers.get("Authorization", "")) or ""
    return hmac.compare_digest(offered.encode(), expected.encode())


def _may_see_details(request) -> bool:
    """Error texts name hosts and databases: only the readiness token or an admin sees them."""
    if _token_matches(request, settings.PAYFLOW_READYZ_TOKEN):
        return True
    try:
        return can(request.user, Action.USE_ADMIN)
    except Exception:  # noqa: BLE001 - the session store may be the thing that is down
        return False


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
            "message": "Not ready: " + ", ".join(sorted(failed)) + " did not answer.",
        }
        if await sync_to_async(_may_see_details)(request):
            body["errors"] = failed
        return JsonResponse(body, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ready", "checks": checks})


@never_cache
def metrics_view(request):
    if settings.PAYFLOW_METRICS_TOKEN and not _token_matches(
        request, settings.PAYFLOW_METRICS_TOKEN
    ):
        return JsonResponse(
            {
                "code": "not_authenticated",
                "message": "Send 'Authorization: Bearer <PAYFLOW_METRICS_TOKEN>'.",
                "fields": {},
            },
            status=401,
        )
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
