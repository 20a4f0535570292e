"""Bank statements, their lines, what each line matched, and the exceptions queue.

Statements, lines, matches, resolutions, approvals and exception events are append-only, each
with actor, time and request id. An exception's current status and owner live on its row and
every change to them is an ``ExceptionEvent``. The invariants are constraints: one import per
(account, statement id) and per file hash; a line matches at most once (one ``Match`` per line);
an item is settled at most once and returned at most once by statement lines; a resolution is
approved at most once.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from payflow.models import AppendOnlyModel


def new_statement_id() -> str:
    return "bst_" + secrets.token_hex(10)


def new_line_id() -> str:
    return "bsl_" + secrets.token_hex(10)


def new_exception_id() -> str:
    return "rex_" + secrets.token_hex(10)


def new_resolution_id() -> str:
    return "rsn_" + secrets.token_hex(10)


def new_approval_id() -> str:
    return "apv_" + secrets.token_hex(10)


class StatementFormat(models.TextChoices):
    CAMT053 = "camt053", "ISO 20022 camt.053"
    MT940 = "mt940", "SWIFT MT940"
    BAI2 = "bai2", "BAI2"
    CSV = "csv", "PayFlow CSV"


class Direction(models.TextChoices):
    CREDIT = "credit", "Credit"
    DEBIT = "debit", "Debit"


class BankStatement(AppendOnlyModel):
    public_id = models.CharField(max_length=32, unique=True, default=new_statement_id)
    format = models.CharField(max_length=10, choices=StatementFormat.choices)
    account = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    statement_id = models.CharField(max_length=140)
    opening_balance = models.BigIntegerField()
    closing_balance = models.BigIntegerField()
    opening_date = models.DateField(null=True, blank=True)
    closing_date = models.DateField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, unique=True)
    line_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    exception_count = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_by_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "statement_id"], name="bank_statement_once_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.account} {self.statement_id}"


class StatementLine(AppendOnlyModel):
    public_id = models.CharField(max_length=32, unique=True, default=new_line_id)
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    index = models.PositiveIntegerField()
    direction = models.CharField(max_length=6, choices=Direction.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    booking_date = models.DateField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    end_to_end_id = models.CharField(max_length=140, blank=True)
    customer_reference = models.CharField(max_length=140, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    references = models.JSONField(default=list, blank=True)
    details = models.TextField(blank=True)
    return_reason = models.CharField(max_length=35, blank=True)
    location = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["statement_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "index"], name="statement_line_index"),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="statement_line_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.direction} {self.amount} {self.currency}"


class MatchOutcome(models.TextChoices):
    SETTLED = "settled", "Settled"
    RETURNED = "returned", "Returned"


class Match(AppendOnlyModel):
    """What one statement line confirmed. One per line: a line matches at most once."""

    class Source(models.TextChoices):
        AUTOMATIC = "automatic", "Matched on import"
        RESOLUTION = "resolution", "Matched by an approved resolution"

    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT, related_name="match")
    outcome = models.CharField(max_length=10, choices=MatchOutcome.choices)
    reason_code = models.CharField(max_length=35, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    resolution = models.ForeignKey(
        "Resolution", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.line_id} {self.outcome}"


class MatchedItem(AppendOnlyModel):
    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="items")
    item_id = models.CharField(max_length=32, db_index=True)
    outcome = models.CharField(max_length=10, choices=MatchOutcome.choices)
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            # An item is settled by at most one line and returned by at most one line.
            models.UniqueConstraint(fields=["item_id", "outcome"], name="matched_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.outcome}"


class ExceptionReason(models.TextChoices):
    UNMATCHED_LINE = "unmatched_line", "Unmatched line"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    LATE_VALUE_DATE = "late_value_date", "Value date outside the window"
    OVERDUE_ITEM = "overdue_item", "Overdue item"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    RESOLVED = "resolved", "Resolved"


class ReconciliationException(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_exception_id)
    reason = models.CharField(max_length=20, choices=ExceptionReason.choices)
    statement = models.ForeignKey(
        BankStatement, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions"
    )
    line = models.ForeignKey(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions"
    )
    item_id = models.CharField(max_length=32, blank=True, db_index=True)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    message = models.CharField(max_length=500)
    candidates = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_deadline = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="rex_status_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=Q(line__isnull=False), name="exception_once_per_line"
            ),
            models.UniqueConstraint(
                fields=["item_id"],
                condition=Q(reason="overdue_item") & ~Q(status="resolved"),
                name="overdue_exception_once_per_open_item",
            ),
            models.CheckConstraint(
                condition=Q(line__isnull=False) | ~Q(item_id=""),
                name="exception_names_line_or_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.reason} ({self.status})"

    def is_escalated(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status != ExceptionStatus.RESOLVED and now > self.sla_deadline


class ExceptionEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        ASSIGNED = "assigned", "Assigned"
        PROPOSED = "proposed", "Resolution proposed"
        APPROVED = "approved", "Resolution approved"
        RESOLVED = "resolved", "Resolved"

    exception = models.ForeignKey(
        ReconciliationException, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    detail = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.exception_id} {self.kind}"


class ResolutionAction(models.TextChoices):
    MATCH = "match", "Match to items"
    WRITE_OFF = "write_off", "Write off"
    IGNORE = "ignore", "Ignore"


class Resolution(AppendOnlyModel):
    """A maker's proposal. One that moves money state waits for a second operator's approval."""

    public_id = models.CharField(max_length=32, unique=True, default=new_resolution_id)
    exception = models.ForeignKey(
        ReconciliationException, on_delete=models.PROTECT, related_name="resolutions"
    )
    action = models.CharField(max_length=10, choices=ResolutionAction.choices)
    items = models.JSONField(default=list, blank=True)
    note = models.TextField()
    needs_approval = models.BooleanField()
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    maker_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.action}"


class Approval(AppendOnlyModel):
    public_id = models.CharField(max_length=32, unique=True, default=new_approval_id)
    # One approval per resolution: two approvals at once apply it once.
    resolution = models.OneToOneField(Resolution, on_delete=models.PROTECT, related_name="approval")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_name = models.CharField(max_length=150)
    note = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.public_id} for {self.resolution_id}"
