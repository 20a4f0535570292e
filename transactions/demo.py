"""Demo history for the transactions page: a day of simulated traffic (idempotent)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from transactions.events import record_transaction_event
from transactions.models import Transaction
from transactions.services import simulated_transaction

DEMO_HISTORY = 300


def seed_demo_data(*, users, rng, stdout) -> None:
    # Other apps' demo data also writes transactions; only our simulated history counts here.
    if Transaction.objects.filter(payment_ref="", payout_ref="").exists():
        stdout.write("transactions: demo history already present; skipped")
        return
    now = timezone.now()
    offsets = sorted((rng.uniform(60, 24 * 3600) for _ in range(DEMO_HISTORY)), reverse=True)
    with transaction.atomic():
        for seconds_ago in offsets:
            record_transaction_event(
                **simulated_transaction(rng, failure_rate=0.06),
                occurred_at=now - timedelta(seconds=seconds_ago),
            )
    stdout.write(f"transactions: {DEMO_HISTORY} transactions over the last 24 h")
