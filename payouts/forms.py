"""Payout forms: reconciliation (page and admin), pay again, and the CSV batch upload."""

import secrets

from django import forms

from payflow.currencies import CURRENCIES
from payouts.models import Rail
from payouts.settlement import CALENDARS, MAX_BUSINESS_DAYS
from payouts.transitions import RECONCILIATION_OUTCOMES, BatchStatus, ItemStatus

NOTE_REQUIRED = "A note is required: say what the bank confirmed and how."
ITEM_OUTCOMES = [
    ("", "No change"),
    (ItemStatus.SETTLED, "Settled"),
    (ItemStatus.FAILED, "Failed"),
    (ItemStatus.RETURNED, "Returned"),
]


class ReconciliationForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome the bank confirmed",
        required=False,
        choices=[("", "Follow from the items")]
        + [(o.value, o.label) for o in RECONCILIATION_OUTCOMES],
        help_text="For the whole batch: it stands for every item still pending. Leave it to "
        "follow from the per-item outcomes.",
    )
    note = forms.CharField(
        label="Note (required)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": NOTE_REQUIRED},
        help_text="What the bank confirmed, where (statement, call, portal), any follow-up.",
    )
    bank_reference = forms.CharField(
        label="Bank reference (optional)", required=False, max_length=64
    )
    seen_reconciliation = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, allowed_outcomes=None, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        if allowed_outcomes is not None:
            self.fields["outcome"].choices = [("", "Follow from the items")] + [
                (value, BatchStatus(value).label) for value in allowed_outcomes
            ]
        # One outcome per item the bank can still answer for (pending or not yet confirmed).
        self.item_rows = []
        for item in items:
            if item.status != ItemStatus.PENDING and item.confirmed_at is not None:
                continue
            # Labelled by aria-label: a visually hidden <label> in a scrolled table would
            # widen the page at 390 px.
            outcome = forms.ChoiceField(
                label=f"Outcome of {item.public_id}",
                required=False,
                choices=ITEM_OUTCOMES,
                widget=forms.Select(attrs={"aria-label": f"Outcome of {item.public_id}"}),
            )
            reason = forms.CharField(
                label=f"Reason code for {item.public_id}",
                required=False,
                max_length=40,
                widget=forms.TextInput(
                    attrs={"aria-label": f"Reason code for {item.public_id}", "size": 6}
                ),
            )
            self.fields[f"item_{item.public_id}"] = outcome
            self.fields[f"reason_{item.public_id}"] = reason
            self.item_rows.append(item)

    def item_bound_rows(self):
        return [
            (item, self[f"item_{item.public_id}"], self[f"reason_{item.public_id}"])
            for item in self.item_rows
        ]

    def item_results(self):
        from payouts.services import ItemResult

        results = []
        for item in self.item_rows:
            outcome = self.cleaned_data.get(f"item_{item.public_id}")
            if outcome:
                results.append(
                    ItemResult(
                        item_id=item.public_id,
                        outcome=outcome,
                        reason_code=self.cleaned_data.get(f"reason_{item.public_id}", ""),
                    )
                )
        return results

    def add_service_error(self, error) -> None:
        """Put a refused service call on the form: per field when it names one."""
        if error.fields:
            for name, messages in error.fields.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.message)

    def reconcile(self, *, batch_id: str, actor, source: str):
        """Validate, then call the one reconciliation service; errors land on the form."""
        from payouts.services import PayoutError, payout_batch_reconcile

        if not self.is_valid():
            return None
        items = self.item_results()
        if not self.cleaned_data["outcome"] and not items:
            self.add_error("outcome", "Choose the batch's outcome, or give an item's outcome.")
            return None
        try:
            return payout_batch_reconcile(
                batch_id=batch_id,
                outcome=self.cleaned_data["outcome"] or None,
                items=items,
                note=self.cleaned_data["note"],
                bank_reference=self.cleaned_data["bank_reference"],
                actor=actor,
                source=source,
                seen_reconciliation_id=self.cleaned_data.get("seen_reconciliation"),
            )
        except PayoutError as error:
            self.add_service_error(error)
            return None


class PayAgainForm(forms.Form):
    account = forms.CharField(
        label="Account to pay",
        max_length=64,
        help_text="Correct it if the failure was the account (e.g. R03 no account, R04 invalid).",
        error_messages={"required": "Give the account to pay."},
    )
    confirm = forms.CharField(widget=forms.HiddenInput, required=False)


def new_idempotency_key() -> str:
    return "page-" + secrets.token_hex(16)


class BatchUploadForm(forms.Form):
    name = forms.CharField(label="Batch name", max_length=120)
    currency = forms.ChoiceField(
        label="Currency", choices=[(code, code) for code in sorted(CURRENCIES)], initial="USD"
    )
    rail = forms.ChoiceField(label="Rail", choices=Rail.choices)
    business_days = forms.IntegerField(
        label="Settles after (business days, T+N)",
        min_value=0,
        max_value=MAX_BUSINESS_DAYS,
        initial=1,
    )
    calendar = forms.ChoiceField(
        label="Holiday calendar",
        required=False,
        choices=[("", "The rail's own")] + [(key, key) for key in CALENDARS],
    )
    file = forms.FileField(
        label="Items (CSV)",
        required=False,
        help_text="Columns: recipient_name, account, amount (major units, e.g. 12.50), "
        "reference (optional).",
    )
    csv_text = forms.CharField(widget=forms.HiddenInput, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)
    submit_now = forms.BooleanField(label="Send to the bank now", required=False, initial=True)
