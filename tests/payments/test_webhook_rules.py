"""The pure webhook rules, exhaustively: every state × event type × time relation."""

import itertools

import pytest

from payments.transitions import ALL_STATES, TERMINAL_STATES, is_legal
from payments.webhook_rules import (
    PAYMENT_EVENT_TARGETS,
    REFUND_EVENT_TARGETS,
    decide_payment_event,
    decide_refund_event,
)

TIMES = [None, 90, 100, 110]  # last applied: none, older, same, newer than the event's 100
CASES = list(itertools.product(ALL_STATES, PAYMENT_EVENT_TARGETS, TIMES))


@pytest.mark.parametrize(("status", "event_type", "last"), CASES)
def test_every_decision_is_a_legal_path_or_an_explained_ignore(status, event_type, last):
    decision = decide_payment_event(
        status=status, event_type=event_type, created=100, last_applied_created=last
    )
    assert decision.reason
    if not decision.apply:
        assert decision.steps == ()
        return
    path = [status, *decision.steps]
    assert all(is_legal(a, b) for a, b in itertools.pairwise(path))
    assert decision.steps[-1] == PAYMENT_EVENT_TARGETS[event_type]


@pytest.mark.parametrize(("status", "event_type", "last"), CASES)
def test_final_and_draft_payments_never_move(status, event_type, last):
    decision = decide_payment_event(
        status=status, event_type=event_type, created=100, last_applied_created=last
    )
    if status in TERMINAL_STATES or status == "draft":
        assert not decision.apply


@pytest.mark.parametrize(("status", "event_type", "last"), CASES)
def test_final_answers_apply_from_every_open_state(status, event_type, last):
    target = PAYMENT_EVENT_TARGETS[event_type]
    decision = decide_payment_event(
        status=status, event_type=event_type, created=100, last_applied_created=last
    )
    if target in TERMINAL_STATES and status in ("submitted", "processing", "requires_action"):
        assert decision.apply


def test_processing_after_requires_action_applies_only_when_newer():
    def decide(last):
        return decide_payment_event(
            status="requires_action",
            event_type="payment.processing",
            created=100,
            last_applied_created=last,
        ).apply

    assert (decide(90), decide(100), decide(110)) == (True, False, False)


def test_requires_action_after_processing_applies_when_at_least_as_new():
    def decide(last):
        return decide_payment_event(
            status="processing",
            event_type="payment.requires_action",
            created=100,
            last_applied_created=last,
        ).apply

    assert (decide(90), decide(100), decide(110)) == (True, True, False)


def test_a_lost_processing_event_does_not_block_success():
    decision = decide_payment_event(
        status="submitted", event_type="payment.succeeded", created=1, last_applied_created=None
    )
    assert decision.steps == ("processing", "succeeded")


@pytest.mark.parametrize(
    ("status", "event_type"), list(itertools.product(["pending", "succeeded", "failed"],
                                                     REFUND_EVENT_TARGETS))
)  # fmt: skip
def test_refund_events_apply_only_to_pending_refunds(status, event_type):
    decision = decide_refund_event(refund_status=status, event_type=event_type)
    assert decision.apply == (status == "pending")
    assert decision.reason
    if decision.apply:
        assert decision.steps == (REFUND_EVENT_TARGETS[event_type],)
