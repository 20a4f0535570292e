"""Payments in the Django admin: read-only records; status changes only through the service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from payflow.accounts.roles import Action, can
from payflow.admin_access import RoleGatedReadOnlyAdmin, RoleGatedReadOnlyInline
from payflow.models import HISTORY_ORDER
from payments.errors import PaymentError
from payments.models import (
    JanitorRun,
    Payment,
    PaymentEvent,
    ProcessorEvent,
    Refund,
    RefundEvent,
    WebhookDelivery,
)
from payments.selectors import payment_actions
from payments.services import payment_transition
from payments.transitions import ACTION_LABELS, FAILURE_CODES, PaymentStatus


class PaymentEventInline(RoleGatedReadOnlyInline):
    model = PaymentEvent
    fields = [
        "created_at",
        "from_status",
        "to_status",
        "actor_name",
        "reason",
        "failure_code",
        "request_id",
    ]
    readonly_fields = fields
    ordering = HISTORY_ORDER


class AdminTransitionForm(forms.Form):
    to = forms.ChoiceField(label="New status")
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the history with your name.",
    )
    failure_code = forms.ChoiceField(
        label="Failure code (only for failed)",
        required=False,
        choices=[("", "—"), *FAILURE_CODES.items()],
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, allowed: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = allowed


def _bulk_transition_action(target: str):
    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for payment in queryset.order_by("pk"):  # a fixed order: no lock-order deadlocks
            try:
                payment_transition(
                    public_id=payment.public_id,
                    to=target,
                    actor=request.user,
                    reason=f"{ACTION_LABELS[target]} from the Django admin.",
                )
                moved += 1
            except PaymentError as exc:
                refused.append(f"{payment.public_id}: {exc.message}")
        if moved:
            modeladmin.message_user(request, f"{moved} payment(s) moved to {target}.")
        for line in refused:
            modeladmin.message_user(request, line, level=messages.WARNING)

    action.__name__ = f"move_to_{target}"
    action.allowed_permissions = ("transition",)
    action.short_description = f"{ACTION_LABELS[target]} (selected payments)"
    return action


@admin.register(Payment)
class PaymentAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["public_id", "status", "money", "beneficiary_name", "method", "created_at"]
    list_filter = ["status", "currency", "method", "created_at"]
    search_fields = ["public_id", "beneficiary_name", "beneficiary_account"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    inlines = [PaymentEventInline]
    readonly_fields = [
        "public_id",
        "status",
        "change_status",
        "amount",
        "currency",
        "beneficiary_name",
        "beneficiary_account",
        "description",
        "method",
        "failure_code",
        "failure_message",
        "created_by",
        "created_at",
        "updated_at",
        "status_changed_at",
        "version",
    ]
    fields = readonly_fields
    actions = [
        _bulk_transition_action(PaymentStatus.SUBMITTED),
        _bulk_transition_action(PaymentStatus.CANCELED),
    ]

    # Read-only (RoleGatedReadOnlyAdmin): payments are created through the form or the API
    # (idempotent), never deleted (cancel instead); the status moves only through transition_view.
    def has_transition_permission(self, request):
        return can(request.user, Action.USE_ADMIN) and can(request.user, Action.TRANSITION_PAYMENT)

    @admin.display(description="Change status")
    def change_status(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:payments_payment_transition", args=[obj.pk])
        return format_html('<a class="button" href="{}">Change status…</a>', url)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="payments_payment_transition",
            )
        ]
        return extra + super().get_urls()

    def transition_view(self, request, pk: int):
        """A form that moves the payment through the same service as the pages and the API."""
        if not self.has_transition_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=pk)
        allowed = [
            (action.to, f"{action.to} — {action.label}")
            for action in payment_actions(payment=payment, user=request.user)
            if action.allowed
        ]
        blocked = [
            a
            for a in payment_actions(payment=payment, user=request.user)
            if not a.allowed and a.to != payment.status
        ]
        form = AdminTransitionForm(
            request.POST or None, allowed=allowed, initial={"expected_version": payment.version}
        )
        if request.method == "POST" and form.is_valid():
            try:
                payment_transition(
                    public_id=payment.public_id,
                    actor=request.user,
                    to=form.cleaned_data["to"],
                    reason=form.cleaned_data["reason"],
                    failure_code=form.cleaned_data["failure_code"] or None,
                    expected_version=form.cleaned_data["expected_version"],
                )
            except PaymentError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"{payment.public_id} is now {form.cleaned_data['to']}.")
                return redirect("admin:payments_payment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": payment,
            "title": f"Change the status of {payment.public_id}",
            "form": form,
            "blocked": blocked,
        }
        return TemplateResponse(request, "admin/payments/payment/transition.html", context)


class RefundEventInline(RoleGatedReadOnlyInline):
    model = RefundEvent
    fields = ["created_at", "from_status", "to_status", "actor_name", "reason", "failure_code"]
    readonly_fields = fields
    ordering = HISTORY_ORDER


@admin.register(Refund)
class RefundAdmin(RoleGatedReadOnlyAdmin):
    """Read-only: refunds are created by the refund service and moved by processor webhooks."""

    list_display = ["public_id", "payment", "money", "status", "reason", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["public_id", "payment__public_id", "reason"]
    inlines = [RefundEventInline]


@admin.register(ProcessorEvent)
class ProcessorEventAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["event_id", "type", "payment_ref", "outcome", "reason", "received_at"]
    list_filter = ["outcome", "type"]
    search_fields = ["event_id", "payment_ref", "refund_ref"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["received_at", "verdict", "outcome", "event_id", "payment_ref", "status_code"]
    list_filter = ["outcome", "verdict"]
    search_fields = ["event_id", "payment_ref"]


@admin.register(JanitorRun)
class JanitorRunAdmin(RoleGatedReadOnlyAdmin):
    list_display = ["started_at", "runner", "examined", "resolved", "unresolved", "errors"]
