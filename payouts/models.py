"""Payout batches, their items, the append-only history and the reconciliations.

Batch totals and counts are not stored: they are derived from the items (see
``selectors.item_totals_for``), so they cannot disagree. Item outcomes are written only by
``services.payout_item_results_record``; a batch's outcome status follows from its items there.
The model's transition methods only say whether a step is legal (the table is in
``transitions.py``).
"""

import secrets

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from payflow.models import AppendOnlyModel
from payflow.preconditions import entity_tag
from payouts.settlement import CALENDAR_CHOICES, CalendarRules, parse_time_zone
from payouts.transitions import BATCH_TRANSITIONS, BatchStatus, ItemStatus, sources_of


def new_batch_id() -> str:
    return "po_" + secrets.token_hex(10)


def new_item_id() -> str:
    return "poi_" + secrets.token_hex(10)


class Rail(models.TextChoices):
    ACH = "ach", "ACH"
    WIRE = "wire", "Wire (Fedwire)"
    SEPA = "sepa", "SEPA credit transfer"
    FASTER_PAYMENTS = "faster_payments", "Faster Payments"
    BACS = "bacs", "Bacs"


# The calendar a rail settles on unless the batch says otherwise.
RAIL_CALENDARS = {
    Rail.ACH: "US",
    Rail.WIRE: "US",
    Rail.SEPA: "TARGET2",
    Rail.FASTER_PAYMENTS: "UK",
    Rail.BACS: "UK",
}


class PayoutBatch(ConcurrentTransitionMixin, models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_batch_id, editable=False)
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)
    rail = models.CharField(max_length=20, choices=Rail.choices)
    business_days = models.PositiveSmallIntegerField(help_text="N in T+N.")
    calendar = models.CharField(max_length=10, choices=CALENDAR_CHOICES)
    # The bank's zone and cut-off when the batch was submitted: the expected date stays
    # reproducible even if the settings change later.
    bank_time_zone = models.CharField(max_length=64)
    cutoff = models.TimeField()
    submitted_at = models.DateTimeField()
    expected_settlement_date = models.DateField(db_index=True)
    # End of the expected settlement day in the bank's zone; unconfirmed after it = overdue.
    settlement_deadline = models.DateTimeField(db_index=True)
    status = FSMField(
        max_length=32,
        choices=BatchStatus.choices,
        default=BatchStatus.PENDING,
        protected=True,
        db_index=True,
    )
    status_changed_at = models.DateTimeField()
    # The latest reconciliation; a status reached or confirmed by one needs no further action.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconciled_by_name = models.CharField(max_length=150, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["-submitted_at", "-id"], name="payout_batch_cursor")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(business_days__lte=30), name="payout_batch_business_days_max"
            ),
        ]
        verbose_name_plural = "payout batches"

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    def etag(self) -> str:
        """Changes whenever the batch's representation does: every change to the batch or its
        items (status, item result, reconciliation, retry) appends to its history."""
        last_event = self.events.order_by("-id").values_list("id", flat=True).first()
        return entity_tag(last_event or 0)

    @property
    def rules(self) -> CalendarRules:
        return CalendarRules(
            key=self.calendar,
            label=dict(CALENDAR_CHOICES)[self.calendar],
            time_zone=parse_time_zone(self.bank_time_zone),
            cutoff=self.cutoff,
        )

    @property
    def status_label(self) -> str:
        return BatchStatus(self.status).label

    @property
    def allowed_targets(self) -> tuple[str, ...]:
        return BATCH_TRANSITIONS[self.status]

    # Transition methods: guards only (the table), no I/O; the services call them.
    @transition(field=status, source=sources_of(BatchStatus.PROCESSING), target="processing")
    def to_processing(self):
        pass

    @transition(field=status, source=sources_of(BatchStatus.IN_TRANSIT), target="in_transit")
    def to_in_transit(self):
        pass

    @transition(
        field=status,
        source=sources_of(BatchStatus.PARTIALLY_SETTLED),
        target="partially_settled",
    )
    def to_partially_settled(self):
        pass

    @transition(
        field=status,
        source=sources_of(BatchStatus.REQUIRES_RECONCILIATION),
        target="requires_reconciliation",
    )
    def to_requires_reconciliation(self):
        pass

    @transition(field=status, source=sources_of(BatchStatus.SETTLED), target="settled")
    def to_settled(self):
        pass

    @transition(field=status, source=sources_of(BatchStatus.FAILED), target="failed")
    def to_failed(self):
        pass

    @transition(field=status, source=sources_of(BatchStatus.RETURNED), target="returned")
    def to_returned(self):
        pass


