"""Forms of the payments pages: the filters of the list, the create form, a transition."""

import uuid
from datetime import UTC, datetime, time, timedelta

from django import forms

from payflow.currencies import CURRENCIES, CURRENCY_CHOICES, parse_major_amount
from payments.models import PaymentMethod
from payments.selectors import PaymentFilters
from payments.transitions import ALL_STATES, FAILURE_CODES, PaymentStatus

# Service field names (as the API names them) -> this form's field names.
SERVICE_FIELDS = {
    "beneficiary.name": "beneficiary_name",
    "beneficiary.account": "beneficiary_account",
    "submit": "submit_now",
}


class PaymentFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *PaymentStatus.choices]
    )
    currency = forms.ChoiceField(
        label="Currency", required=False, choices=[("", "Any currency"), *CURRENCY_CHOICES]
    )
    amount_min = forms.CharField(
        label="Amount from",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 100.00"}),
    )
    amount_max = forms.CharField(
        label="Amount to",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "e.g. 5000"}),
    )
    created_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    stuck = forms.BooleanField(label="Processing too long", required=False)
    refunded = forms.ChoiceField(
        label="Refunds",
        required=False,
        choices=[("", "Any"), ("yes", "Refunded"), ("no", "Not refunded")],
    )

    def _amount(self, name: str) -> int | None:
        raw = self.cleaned_data.get(name, "")
        if not raw:
            return None
        currency = self.cleaned_data.get("currency")
        if not currency:
            self.add_error(name, "Choose a currency to filter by amount.")
            return None
        try:
            return parse_major_amount(raw, currency)
        except ValueError as exc:
            self.add_error(name, str(exc))
            return None

    def clean(self):
        cleaned = super().clean()
        cleaned["amount_min_minor"] = self._amount("amount_min")
        cleaned["amount_max_minor"] = self._amount("amount_max")
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> PaymentFilters:
        """The valid filters; a field with an error is left out (its error is shown)."""
        data = self.cleaned_data if self.is_bound else {}
        start, end = data.get("created_from"), data.get("created_to")
        return PaymentFilters(
            status=data.get("status") or None,
            currency=data.get("currency") or None,
            created_from=datetime.combine(start, time.min, UTC) if start else None,
            created_to=datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None,
            amount_min=data.get("amount_min_minor"),
            amount_max=data.get("amount_max_minor"),
            q=data.get("q") or "",
            stuck=bool(data.get("stuck")),
            refunded={"yes": True, "no": False}.get(data.get("refunded") or ""),
        )


class PaymentForm(forms.Form):
    amount = forms.CharField(
        label="Amount",
        max_length=30,
        help_text="In the currency's units, e.g. 12.50 USD, 1500 JPY, 1.250 KWD.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES, initial="USD")
    beneficiary_name = forms.CharField(label="Beneficiary name", max_length=120)
    beneficiary_account = forms.CharField(
        label="Beneficiary account", max_length=64, help_text="IBAN, account number or card token."
    )
    method = forms.ChoiceField(label="Method", choices=PaymentMethod.choices)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    submit_now = forms.BooleanField(label="Submit for processing now", required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    def clean(self):
        cleaned = super().clean()
        currency, raw = cleaned.get("currency"), cleaned.get("amount")
        if currency in CURRENCIES and raw:
            try:
                cleaned["amount_minor"] = parse_major_amount(raw, currency)
            except ValueError as exc:
                self.add_error("amount", str(exc))
        return cleaned

    def payment_input(self) -> dict:
        data = self.cleaned_data
        return {
            "amount": data["amount_minor"],
            "currency": data["currency"],
            "beneficiary_name": data["beneficiary_name"],
            "beneficiary_account": data["beneficiary_account"],
            "method": data["method"],
            "description": data.get("description", ""),
            "submit": data.get("submit_now", False),
        }

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            field = SERVICE_FIELDS.get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=[(state, state) for state in ALL_STATES])
    reason = forms.CharField(required=False, max_length=500)
    failure_code = forms.ChoiceField(
        required=False, choices=[("", "—"), *FAILURE_CODES.items()], label="Failure code"
    )
    expected_version = forms.IntegerField(required=False, min_value=1)


class SimulateForm(forms.Form):
    """A processor answer to play: the simulated processor sends it as a signed webhook."""

    to = forms.ChoiceField(choices=[(s, s) for s in ("processing", "requires_action",
                                                       "succeeded", "failed")])  # fmt: skip
    failure_code = forms.ChoiceField(required=False, choices=[("", "—"), *FAILURE_CODES.items()])


class RefundForm(forms.Form):
    amount = forms.CharField(
        label="Amount to refund",
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(label="Reason (recorded in the history)", max_length=500)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        try:
            return parse_major_amount(self.cleaned_data["amount"], self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    @staticmethod
    def new_key() -> str:
        return f"refund-form-{uuid.uuid4()}"
