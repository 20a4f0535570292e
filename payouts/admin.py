"""Django admin for payouts: a read-only view with the needs-attention filter, and the
"Reconcile selected batches" action (an intermediate form that requires the note), which uses
the same reconciliation service as the page and the API."""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.template.response import TemplateResponse
from django.utils import timezone

from payflow.accounts.roles import Action, can
from payflow.admin_access import RoleGatedReadOnlyAdmin, RoleGatedReadOnlyInline
from payflow.formatting import plural
from payflow.models import HISTORY_ORDER
from payouts.attention import action_required_q, batch_attention
from payouts.forms import ReconciliationForm
from payouts.models import PayoutBatch, PayoutBatchEvent, PayoutItem
from payouts.selectors import item_totals_for
from payouts.services import PayoutError, payout_batch_reconcile
from payouts.templatetags.payouts_tags import money


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("1", "Action required"), ("0", "No action required")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(action_required_q(timezone.now()))
        if self.value() == "0":
            return queryset.exclude(action_required_q(timezone.now()))
        return queryset


class PayoutItemInline(RoleGatedReadOnlyInline):
    model = PayoutItem
    fk_name = "batch"
    fields = [
        "public_id",
        "recipient_name",
        "account_reference",
        "amount",
        "status",
        "reason_code",
        "failure_message",
        "bank_reference",
        "confirmed_amount",
        "confirmed_at",
        "statement_line_id",
        "retry_of",
    ]
    readonly_fields = fields


class PayoutBatchEventInline(RoleGatedReadOnlyInline):
    model = PayoutBatchEvent
    verbose_name_plural = "history (append-only)"
    fields = ["created_at", "kind", "from_status", "to_status", "actor_name", "source", "reason"]
    readonly_fields = fields
    ordering = HISTORY_ORDER


class PayoutChangeList(ChangeList):
    """Derives each shown batch's totals and attention with one query for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        now = timezone.now()
        totals = item_totals_for([batch.pk for batch in self.result_list])
        for batch in self.result_list:
            batch.totals = totals[batch.pk]
            batch.attention = batch_attention(batch, batch.totals, now)


@admin.register(PayoutBatch)
class PayoutBatchAdmin(RoleGatedReadOnlyAdmin):
    list_display = [
        "public_id",
        "name",
        "status",
        "attention",
        "total",
        "breakdown",
        "rail",
        "business_days",
        "expected_settlement_date",
    ]
    list_filter = [NeedsAttentionFilter, "status", "rail", "currency", "calendar"]
    search_fields = ["=public_id", "=items__bank_reference", "=reconciliations__bank_reference"]
    search_help_text = "Search by batch id (po_…) or bank reference."
    inlines = [PayoutItemInline, PayoutBatchEventInline]
    actions = ["reconcile_selected"]
    list_per_page = 50
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return PayoutChangeList

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="Attention")
    def attention(self, batch):
        attention = getattr(batch, "attention", None)
        if attention is None:
            totals = item_totals_for([batch.pk])[batch.pk]
            attention = batch_attention(batch, totals, timezone.now())
        return f"{attention.headline}: {attention.reason}"

    @admin.display(description="Total")
    def total(self, batch):
        totals = getattr(batch, "totals", None) or item_totals_for([batch.pk])[batch.pk]
        return f"{money(totals.amount, batch.currency)} ({plural(totals.count, 'item')})"

    @admin.display(description="Settled / failed / returned / pending")
    def breakdown(self, batch):
        """From the items' confirmed states; the four always add up to the total."""
        totals = getattr(batch, "totals", None) or item_totals_for([batch.pk])[batch.pk]
        amounts = totals.amounts_json
        return " / ".join(
            money(amounts[key], batch.currency)
            for key in ("settled", "failed", "returned", "pending")
        )

    # Read-only (RoleGatedReadOnlyAdmin): batches come from the payout pipeline, not hand-made.
    def has_reconcile_permission(self, request):
        return can(request.user, Action.USE_ADMIN) and can(request.user, Action.RECONCILE_PAYOUT)

    @admin.action(description="Reconcile selected batches", permissions=["reconcile"])
    def reconcile_selected(self, request, queryset):
        batches = list(queryset.order_by("pk"))
        form = ReconciliationForm(request.POST if "apply" in request.POST else None)
        # Several batches at once: only a batch-level outcome (per item is on the batch page).
        form.fields["outcome"].required = True
        form.fields["outcome"].choices = form.fields["outcome"].choices[1:]
        form.fields["outcome"].error_messages["required"] = "Choose the outcome the bank confirmed."
        if "apply" in request.POST and form.is_valid():
            self._reconcile_each(request, batches, form.cleaned_data)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reconcile selected batches",
            "opts": self.model._meta,
            "batches": batches,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payouts/reconcile_intermediate.html", context)

    def _reconcile_each(self, request, batches, data) -> None:
        done = 0
        for batch in batches:
            try:
                payout_batch_reconcile(
                    batch_id=batch.public_id,
                    outcome=data["outcome"] or None,
                    note=data["note"],
                    bank_reference=data["bank_reference"],
                    actor=request.user,
                    source="admin",
                )
                done += 1
            except PayoutError as error:
                refusal = f"Batch {batch.public_id}: {error.message}"
                self.message_user(request, refusal, messages.ERROR)
        if done:
            self.message_user(request, f"Reconciled {done} batch(es).", messages.SUCCESS)
