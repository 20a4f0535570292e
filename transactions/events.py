"""The one call producers use to put a transaction on the stream (the outbox write).

Call it inside the producer's own ``transaction.atomic()`` block: the transaction row and its
stream event then commit or roll back together with the change they report.
"""

from django.db import transaction as db_transaction
from django.utils import timezone

from transactions.models import StreamEvent, Transaction, TransactionKind


def record_transaction_event(
    *,
    kind: str,
    amount: int,
    currency: str,
    status: str,
    merchant: str,
    payment_ref: str = "",
    payout_ref: str = "",
    occurred_at=None,
) -> StreamEvent:
    """Write a Transaction and its outbox StreamEvent in the caller's database transaction."""
    if kind not in TransactionKind.values:
        raise ValueError(f"kind: unknown transaction kind {kind!r}")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount: must be an integer number of minor units")
    occurred_at = occurred_at or timezone.now()
    with db_transaction.atomic():
        txn = Transaction.objects.create(
            kind=kind,
            amount=amount,
            currency=currency,
            merchant=merchant,
            status=status,
            payment_ref=payment_ref,
            payout_ref=payout_ref,
            created_at=occurred_at,
        )
        return StreamEvent.objects.create(
            transaction=txn,
            kind=kind,
            amount=amount,
            currency=currency,
            merchant=merchant,
            status=status,
            created_at=occurred_at,
        )
