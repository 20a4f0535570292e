"""Payments and their append-only history.

The @transition methods only say whether a step is legal (source, conditions, role) and set
the fields the step owns; ``payments.services`` opens the transaction, locks, saves and writes
the history and the stream event.
"""

import secrets
import string

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from payflow.accounts.roles import Action
from payflow.currencies import CURRENCY_CHOICES, format_money
from payflow.models import AppendOnlyModel
from payments.transitions import (
    LEGAL_TRANSITIONS,
    PROCESSOR_TARGETS,
    PaymentStatus,
)

_ID_ALPHABET = string.ascii_letters + string.digits


def new_payment_id() -> str:
    # 20 base-62 characters: ~119 random bits, unguessable and URL-safe.
    return "pay_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def sources_of(target: str) -> list[str]:
    """Every state from which SPEC's table allows a move to ``target``."""
    return [source for source, targets in LEGAL_TRANSITIONS.items() if target in targets]


def action_for_target(target: str) -> Action:
    """The role-checked action a move needs: processor answers are simulations."""
    return Action.SIMULATE if target in PROCESSOR_TARGETS else Action.TRANSITION_PAYMENT


def amount_within_ceiling(payment: "Payment") -> bool:
    return 0 < payment.amount < settings.PAYMENT_AMOUNT_CEILING_MINOR


amount_within_ceiling.reason = (
    "The amount is not above zero and below the configured ceiling "
    "(PAYMENT_AMOUNT_CEILING_MINOR); it cannot be submitted."
)


def has_beneficiary(payment: "Payment") -> bool:
    return bool(payment.beneficiary_name.strip() and payment.beneficiary_account.strip())


has_beneficiary.reason = "The beneficiary needs a name and an account before the payment is sent."


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    ACH = "ach", "ACH"
    SEPA = "sepa", "SEPA"
    WIRE = "wire", "Wire"


class Payment(ConcurrentTransitionMixin, models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_payment_id, editable=False)
    amount = models.BigIntegerField(help_text="Minor units of the currency (cents for USD).")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    beneficiary_name = models.CharField(max_length=120)
    beneficiary_account = models.CharField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    status = FSMField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.DRAFT, protected=True
    )
    failure_code = models.CharField(max_length=32, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments_created",
        help_text="Empty when created by the system (simulation).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, help_text="Incremented by every transition.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="payment_newest"),
            models.Index(fields=["status", "-created_at", "-id"], name="payment_status_newest"),
            models.Index(fields=["currency", "-created_at", "-id"], name="payment_currency_newest"),
            models.Index(fields=["status", "status_changed_at"], name="payment_status_since"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values), name="payment_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {format_money(self.amount, self.currency)} {self.status}"

    @property
    def money(self) -> str:
        return format_money(self.amount, self.currency)

    # --- transitions: guards only; the service saves and records -------------------------------

    @transition(
        field=status,
        source=sources_of(PaymentStatus.SUBMITTED),
        target=PaymentStatus.SUBMITTED,
        conditions=[amount_within_ceiling, has_beneficiary],
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=sources_of(PaymentStatus.PROCESSING),
        target=PaymentStatus.PROCESSING,
    )
    def start_processing(self):
        pass

    @transition(
        field=status,
        source=sources_of(PaymentStatus.REQUIRES_ACTION),
        target=PaymentStatus.REQUIRES_ACTION,
    )
    def require_action(self):
        pass

    @transition(
        field=status,
        source=sources_of(PaymentStatus.SUCCEEDED),
        target=PaymentStatus.SUCCEEDED,
    )
    def succeed(self):
        pass

    @transition(
        field=status,
        source=sources_of(PaymentStatus.FAILED),
        target=PaymentStatus.FAILED,
    )
    def fail(self, *, code: str, message: str):
        self.failure_code = code
        self.failure_message = message

    @transition(
        field=status,
        source=sources_of(PaymentStatus.CANCELED),
        target=PaymentStatus.CANCELED,
    )
    def cancel(self):
        pass


# The model method that moves a payment into each state.
TRANSITION_METHODS: dict[str, str] = {
    PaymentStatus.SUBMITTED: "submit",
    PaymentStatus.PROCESSING: "start_processing",
    PaymentStatus.REQUIRES_ACTION: "require_action",
    PaymentStatus.SUCCEEDED: "succeed",
    PaymentStatus.FAILED: "fail",
    PaymentStatus.CANCELED: "cancel",
}


