"""HTTP failure injection: latency, 500/503 errors and timeouts, per path prefix and request kind.

Never touches health probes, metrics, the login and logout pages, static files, the Django
admin (the way back when everything else is on fire) or the chaos controls themselves. Live
streams (/stream/, /ws/) are left to the stream's own chaos (disconnects, bursts, slow sends).
Injected answers carry ``X-Chaos-Injected: <kind>`` and are counted in /metrics.
"""

import asyncio
import random
import time
from dataclasses import dataclass

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from chaos.config import ChaosSettings, aget_chaos_settings, get_chaos_settings
from payflow import metrics
from payflow.observability import SyncAndAsyncMiddleware

INJECTED_HEADER = "X-Chaos-Injected"
EXEMPT_PREFIXES = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/login/",
    "/logout/",
    "/static/",
    "/favicon.ico",
    "/admin/",
    "/chaos",
    "/api/v1/chaos",
)
STREAM_PREFIXES = ("/stream/", "/ws/")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DEFAULT_TIMEOUT_SECONDS = 12  # longer than the browser's 8 s request timeout

_rng = random.Random()


def _is_under(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def request_kind(request) -> str | None:
    """ "page", "partial" (an htmx request), "api", or None for what chaos never touches."""
    path = request.path
    if any(_is_under(path, prefix) for prefix in EXEMPT_PREFIXES + STREAM_PREFIXES):
        return None
    if path.startswith("/api/"):
        return "api"
    if request.headers.get("HX-Request") == "true":
        return "partial"
    return "page"


@dataclass(frozen=True)
class Injection:
    delay_seconds: float
    failure: str | None = None  # "error" or "timeout"
    status: int | None = None


def plan_injection(
    chaos: ChaosSettings, path: str, kind: str, rng: random.Random = _rng
) -> Injection | None:
    """What to do to this request: the most specific matching rule (longest prefix) decides."""
    faults = [fault for fault in chaos.http_faults if fault.active and fault.matches(path, kind)]
    if not faults:
        return None
    fault = max(faults, key=lambda candidate: len(candidate.path_prefix))
    delay = (fault.latency_ms + rng.uniform(0, fault.jitter_ms)) / 1000
    roll = rng.random()
    if roll < fault.error_rate:
        return Injection(delay, "error", rng.choice((500, 503)))
    if roll < fault.error_rate + fault.timeout_rate:
        return Injection(delay, "timeout", 504)
    return Injection(delay) if delay else None


def timeout_seconds() -> float:
    return float(settings.CHAOS_TIMEOUT_SECONDS)


def _message(injection: Injection) -> str:
    if injection.failure == "timeout":
        return (
            f"Injected by chaos: no answer for {timeout_seconds():g} s, a rehearsed timeout. "
            "If this was an action, it may or may not have been applied; check before retrying."
        )
    return (
        f"Injected by chaos: a rehearsed {injection.status} error. Nothing was changed; "
        "retrying is safe."
    )


def injected_response(request, kind: str, injection: Injection) -> HttpResponse:
    message = _message(injection)
    if kind == "api":
        body = {"code": f"chaos_{injection.failure}", "message": message, "fields": {}}
        response = JsonResponse(body, status=injection.status)
    elif kind == "partial":
        response = HttpResponse(f'<p class="chaos-injected">{message}</p>', status=injection.status)
    else:
        context = {
            "status": injection.status,
            "message": message,
            "retry_url": request.get_full_path(),
        }
        response = HttpResponse(
            render_to_string("chaos/injected.html", context), status=injection.status
        )
    response[INJECTED_HEADER] = injection.failure
    response["Cache-Control"] = "no-store"
    if injection.status == 503:
        response["Retry-After"] = "2"
    metrics.CHAOS_INJECTIONS.labels(injection.failure).inc()
    return response


def _mark_delayed(response, injection: Injection):
    if injection.delay_seconds and not response.has_header(INJECTED_HEADER):
        response[INJECTED_HEADER] = "latency"
    return response


def _count_delay(injection: Injection) -> None:
    if injection.delay_seconds:
        metrics.CHAOS_INJECTIONS.labels("latency").inc()


class ChaosMiddleware(SyncAndAsyncMiddleware):
    """Sits right after the request metrics, so injected answers are measured like real ones.

    A timeout on a read hangs before the view runs; on a write it runs the view and then loses
    the answer, as a dropped connection would: the case idempotency keys exist for.
    """

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        kind = request_kind(request)
        injection = kind and plan_injection(get_chaos_settings(), request.path, kind)
        if not injection:
            return self.get_response(request)
        _count_delay(injection)
        time.sleep(injection.delay_seconds)  # sync path only (WSGI, test client)
        if injection.failure == "error":
            return injected_response(request, kind, injection)
        if injection.failure == "timeout":
            if request.method not in SAFE_METHODS:
                self.get_response(request)
            time.sleep(timeout_seconds())
            return injected_response(request, kind, injection)
        return _mark_delayed(self.get_response(request), injection)

    async def __acall__(self, request):
        kind = request_kind(request)
        injection = kind and plan_injection(await aget_chaos_settings(), request.path, kind)
        if not injection:
            return await self.get_response(request)
        _count_delay(injection)
        await asyncio.sleep(injection.delay_seconds)
        if injection.failure == "error":
            return injected_response(request, kind, injection)
        if injection.failure == "timeout":
            if request.method not in SAFE_METHODS:
                await self.get_response(request)
            await asyncio.sleep(timeout_seconds())
            return injected_response(request, kind, injection)
        return _mark_delayed(await self.get_response(request), injection)
