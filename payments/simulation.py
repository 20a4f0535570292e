"""Realistic payment lifecycles for `manage.py simulate payments` (the stream issue's command).

Mostly successes; some failures with codes; some that need action first (then go through, or
are canceled). PayFlow's own steps (create, submit, cancel) go through the services; the
processor's answers come from the simulated processor as signed webhooks (over HTTP from the
command), possibly late, duplicated and reordered, and are applied by the webhook endpoint.
"""

import random
import time
from collections import Counter
from collections.abc import Callable

from payflow.currencies import CURRENCIES
from payments import processor
from payments.models import Payment, PaymentMethod
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


def in_process_transport(raw: bytes, headers: dict) -> int:
    """Hand the signed delivery to the webhook service without a socket (tests, no server)."""
    from payments.errors import WebhookRejected
    from payments.signatures import HEADER
    from payments.webhooks import webhook_receive

    try:
        webhook_receive(raw_body=raw, signature_header=headers[HEADER])
    except WebhookRejected as exc:
        return exc.status
    return 200


def _play(payment, steps, *, rng, actor, transport, plan, clock) -> None:
    """PayFlow's steps through the services; the processor's as webhooks, in one batch."""
    answers = [(target, code) for target, code in steps if target in PROCESSOR_STEPS]
    ours_before = steps[: steps.index(answers[0])] if answers else steps
    for target, _ in ours_before:
        payment_transition(public_id=payment.public_id, to=target, actor=actor)
    if not answers:
        return
    base = clock()
    events = [
        processor.event_body(
            type=f"payment.{target}",
            payment_ref=payment.public_id,
            failure_code=code or "",
            created=base - len(answers) + i,  # strictly ordered, as the processor saw them
        )
        for i, (target, code) in enumerate(answers, start=1)
    ]
    final_target, final_code = answers[-1]
    processor.remember(
        payment_ref=payment.public_id, status=final_target, failure_code=final_code or ""
    )
    processor.deliver(events, transport=transport, plan=plan, rng=rng)
    for target, _ in steps[steps.index(answers[-1]) + 1 :]:  # the operator's cancel, if any
        payment_transition(public_id=payment.public_id, to=target, actor=actor)


PROCESSOR_STEPS = frozenset({"processing", "requires_action", "succeeded", "failed"})


def simulate_payments(
    *,
    count: int,
    seed: int | None,
    failure_rate: float = 0.1,
    actor=None,
    progress: Callable[[int], None] | None = None,
    transport: processor.Transport | None = None,
    plan: processor.DeliveryPlan | None = None,
    clock: Callable[[], float] = time.time,
) -> dict:
    """Create ``count`` payments and play each through a lifecycle; return counts by outcome.

    ``transport`` carries the processor's signed webhooks (``processor.HttpTransport`` to a
    running server; by default straight into the webhook service). The same seed gives the
    same payments and outcomes; no seed, a different run each time.
    """
    check_simulation_options(count=count, seed=seed, failure_rate=failure_rate)
    plan = plan or processor.DeliveryPlan()
    plan.check()
    rng = random.Random(seed)
    transport = transport or in_process_transport
    outcomes: Counter[str] = Counter()
    for _ in range(count):
        payment = payment_create(user=actor, data=_random_input(rng))
        steps = _lifecycle(rng, failure_rate)
        _play(payment, steps, rng=rng, actor=actor, transport=transport, plan=plan, clock=clock)
        outcomes[Payment.objects.get(pk=payment.pk).status] += 1
        if progress is not None:
            progress(1)
    return {"created": count, **{state: outcomes[state] for state in PaymentStatus.values}}