class PaymentEvent(AppendOnlyModel):
    """One row per status change (and one for the creation): who, when, why. Never edited."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(
        max_length=20, blank=True, help_text="Empty for the creation of the payment."
    )
    to_status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system (processor simulation) made the change.",
    )
    actor_name = models.CharField(max_length=150, help_text="Username at the time, or 'system'.")
    reason = models.CharField(max_length=500, blank=True)
    failure_code = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payment", "created_at", "id"], name="payment_event_order")]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.from_status or '∅'} -> {self.to_status}"

    @property
    def from_status_label(self) -> str:
        """``from_status`` has no choices (it is empty for the creation), so no display method."""
        return PaymentStatus(self.from_status).label if self.from_status else ""


# --- refunds -----------------------------------------------------------------------------------


def new_refund_id() -> str:
    return "re_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(ConcurrentTransitionMixin, models.Model):
    """Money returned on a succeeded payment, in part or in full; the processor confirms it.

    The sum of pending and succeeded refunds never exceeds the payment's amount: the one
    service that creates refunds holds the payment's row lock while it adds them up.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_refund_id, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(help_text="Minor units of the payment's currency.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    reason = models.CharField(max_length=500)
    status = FSMField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING, protected=True
    )
    failure_code = models.CharField(max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds_created",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payment", "status"], name="refund_payment_status")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=RefundStatus.values), name="refund_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {format_money(self.amount, self.currency)} {self.status}"

    @property
    def money(self) -> str:
        return format_money(self.amount, self.currency)

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.SUCCEEDED)
    def succeed(self):
        pass

    @transition(field=status, source=RefundStatus.PENDING, target=RefundStatus.FAILED)
    def fail(self, *, code: str):
        self.failure_code = code


class RefundEvent(AppendOnlyModel):
    """One row per refund status change (and its creation). Never edited."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=RefundStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True)
    failure_code = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.refund_id}: {self.from_status or '∅'} -> {self.to_status}"


# --- the processor's webhooks --------------------------------------------------------------------


class EventOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored"
    UNKNOWN_PAYMENT = "unknown_payment", "Unknown payment (kept)"


class ProcessorEvent(models.Model):
    """Each processor event id, stored once: the transaction that applies it also records it."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=40)
    payment_ref = models.CharField(max_length=32, db_index=True)
    refund_ref = models.CharField(max_length=32, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    created = models.BigIntegerField(help_text="The processor's unix time for the event.")
    outcome = models.CharField(max_length=20, choices=EventOutcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["payment_ref", "outcome", "created"], name="pevent_applied")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} {self.outcome}"


class SignatureVerdict(models.TextChoices):
    VALID = "valid", "Valid"
    MISSING = "missing", "Missing header"
    MALFORMED = "malformed", "Malformed header"
    MISMATCH = "mismatch", "Signature does not match"
    STALE = "stale", "Timestamp outside tolerance"


class DeliveryOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    UNKNOWN_PAYMENT = "unknown_payment", "Unknown payment (kept)"
    REJECTED = "rejected", "Rejected"


class WebhookDelivery(models.Model):
    """Every POST to the webhook endpoint, accepted or not, for the webhook log."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    verdict = models.CharField(max_length=20, choices=SignatureVerdict.choices)
    outcome = models.CharField(max_length=20, choices=DeliveryOutcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField()
    event_id = models.CharField(max_length=64, blank=True, db_index=True)
    event_type = models.CharField(max_length=40, blank=True)
    payment_ref = models.CharField(max_length=32, blank=True, db_index=True)
    raw_body = models.TextField(help_text="As received, secrets redacted, cut at 64 KiB.")
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["-received_at", "-id"], name="delivery_newest")]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.event_id or '-'} {self.outcome}"


class JanitorRun(models.Model):
    """One janitor pass: what it looked at, resolved and could not resolve."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=120)
    examined = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    unresolved = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    unresolved_refs = models.JSONField(default=list)
    notes = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"janitor {self.started_at:%Y-%m-%d %H:%M:%S}: {self.resolved}/{self.examined}"


class JanitorLease(models.Model):
    """One row: who may run the janitor now (SQLite has no advisory locks)."""

    name = models.CharField(max_length=40, unique=True)
    holder = models.CharField(max_length=120, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'} until {self.expires_at}"


class SimulatedProcessorRecord(models.Model):
    """The simulated processor's own memory: the last answer it decided for a payment.

    In production this lives at the processor; the janitor asks it through
    ``payments.processor.payment_status``, never by reading PayFlow's payment.
    """

    payment_ref = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=20)
    failure_code = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"processor says {self.payment_ref} is {self.status}"
