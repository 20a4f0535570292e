"""Writes for transactions: realistic simulated traffic, through the producers' own outbox call."""

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection, transaction

from payflow.currencies import exponent_of
from transactions.events import record_transaction_event
from transactions.models import StreamEvent, TransactionKind

logger = logging.getLogger(__name__)

# How many units of each simulated currency make roughly one US dollar (so amounts look
# plausible in every currency); exponents come from the one ISO 4217 table.
UNITS_PER_USD: dict[str, float] = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "CHF": 0.88,
    "SEK": 10.6,
    "JPY": 151.0,
    "KRW": 1370.0,
    "KWD": 0.31,
    "BHD": 0.38,
}
CURRENCY_WEIGHTS = {"USD": 40, "EUR": 25, "GBP": 12, "CHF": 3, "SEK": 3, "JPY": 8, "KRW": 3,
                    "KWD": 3, "BHD": 3}  # fmt: skip
MERCHANTS = [
    "Northwind Traders", "Blue Bottle Coffee", "Acme Cloud Hosting", "Globex Travel",
    "Initech Software", "Umbrella Pharmacy", "Stark Hardware", "Wayne Logistics",
    "Tyrell Electronics", "Hooli Ads", "Pied Piper Storage", "Soylent Grocers",
    "Wonka Confectionery", "Cyberdyne Robotics", "Oceanic Airlines", "Aperture Labs Store",
]  # fmt: skip
KIND_WEIGHTS = {
    TransactionKind.AUTHORIZATION: 38,
    TransactionKind.CAPTURE: 30,
    TransactionKind.REFUND: 7,
    TransactionKind.PAYOUT: 10,
    TransactionKind.FEE: 15,
}
# (status when it works, status when it fails) per kind.
KIND_STATUSES = {
    TransactionKind.AUTHORIZATION: ("authorized", "declined"),
    TransactionKind.CAPTURE: ("captured", "failed"),
    TransactionKind.REFUND: ("refunded", "failed"),
    TransactionKind.PAYOUT: ("paid", "failed"),
    TransactionKind.FEE: ("charged", "charged"),
}
MAX_BATCH = 500
# Waits between attempts while the database is unreachable (doubling, never longer than this).
RETRY_MAX_SECONDS = 2.0


def minor_units(*, usd: float, currency: str) -> int:
    """A USD-equivalent amount in the currency's minor units (integer, at least 1)."""
    return max(1, round(usd * UNITS_PER_USD[currency] * 10 ** exponent_of(currency)))


def simulated_transaction(rng: random.Random, *, failure_rate: float) -> dict:
    """Keyword arguments for ``record_transaction_event``: one plausible transaction."""
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    currency = rng.choices(list(CURRENCY_WEIGHTS), weights=list(CURRENCY_WEIGHTS.values()))[0]
    if kind == TransactionKind.FEE:
        usd = rng.uniform(0.05, 3.0)
    elif kind == TransactionKind.PAYOUT:
        usd = math.exp(rng.gauss(7.5, 1.0))  # a few thousand dollars, long tail
    else:
        usd = math.exp(rng.gauss(3.8, 1.1))  # median around $45
    ok_status, failed_status = KIND_STATUSES[kind]
    return {
        "kind": kind.value,
        "amount": minor_units(usd=usd, currency=currency),
        "currency": currency,
        "status": failed_status if rng.random() < failure_rate else ok_status,
        "merchant": rng.choice(MERCHANTS),
    }


def record_simulated_batch(
    *, rng: random.Random, count: int, failure_rate: float
) -> list[StreamEvent]:
    """Write ``count`` simulated transactions in one database transaction."""
    with transaction.atomic():
        return [
            record_transaction_event(**simulated_transaction(rng, failure_rate=failure_rate))
            for _ in range(count)
        ]


def record_with_retry(
    *,
    rng: random.Random,
    count: int,
    plan: "TrafficPlan",
    started: float,
    should_stop: Callable[[], bool] | None,
    on_retry: Callable[[str], None] | None = None,
) -> bool:
    """Write one batch, waiting out a database outage; False if the run ended meanwhile.

    A failed batch rolled back as a whole, so writing it again duplicates nothing.
    """
    delay = 0.25
    while True:
        try:
            record_simulated_batch(rng=rng, count=count, failure_rate=plan.failure_rate)
            return True
        except (OperationalError, InterfaceError) as exc:
            connection.close()
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            (on_retry or _warn)(f"database unavailable ({first_line}); retrying in {delay:g} s")
            time.sleep(delay)
            delay = min(RETRY_MAX_SECONDS, delay * 2)
        if plan.duration and time.monotonic() - started >= plan.duration:
            return False
        if should_stop is not None and should_stop():
            return False


def _warn(message: str) -> None:
    logger.warning("simulate: %s", message)


@dataclass
class TrafficPlan:
    rate: float  # events per second; 0 with a count means as fast as possible
    duration: float  # seconds; 0 means until stopped (or until count)
    count: int | None = None
    burst_every: float = 0.0
    burst_size: int = 0
    failure_rate: float = 0.05
    tick_seconds: float = 0.2


def simulate_transactions(
    *,
    plan: TrafficPlan,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    burst_multiplier: Callable[[], int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Write simulated traffic paced by ``plan``; returns how many events were written.

    ``burst_multiplier`` (the chaos Event Burst) multiplies every tick's events while it is > 1.
    """
    rng = random.Random(seed)
    started = last_tick = next_burst = time.monotonic()
    next_burst += plan.burst_every
    written = 0
    owed = 0.0
    while True:
        now = time.monotonic()
        if plan.duration and now - started >= plan.duration:
            break
        if plan.count is not None and written >= plan.count:
            break
        if should_stop is not None and should_stop():
            break
        owed += plan.rate * (now - last_tick) if plan.rate else MAX_BATCH
        last_tick = now
        due = int(owed)
        owed -= due
        if plan.burst_every and plan.burst_size and now >= next_burst:
            due += plan.burst_size
            next_burst += plan.burst_every
        if burst_multiplier is not None:
            due *= max(1, burst_multiplier())
        if plan.count is not None:
            due = min(due, plan.count - written)
        while due > 0:
            batch = min(due, MAX_BATCH)
            if not record_with_retry(
                rng=rng, count=batch, plan=plan, started=started, should_stop=should_stop
            ):
                return written
            written += batch
            due -= batch
            if progress is not None:
                progress(batch)
        if plan.rate:
            time.sleep(max(0.0, plan.tick_seconds - (time.monotonic() - now)))
    return written
