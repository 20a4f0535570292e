"""Reads: actions per role, attention, the summary for the overview, currencies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payflow.currencies import CURRENCIES, format_money, parse_major_amount
from payments.models import Payment
from payments.selectors import payment_actions, payment_attention, payment_attention_summary

pytestmark = pytest.mark.django_db

ISO_4217_EXPONENTS = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "HUF": 2,
    "CZK": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "VND": 0,
    "PYG": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "RWF": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}


@pytest.mark.parametrize(("code", "exponent"), ISO_4217_EXPONENTS.items())
def test_currency_exponents_are_iso_4217s(code, exponent):
    assert CURRENCIES[code].exponent == exponent


@pytest.mark.parametrize(
    ("amount", "code", "text"),
    [
        (1250, "USD", "12.50 USD"),
        (1250, "JPY", "1,250 JPY"),
        (1250, "KWD", "1.250 KWD"),
        (123456789, "EUR", "1,234,567.89 EUR"),
    ],
)
def test_money_formatting_uses_the_exponent(amount, code, text):
    assert format_money(amount, code) == text


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [("12.50", "USD", 1250), ("1,500", "JPY", 1500), ("1.25", "KWD", 1250), ("7", "BHD", 7000)],
)
def test_major_amounts_parse_exactly(text, code, minor):
    assert parse_major_amount(text, code) == minor


def test_viewer_actions_are_all_refused_with_a_role_reason(viewer, payment_factory):
    actions = payment_actions(payment=payment_factory(), user=viewer)
    submit = next(a for a in actions if a.to == "submitted")
    assert not submit.allowed
    assert submit.reason.startswith("You need the Operator role")
    assert not any(a.allowed for a in actions)


def test_operator_actions_follow_the_table(operator, payment_factory):
    actions = payment_actions(payment=payment_factory(status="requires_action"), user=operator)
    assert {a.to for a in actions if a.allowed} == {"processing", "succeeded", "failed", "canceled"}
    assert len(actions) == 7


def test_submit_is_blocked_when_amount_exceeds_a_lowered_ceiling(
    operator, payment_factory, settings
):
    payment = payment_factory(amount=5000)
    settings.PAYMENT_AMOUNT_CEILING_MINOR = 1000
    submit = next(a for a in payment_actions(payment=payment, user=operator) if a.to == "submitted")
    assert not submit.allowed
    assert "ceiling" in submit.reason


def test_attention_summary_counts_and_examples(payment_factory):
    payment_factory(status="requires_action", beneficiary_name="Needs 3DS")
    stuck = payment_factory(status="processing")
    Payment.objects.filter(pk=stuck.pk).update(
        status_changed_at=timezone.now() - timedelta(hours=2)
    )
    payment_factory(status="processing")
    payment_factory(status="succeeded")
    summary = payment_attention_summary(stuck_after_seconds=900)
    assert summary["requires_action"] == 1
    assert summary["stuck_processing"] == 1
    assert [e["id"] for e in summary["examples"]][0] == stuck.public_id
    assert {e["status"] for e in summary["examples"]} == {"requires_action", "processing"}
    assert set(summary["examples"][0]) == {
        "id",
        "status",
        "amount",
        "currency",
        "beneficiary",
        "since",
    }


def test_attention_of_a_long_processing_payment_is_a_warning(payment_factory):
    payment = payment_factory(status="processing")
    later = payment.status_changed_at + timedelta(hours=1)
    assert payment_attention(payment=payment, now=later).level == "warning"
    assert not payment_attention(payment=payment).required
