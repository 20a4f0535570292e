"""Realistic payout traffic for ``manage.py simulate payouts``: batches across rails and T+N
values, submitted over the last two weeks, then played forward to now through the real services
(items settle or fail one by one, some batches are partly failed, some are left overdue)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable

from django.utils import timezone

from payflow.currencies import parse_major_amount
from payouts.attention import action_required_q
from payouts.models import PayoutBatch
from payouts.services import (
    ItemResult,
    NewItem,
    payout_batch_create,
    payout_batch_transition,
    payout_item_results_record,
)
from payouts.transitions import BatchStatus

S = BatchStatus
MAX_BATCHES = 10_000
MAX_ITEMS_PER_BATCH = 1_000
# rail -> (currencies, T+N values)
RAILS = {
    "ach": (["USD"], [1, 2, 3]),
    "wire": (["USD", "JPY", "KWD"], [0, 1]),
    "sepa": (["EUR"], [1, 2]),
    "faster_payments": (["GBP"], [0]),
    "bacs": (["GBP"], [3]),
}
FAILURES = [
    ("R01", "Insufficient funds"),
    ("R03", "No account / unable to locate account"),
    ("R04", "Invalid account number"),
    ("AC04", "Closed account number"),
    ("AM05", "Duplicate payment"),
]
NAMES = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Claude Shannon",
    "Hedy Lamarr",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
]


def check_options(*, batches, items_per_batch, failure_rate, seed) -> None:
    """Raise ValueError naming the command-line option for any bad value."""
    if isinstance(batches, bool) or not isinstance(batches, int):
        raise ValueError("--batches must be a whole number")
    if not 1 <= batches <= MAX_BATCHES:
        raise ValueError(f"--batches must be between 1 and {MAX_BATCHES}")
    if isinstance(items_per_batch, bool) or not isinstance(items_per_batch, int):
        raise ValueError("--items-per-batch must be a whole number")
    if not 1 <= items_per_batch <= MAX_ITEMS_PER_BATCH:
        raise ValueError(f"--items-per-batch must be between 1 and {MAX_ITEMS_PER_BATCH}")
    if isinstance(failure_rate, bool) or not isinstance(failure_rate, int | float):
        raise ValueError("--failure-rate must be a number between 0 and 1")
    if not 0 <= failure_rate <= 1:
        raise ValueError("--failure-rate must be between 0 and 1")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError("--seed must be a whole number")


def _items(rng: random.Random, count: int, currency: str) -> list[NewItem]:
    return [
        NewItem(
            recipient_name=rng.choice(NAMES),
            account_reference=f"••••{rng.randint(1000, 9999)}",
            amount=parse_major_amount(str(rng.randint(5, 5_000)), currency),
        )
        for _ in range(count)
    ]


def _play_forward(batch: PayoutBatch, rng: random.Random, failure_rate: float, now, actor) -> None:
    """Move a new batch along what the bank would have done by ``now``. No retries, ever."""
    move = lambda to, reason, reason_code="": payout_batch_transition(  # noqa: E731
        batch_id=batch.public_id,
        to=to,
        actor=actor,
        reason=reason,
        source="simulation",
        reason_code=reason_code,
    )
    if now - batch.submitted_at < dt.timedelta(hours=1):
        return  # still pending
    if rng.random() < failure_rate * 0.1:
        move(S.FAILED, "Rejected by the bank: file validation failed.", "BATCH_REJECTED")
        return
    move(S.PROCESSING, "Accepted by the bank.")
    if rng.random() < 0.04:
        move(S.REQUIRES_RECONCILIATION, "Bank acknowledgement totals do not match the file.")
        return
    move(S.IN_TRANSIT, "Funds released to the rail.")
    settled_by_now = now >= batch.settlement_deadline
    today_at_bank = now.astimezone(batch.rules.time_zone).date()
    if not settled_by_now and today_at_bank < batch.expected_settlement_date:
        return
    if settled_by_now and rng.random() < 0.15:
        return  # the bank never confirmed: left overdue for a person to chase
    results = []
    for item in batch.items.order_by("pk"):
        if not settled_by_now and rng.random() < 0.5:
            continue  # due today: some items have not landed yet
        if rng.random() < failure_rate:
            code, _message = rng.choice(FAILURES)
            results.append(ItemResult(item.public_id, "failed", reason_code=code))
        else:
            reference = f"BR{rng.randint(10**8, 10**9)}"
            results.append(ItemResult(item.public_id, "settled", bank_reference=reference))
    # The rail's report (unconfirmed); the batch status follows from its items.
    payout_item_results_record(results=results, actor=actor, source="simulation", confirmed=False)
    if settled_by_now and rng.random() < failure_rate * 0.1:
        batch.refresh_from_db()
        if batch.status in (S.SETTLED, S.PARTIALLY_SETTLED):
            move(S.RETURNED, "The receiving bank returned the batch.", reason_code="R06")


def simulate_payouts(
    *,
    batches: int,
    items_per_batch: int,
    failure_rate: float,
    seed: int | None,
    actor=None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Create ``batches`` batches and play them forward; returns a summary of what was made.

    ``seed=None`` picks a seed, reported in the summary so the run can be repeated.
    """
    check_options(
        batches=batches, items_per_batch=items_per_batch, failure_rate=failure_rate, seed=seed
    )
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    now = timezone.now()
    created: list[int] = []
    for number in range(batches):
        rail = rng.choice(list(RAILS))
        currencies, business_days = RAILS[rail]
        currency = rng.choice(currencies)
        batch = payout_batch_create(
            name=f"Simulated {rail} payouts #{number + 1} (seed {seed})",
            currency=currency,
            rail=rail,
            business_days=rng.choice(business_days),
            submitted_at=now - dt.timedelta(seconds=rng.randint(0, 14 * 24 * 3600)),
            items=_items(rng, items_per_batch, currency),
            actor=actor,
            source="simulation",
        )
        _play_forward(batch, rng, failure_rate, now, actor)
        created.append(batch.pk)
        if progress is not None:
            progress(1)
    made = PayoutBatch.objects.filter(pk__in=created)
    return {
        "seed": seed,
        "batches": len(created),
        "items": len(created) * items_per_batch,
        "by_status": dict(Counter(made.values_list("status", flat=True))),
        "needs_attention": made.filter(action_required_q(timezone.now())).count(),
        "batch_ids": list(made.values_list("public_id", flat=True)),
    }
