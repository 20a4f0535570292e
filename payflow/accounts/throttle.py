"""Login throttling, per account and per client address, in Django's cache.

After ``LOGIN_FAILURE_LIMIT`` failed logins within ``LOGIN_FAILURE_WINDOW_SECONDS`` of the first
one, further attempts for that account, or from that address, answer 429 with ``Retry-After``
until the window ends (even with the right password). Each failure is logged and counted
(``payflow_login_attempts_total``). The counters live in the shared cache (Redis in
production), so every server process sees the same ones; ``cache.incr`` is atomic there.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.shortcuts import render

from payflow import metrics
from payflow.proxies import client_address

logger = logging.getLogger("payflow.login")


@dataclass(frozen=True)
class Lockout:
    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes == 1 else "minutes"
        return f"Too many failed attempts; try again in {self.minutes} {unit}."


def _keys(username: str, address: str) -> list[str]:
    return [f"login-failures:account:{username.strip().lower()}", f"login-failures:addr:{address}"]


def _window_left(key: str, now: float) -> float | None:
    """Seconds left in the key's window, or None when it has none (or it ended)."""
    started = cache.get(f"{key}:start")
    if started is None:
        return None
    left = started + settings.LOGIN_FAILURE_WINDOW_SECONDS - now
    if left <= 0:
        cache.delete_many([key, f"{key}:start"])
        return None
    return left


def lockout_for(username: str, address: str) -> Lockout | None:
    now = time.time()
    longest = 0.0
    for key in _keys(username, address):
        left = _window_left(key, now)
        if left is not None and (cache.get(key) or 0) >= settings.LOGIN_FAILURE_LIMIT:
            longest = max(longest, left)
    return Lockout(math.ceil(longest)) if longest else None


def record_failure(username: str, address: str) -> None:
    now = time.time()
    ttl = settings.LOGIN_FAILURE_WINDOW_SECONDS + 60
    for key in _keys(username, address):
        if _window_left(key, now) is None:
            cache.set(f"{key}:start", now, ttl)
            cache.set(key, 0, ttl)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, ttl)
    metrics.LOGIN_ATTEMPTS.labels("failed").inc()
    logger.warning("login failed", extra={"username": username[:150], "client": address})


def record_success(username: str) -> None:
    key = _keys(username, "-")[0]
    cache.delete_many([key, f"{key}:start"])


def throttled_login(view):
    """Wrap a login view (the site's and the admin's): refuse while locked out, count failures.

    A POST answered 200 re-rendered the form, so the credentials were refused; a redirect is a
    successful login.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")[:150]
        address = client_address(request)
        lockout = lockout_for(username, address)
        if lockout is not None:
            metrics.LOGIN_ATTEMPTS.labels("locked").inc()
            logger.warning(
                "login refused: locked out",
                extra={"username": username, "client": address, "retry_after": lockout.retry_after},
            )
            context = {"form": AuthenticationForm(request), "lockout": lockout}
            response = render(request, "registration/login.html", context, status=429)
            response["Retry-After"] = str(lockout.retry_after)
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and username:
            record_failure(username, address)
        elif response.status_code in (301, 302, 303):
            metrics.LOGIN_ATTEMPTS.labels("succeeded").inc()
            record_success(username)
        return response

    return wrapped
