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


class AppendOnlyError(Exception):
    pass


class PaymentEvent(models.Model):
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

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Payment history is append-only; rows are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Payment history is append-only; rows are never deleted.")
