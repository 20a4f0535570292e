"""Realistic payment lifecycles for `manage.py simulate payments` (the stream issue's command).

Mostly successes; some failures with codes; some that need action first (then go through, or
are canceled). Every step goes through the real services, so history and stream events are real.
"""

import random
from collections import Counter
from collections.abc import Callable

from payflow.currencies import CURRENCIES
from payments.models import PaymentMethod
from payments.services import PaymentInput, payment_create, payment_transition
from payments.transitions import FAILURE_CODES, PaymentStatus

MAX_COUNT = 100_000
BENEFICIARIES = [
    "Acme Supplies Ltd",
    "Globex Corporation",
    "Initech GmbH",
    "Umbrella Logistics",
    "Stark Industries",
    "Wayne Enterprises",
    "Soylent Foods",
    "Hooli Cloud",
    "Nordic Timber AS",
    "Kyoto Instruments KK",
    "Gulf Trading WLL",
    "Banco Andino SA",
]
# Weighted towards the currencies a typical book sees; exponents differ on purpose.
CURRENCY_WEIGHTS = {"USD": 45, "EUR": 25, "GBP": 12, "JPY": 6, "CHF": 4, "KWD": 3, "SEK": 5}
# Typical amounts in major units per currency, so JPY and KWD payments look real.
MAJOR_RANGE = {"JPY": (500, 2_000_000), "KWD": (5, 20_000)}
REAL_FAILURE_CODES = [code for code in FAILURE_CODES if code != "unspecified"]


def check_simulation_options(*, count, seed, failure_rate) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("--count must be a whole number ≥ 1.")
    if count > MAX_COUNT:
        raise ValueError(f"--count must be at most {MAX_COUNT}.")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError("--seed must be a whole number.")
    if not isinstance(failure_rate, int | float) or not 0 <= failure_rate <= 1:
        raise ValueError("--failure-rate must be between 0 and 1 (for example 0.1).")


def _random_input(rng: random.Random) -> PaymentInput:
    currency = rng.choices(list(CURRENCY_WEIGHTS), weights=list(CURRENCY_WEIGHTS.values()))[0]
    low, high = MAJOR_RANGE.get(currency, (5, 25_000))
    major = rng.randint(low, high)
    exponent = CURRENCIES[currency].exponent
    minor = major * 10**exponent + (rng.randrange(10**exponent) if exponent else 0)
    return PaymentInput(
        amount=minor,
        currency=currency,
        beneficiary_name=rng.choice(BENEFICIARIES),
        beneficiary_account=f"ACCT-{rng.randrange(10**8):08d}",
        method=rng.choice(PaymentMethod.values),
        description=f"Invoice {rng.randrange(1000, 99999)}",
    )


def _lifecycle(rng: random.Random, failure_rate: float) -> list[tuple[str, str | None]]:
    """The steps one payment takes after creation: (target, failure code)."""
    roll = rng.random()
    fail = (PaymentStatus.FAILED, rng.choice(REAL_FAILURE_CODES))
    if roll < failure_rate:
        early = rng.random() < 0.25  # declined before processing started
        return (
            [("submitted", None), fail]
            if early
            else [("submitted", None), ("processing", None), fail]
        )
    if roll < failure_rate + 0.12:  # needs action first, e.g. 3-D Secure
        # Some are left waiting on the customer, so the dashboard has real work to show.
        ending = rng.choices(
            [[("processing", None), ("succeeded", None)], [("canceled", None)], [fail], []],
            weights=[6, 2, 1, 3],
        )[0]
        return [("submitted", None), ("processing", None), ("requires_action", None), *ending]
    if roll < failure_rate + 0.15:
        return [("canceled", None)]  # the operator changed their mind on the draft
    return [("submitted", None), ("processing", None), ("succeeded", None)]


def simulate_payments(
    *,
    count: int,
    seed: int | None,
    failure_rate: float = 0.1,
    actor=None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Create ``count`` payments and play each through a lifecycle; return counts by outcome.

    The same seed gives the same payments and outcomes; no seed, a different run each time.
    """
    check_simulation_options(count=count, seed=seed, failure_rate=failure_rate)
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for _ in range(count):
        payment = payment_create(user=actor, data=_random_input(rng))
        for target, failure_code in _lifecycle(rng, failure_rate):
            payment = payment_transition(
                public_id=payment.public_id,
                to=target,
                actor=actor,
                failure_code=failure_code,
                reason="Simulated processor answer." if target != "submitted" else "",
            )
        outcomes[payment.status] += 1
        if progress is not None:
            progress(1)
    return {"created": count, **{state: outcomes[state] for state in PaymentStatus.values}}
