"""Every (from, to) pair of states: the legal moves succeed, every other one changes nothing."""

import itertools

import pytest

from payments.models import Payment, PaymentEvent
from payments.transitions import ALL_STATES, LEGAL_TRANSITIONS, blocked_reason
from transactions.models import StreamEvent, Transaction

pytestmark = pytest.mark.django_db

DOCUMENTED_TABLE = {
    "draft": {"submitted", "canceled"},
    "submitted": {"processing", "failed", "canceled"},
    "processing": {"requires_action", "succeeded", "failed"},
    "requires_action": {"processing", "succeeded", "failed", "canceled"},
    "succeeded": set(),
    "failed": set(),
    "canceled": set(),
}
PAIRS = list(itertools.product(ALL_STATES, ALL_STATES))


def test_the_transition_table_is_exactly_specs():
    assert {state: set(targets) for state, targets in LEGAL_TRANSITIONS.items()} == DOCUMENTED_TABLE


def test_the_model_methods_allow_exactly_specs_moves():
    from payments.models import TRANSITION_METHODS

    allowed = {state: set() for state in ALL_STATES}
    for target, method_name in TRANSITION_METHODS.items():
        for fsm_transition in getattr(Payment, method_name)._django_fsm.transitions.values():
            assert fsm_transition.target == target
            allowed[fsm_transition.source].add(target)
    assert allowed == DOCUMENTED_TABLE


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_blocked_pair_has_a_human_reason(source, target):
    reason = blocked_reason(source, target)
    if target in DOCUMENTED_TABLE[source]:
        assert reason is None
    else:
        assert reason
        assert reason.endswith(".")
        assert len(reason) > 20


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_transition_pair_through_the_api(source, target, payment_factory, operator_api):
    payment = payment_factory(status=source)
    history_before = PaymentEvent.objects.filter(payment=payment).count()
    events_before = StreamEvent.objects.count()
    transactions_before = Transaction.objects.count()

    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": target, "reason": "pair test"},
        content_type="application/json",
    )

    after = Payment.objects.get(pk=payment.pk)
    if target in DOCUMENTED_TABLE[source]:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == target
        assert after.status == target
        assert after.version == payment.version + 1
        last = PaymentEvent.objects.filter(payment=payment).last()
        assert (last.from_status, last.to_status, last.reason) == (source, target, "pair test")
        assert PaymentEvent.objects.filter(payment=payment).count() == history_before + 1
        assert StreamEvent.objects.count() == events_before + 1
        assert Transaction.objects.filter(payment_ref=payment.public_id).count() == (
            len([e for e in PaymentEvent.objects.filter(payment=payment) if e.from_status])
        )
    else:
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "illegal_transition"
        assert body["from"] == source
        assert body["to"] == target
        assert set(body["allowed"]) == DOCUMENTED_TABLE[source]
        assert body["reason"] == blocked_reason(source, target)
        assert set(body) >= {"code", "message", "fields"}
        assert (after.status, after.version, after.updated_at) == (
            payment.status,
            payment.version,
            payment.updated_at,
        )
        assert PaymentEvent.objects.filter(payment=payment).count() == history_before
        assert StreamEvent.objects.count() == events_before
        assert Transaction.objects.count() == transactions_before


def test_processing_cannot_be_canceled_and_says_why(payment_factory, operator_api):
    payment = payment_factory(status="processing")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "canceled"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["reason"] == (
        "A payment already at the processor cannot be canceled; wait for it to succeed or fail."
    )
    assert response.json()["allowed"] == ["requires_action", "succeeded", "failed"]
