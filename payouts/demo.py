"""Demo payout batches for ``manage.py seed_demo``: every status, several needing attention.

Every batch is built through the real services, so its items agree with it: the rail's item
reports (unconfirmed) derive the batch status; a failed or returned batch has failed or
returned items with the bank's reason codes; one reconciled batch shows "Pay again".
"""

import datetime as dt

from django.utils import timezone

from payouts.models import PayoutBatch
from payouts.services import (
    ItemResult,
    NewItem,
    payout_batch_create,
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_results_record,
)
from payouts.settlement import calendar_rules
from payouts.transitions import BatchStatus

S = BatchStatus
DEMO_PREFIX = "Demo: "
RECIPIENTS = [
    ("Northwind Traders", "••••4821"),
    ("Ada Lovelace", "••••1815"),
    ("Contoso Ltd", "••••7302"),
    ("Grace Hopper", "••••1906"),
    ("Fabrikam Inc", "••••5550"),
    ("Tailspin Toys", "••••0199"),
]


def _last_friday_evening(now: dt.datetime) -> dt.datetime:
    """The latest Friday 18:30 in New York before now: after cut-off, so the weekend shows."""
    local = now.astimezone(calendar_rules("US").time_zone)
    days_back = (local.weekday() - 4) % 7 or 7
    friday = (local - dt.timedelta(days=days_back)).date()
    return dt.datetime.combine(friday, dt.time(18, 30), tzinfo=local.tzinfo)


def _batch(name, *, rng, currency="USD", rail="ach", days=2, submitted_at, items=4, major=100):
    return payout_batch_create(
        name=DEMO_PREFIX + name,
        currency=currency,
        rail=rail,
        business_days=days,
        submitted_at=submitted_at,
        items=[
            NewItem(recipient, account, rng.randint(50, 4_000) * major, f"DEMO-{number + 1:03d}")
            for number, (recipient, account) in enumerate(rng.sample(RECIPIENTS, items))
        ],
        source="demo",
    )


def _walk(batch, *steps, reason_code=""):
    for step in steps:
        payout_batch_transition(
            batch_id=batch.public_id,
            to=step,
            source="demo",
            reason="Demo data",
            reason_code=reason_code,
        )


def _results(batch, *, failed=0, code="R03"):
    """The rail's report for every item (unconfirmed): the first ``failed`` fail with ``code``."""
    results = [
        ItemResult(item.public_id, "failed", reason_code=code)
        if number < failed
        else ItemResult(item.public_id, "settled", bank_reference=f"DEMO{item.pk:06d}")
        for number, item in enumerate(batch.items.order_by("pk"))
    ]
    payout_item_results_record(results=results, actor=None, source="demo", confirmed=False)


def seed_demo_data(*, users, rng, stdout) -> None:
    if PayoutBatch.objects.filter(name__startswith=DEMO_PREFIX).exists():
        stdout.write("Payouts: demo batches already present, skipped.")
        return
    now = timezone.now()
    days_ago = lambda n: now - dt.timedelta(days=n)  # noqa: E731
    operator = users.get("operator")

    _batch("Creator payouts, this week", rng=rng, submitted_at=now)
    _walk(_batch("Supplier wires", rng=rng, rail="wire", days=0, submitted_at=now), S.PROCESSING)
    in_transit = _batch(
        "Marketplace sellers (SEPA)",
        rng=rng,
        currency="EUR",
        rail="sepa",
        days=1,
        submitted_at=now,
    )
    _walk(in_transit, S.PROCESSING, S.IN_TRANSIT)
    weekend = _batch("Friday evening payroll", rng=rng, submitted_at=_last_friday_evening(now))
    _walk(weekend, S.PROCESSING, S.IN_TRANSIT)  # overdue unless it is still due

    overdue = _batch("Affiliate commissions", rng=rng, days=1, submitted_at=days_ago(8))
    _walk(overdue, S.PROCESSING, S.IN_TRANSIT)

    settled = _batch("Refund payouts", rng=rng, submitted_at=days_ago(10))
    _walk(settled, S.PROCESSING, S.IN_TRANSIT)
    _results(settled)  # every item settled: the batch is settled

    partial = _batch("Driver earnings", rng=rng, items=6, submitted_at=days_ago(6))
    _walk(partial, S.PROCESSING, S.IN_TRANSIT)
    _results(partial, failed=2)  # two R03 failures: partially settled, not yet confirmed

    _walk(
        _batch("Insurance claims", rng=rng, submitted_at=days_ago(4)),
        S.FAILED,
        reason_code="BATCH_REJECTED",
    )

    returned = _batch(
        "UK contractor payments",
        rng=rng,
        currency="GBP",
        rail="bacs",
        days=3,
        submitted_at=days_ago(9),
    )
    _walk(returned, S.PROCESSING, S.IN_TRANSIT)
    _results(returned)
    _walk(returned, S.RETURNED, reason_code="AC04")  # the beneficiary banks sent it all back

    _walk(
        _batch(
            "Tokyo vendors",
            rng=rng,
            currency="JPY",
            rail="wire",
            days=1,
            major=1000,
            submitted_at=days_ago(3),
        ),
        S.PROCESSING,
        S.REQUIRES_RECONCILIATION,
    )

    reconciled = _batch("Charity disbursements", rng=rng, submitted_at=days_ago(12))
    _walk(reconciled, S.PROCESSING, S.IN_TRANSIT)
    _results(reconciled, failed=1)
    payout_batch_reconcile(
        batch_id=reconciled.public_id,
        outcome=S.PARTIALLY_SETTLED,
        note="Statement confirms three credits; the R03 (no account) stands: ask the charity "
        "for the right account and pay it again.",
        bank_reference="FED-STMT-2291",
        actor=operator,
        source="demo",
    )
    gbp = _batch(
        "Faster Payments refunds",
        rng=rng,
        currency="GBP",
        rail="faster_payments",
        days=0,
        submitted_at=days_ago(2),
    )
    _walk(gbp, S.PROCESSING, S.IN_TRANSIT)
    _results(gbp)
    count = PayoutBatch.objects.filter(name__startswith=DEMO_PREFIX).count()
    stdout.write(f"Payouts: {count} demo batches.")