class PayoutItem(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_item_id, editable=False)
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    recipient_name = models.CharField(max_length=120)
    account_reference = models.CharField(max_length=64, help_text="Account, e.g. ••••6789.")
    amount = models.BigIntegerField(help_text="Minor units of the batch's currency.")
    # The payer's reference sent with the item (remittance information), optional.
    reference = models.CharField(max_length=140, blank=True)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    # The bank's return/failure reason (R03, AC04, ...): required when failed or returned.
    reason_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    bank_reference = models.CharField(max_length=64, blank=True, db_index=True)
    # What the bank confirmed moved (minor units); null until confirmed.
    confirmed_amount = models.BigIntegerField(null=True, blank=True)
    # The bank statement line ("bsl_...") that justified the outcome, or "".
    statement_line_id = models.CharField(max_length=32, blank=True, db_index=True)
    # When the bank confirmed the outcome (a statement line or a reconciliation), not just a
    # rail report. Only a confirmed failure can be paid again.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the item reached settled, failed or returned.
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A failed or returned item paid again points to its new item (one retry per item).
    retry_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retried_as"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["batch", "status"], name="payout_item_batch_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payout_item_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["failed", "returned"]) | ~models.Q(reason_code=""),
                name="payout_item_failure_has_code",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_amount__isnull=True)
                | models.Q(confirmed_amount__gt=0),
                name="payout_item_confirmed_amount_gt_0",
            ),
            # A pending item has no outcome yet: nothing confirmed, no statement line.
            models.CheckConstraint(
                condition=~models.Q(status="pending")
                | (
                    models.Q(confirmed_amount__isnull=True)
                    & models.Q(confirmed_at__isnull=True)
                    & models.Q(statement_line_id="")
                    & models.Q(resolved_at__isnull=True)
                ),
                name="payout_item_pending_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount} {self.status}"

    @property
    def status_label(self) -> str:
        return ItemStatus(self.status).label

    @property
    def failure_code(self) -> str:
        return self.reason_code


class PayoutReconciliation(AppendOnlyModel):
    """What the bank confirmed, recorded by a person with a required note (append-only)."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="reconciliations")
    from_status = models.CharField(max_length=32, choices=BatchStatus.choices)
    outcome = models.CharField(max_length=32, choices=BatchStatus.choices)
    note = models.TextField()
    bank_reference = models.CharField(max_length=64, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(note=""), name="payout_recon_note_required"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} reconciled {self.outcome} by {self.actor_name}"


class PayoutItemResult(AppendOnlyModel):
    """Every outcome written for an item, in order (append-only): who, why, on what evidence."""

    item = models.ForeignKey(PayoutItem, on_delete=models.PROTECT, related_name="results")
    from_status = models.CharField(max_length=16, choices=ItemStatus.choices)
    outcome = models.CharField(max_length=16, choices=ItemStatus.choices)
    amount = models.BigIntegerField(null=True, blank=True)
    confirmed = models.BooleanField(default=False)
    bank_reference = models.CharField(max_length=64, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    statement_line_id = models.CharField(max_length=32, blank=True)
    reconciliation = models.ForeignKey(
        PayoutReconciliation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item_results",
    )
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.from_status}->{self.outcome}"


class PayoutBatchEvent(AppendOnlyModel):
    """The batch's history: creation, every status move, item results and reconciliations."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status change"
        ITEM = "item", "Item result"
        RECONCILIATION = "reconciliation", "Reconciliation"
        RETRY = "retry", "Item paid again"

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    reconciliation = models.OneToOneField(
        PayoutReconciliation, null=True, blank=True, on_delete=models.PROTECT, related_name="event"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.kind} {self.from_status}->{self.to_status}"
