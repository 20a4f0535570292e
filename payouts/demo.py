"""Demo payout batches for ``manage.py seed_demo``: every status, several needing attention."""

import datetime as dt

from django.utils import timezone

from payouts.models import PayoutBatch
from payouts.services import (
    NewItem,
    payout_batch_create,
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_record_result,
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
            NewItem(recipient, account, rng.randint(50, 4_000) * major)
            for recipient, account in rng.sample(RECIPIENTS, items)
        ],
        source="demo",
    )


def _walk(batch, *steps):
    for step in steps:
        payout_batch_transition(
            batch_id=batch.public_id, to=step, source="demo", reason="Demo data"
        )


def _results(batch, *, failed=0, code="R03", message="No account / unable to locate account"):
    for number, item in enumerate(batch.items.all()):
        if number < failed:
            payout_item_record_result(
                item_id=item.public_id,
                to="failed",
                failure_code=code,
                failure_message=message,
                source="demo",
            )
        else:
            payout_item_record_result(
                item_id=item.public_id,
                to="settled",
                bank_reference=f"DEMO{item.pk:06d}",
                source="demo",
            )


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
    _results(settled)
    _walk(settled, S.SETTLED)

    partial = _batch("Driver earnings", rng=rng, items=6, submitted_at=days_ago(6))
    _walk(partial, S.PROCESSING, S.IN_TRANSIT)
    _results(partial, failed=2)
    _walk(partial, S.PARTIALLY_SETTLED)

    _walk(_batch("Insurance claims", rng=rng, submitted_at=days_ago(4)), S.FAILED)

    returned = _batch(
        "UK contractor payments",
        rng=rng,
        currency="GBP",
        rail="bacs",
        days=3,
        submitted_at=days_ago(9),
    )
    _walk(returned, S.PROCESSING, S.IN_TRANSIT, S.RETURNED)

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
    _walk(reconciled, S.FAILED)
    payout_batch_reconcile(
        batch_id=reconciled.public_id,
        outcome=S.FAILED,
        note="Bank confirmed the file was rejected (duplicate file id); resubmitted.",
        bank_reference="FED-REJ-2291",
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
    _walk(gbp, S.SETTLED)
    count = PayoutBatch.objects.filter(name__startswith=DEMO_PREFIX).count()
    stdout.write(f"Payouts: {count} demo batches.")
