"""The reconciliation form, shared by the detail page and the admin action."""

from django import forms

from payouts.transitions import RECONCILIATION_OUTCOMES, BatchStatus

NOTE_REQUIRED = "A note is required: say what the bank confirmed and how."


class ReconciliationForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome the bank confirmed",
        choices=[("", "Choose…")] + [(o.value, o.label) for o in RECONCILIATION_OUTCOMES],
        error_messages={"required": "Choose the outcome the bank confirmed."},
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

    def __init__(self, *args, allowed_outcomes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed_outcomes is not None:
            self.fields["outcome"].choices = [("", "Choose…")] + [
                (value, BatchStatus(value).label) for value in allowed_outcomes
            ]

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
        try:
            return payout_batch_reconcile(
                batch_id=batch_id,
                outcome=self.cleaned_data["outcome"],
                note=self.cleaned_data["note"],
                bank_reference=self.cleaned_data["bank_reference"],
                actor=actor,
                source=source,
                seen_reconciliation_id=self.cleaned_data.get("seen_reconciliation"),
            )
        except PayoutError as error:
            self.add_service_error(error)
            return None
