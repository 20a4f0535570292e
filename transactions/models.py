"""Transactions and the stream's outbox.

``StreamEvent.id`` is the stream's event id: producers write a row in the same database
transaction as the change it reports, and the relay publishes committed rows in id order.
"""

import secrets

from django.db import models


def new_transaction_id() -> str:
    return "txn_" + secrets.token_hex(10)


class TransactionKind(models.TextChoices):
    AUTHORIZATION = "authorization", "Authorization"
    CAPTURE = "capture", "Capture"
    REFUND = "refund", "Refund"
    PAYOUT = "payout", "Payout"
    FEE = "fee", "Fee"


class Transaction(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_transaction_id)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    amount = models.BigIntegerField(help_text="Minor units of the currency.")
    currency = models.CharField(max_length=3)
    merchant = models.CharField(max_length=120)
    status = models.CharField(max_length=32)
    # Public ids of the related payment or payout batch, if any (no cross-app foreign keys).
    payment_ref = models.CharField(max_length=40, blank=True, db_index=True)
    payout_ref = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.amount} {self.currency} {self.status}"


class StreamEvent(models.Model):
    """The outbox: one row per event on the transactions stream, denormalized for fast replay."""

    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="events", null=True
    )
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    merchant = models.CharField(max_length=120)
    status = models.CharField(max_length=32)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"event {self.id} {self.kind} {self.status}"

    def as_wire(self) -> dict:
        """The event as the stream protocol puts it on the wire."""
        return {
            "id": self.id,
            "kind": self.kind,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "merchant": self.merchant,
            "created_at": self.created_at.isoformat(),
        }


class StreamRelayState(models.Model):
    """The relay's high-water mark and lease: every event id up to ``last_published_id`` is
    final and has been published. One row (pk 1); with several server processes only the lease
    holder writes it, and a process that takes over resumes from it.

    The lease: ``holder`` publishes while ``lease_expires_at`` (database clock) is in the future
    and renews it every loop; another process may take it once it has expired, incrementing
    ``lease_token``. Every write of the holder is conditional on its token, and every batch it
    publishes carries it, so a stale holder that wakes up can neither write nor be heard."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_published_id = models.BigIntegerField(default=0)
    holder = models.CharField(max_length=120, blank=True)
    lease_token = models.BigIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "stream relay state"

    def __str__(self) -> str:
        return f"relay published through {self.last_published_id} ({self.holder or 'nobody'})"
