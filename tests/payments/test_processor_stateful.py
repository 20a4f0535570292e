"""Hypothesis across webhooks (new, duplicated, out of order), refunds and janitor runs.

Invariants: the payment's history is a legal path that replays to its status; pending and
succeeded refunds never exceed its amount; each event id is recorded once and, when
applied, moved the payment at most its rule's steps (never again on redelivery); refunds
only move from pending.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from payments import processor
from payments.errors import RefundExceedsRefundable, RefundNotAllowed
from payments.janitor import janitor_run
from payments.models import Payment, PaymentEvent, ProcessorEvent, Refund, RefundEvent
from payments.services import RefundInput, refund_create
from payments.signatures import HEADER
from payments.transitions import is_legal
from payments.webhooks import webhook_receive
from tests.payments.factories import make_payment

BASE = 1_800_000_000
PAYMENT_KINDS = ["processing", "requires_action", "succeeded", "failed"]


def deliver(event: dict) -> str:
    raw, headers = processor.signed(event)
    return webhook_receive(raw_body=raw, signature_header=headers[HEADER]).outcome


def machine_for(user):
    class ProcessorMachine(RuleBasedStateMachine):
        events = Bundle("events")

        def __init__(self):
            super().__init__()
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.payment = make_payment(user=user, status="submitted", amount=1000)
            self.refund_ids: list[str] = []
            self.deliveries: dict[str, int] = {}

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        @rule(target=events, kind=st.sampled_from(PAYMENT_KINDS), at=st.integers(0, 20))
        def processor_answers(self, kind, at):
            event = processor.event_body(
                type=f"payment.{kind}",
                payment_ref=self.payment.public_id,
                failure_code="card_declined" if kind == "failed" else "",
                created=BASE + at,
            )
            assert deliver(event) in {"applied", "ignored"}
            self.deliveries[event["id"]] = 1
            return event

        @rule(event=events)
        def redelivered(self, event):
            history = PaymentEvent.objects.count(), RefundEvent.objects.count()
            assert deliver(event) == "duplicate"
            assert (PaymentEvent.objects.count(), RefundEvent.objects.count()) == history

        @rule(amount=st.sampled_from([1, 250, 400, 1000, 1001]))
        def operator_refunds(self, amount):
            try:
                refund = refund_create(
                    user=user,
                    payment_id=self.payment.public_id,
                    data=RefundInput(amount=amount, reason="hypothesis"),
                )
            except (RefundNotAllowed, RefundExceedsRefundable):
                return
            self.refund_ids.append(refund.public_id)

        @rule(target=events, pick=st.integers(0, 10), kind=st.sampled_from(["succeeded", "failed"]))
        def processor_answers_refund(self, pick, kind):
            if not self.refund_ids:  # an event about a payment PayFlow never had: kept
                event = processor.event_body(type="refund.succeeded", payment_ref="pay_unknown",
                                             refund_ref="re_unknown")  # fmt: skip
                assert deliver(event) == "unknown_payment"
                return event
            event = processor.event_body(
                type=f"refund.{kind}",
                payment_ref=self.payment.public_id,
                refund_ref=self.refund_ids[pick % len(self.refund_ids)],
            )
            assert deliver(event) in {"applied", "ignored"}
            return event

        @rule(answer=st.sampled_from(["succeeded", "failed", "processing", "unknown"]))
        def janitor_pass(self, answer):
            Payment.objects.filter(pk=self.payment.pk).update(
                status_changed_at=timezone.now() - timedelta(hours=1)
            )
            janitor_run(
                stuck_after_seconds=60,
                ask=lambda payment_ref: processor.ProcessorStatus(answer, "processor_error"),
                label="hypothesis",
            )

        @invariant()
        def history_is_a_legal_path_to_the_status(self):
            payment = Payment.objects.get(pk=self.payment.pk)
            path = list(
                PaymentEvent.objects.filter(payment=payment)
                .order_by("id")
                .values_list("to_status", flat=True)
            )
            assert all(is_legal(a, b) for a, b in zip(path, path[1:], strict=False))
            assert path[-1] == payment.status

        @invariant()
        def refunds_never_exceed_the_amount(self):
            held = Refund.objects.filter(
                payment_id=self.payment.pk, status__in=["pending", "succeeded"]
            ).values_list("amount", flat=True)
            assert sum(held) <= self.payment.amount
            if Refund.objects.filter(payment_id=self.payment.pk).exists():
                assert Payment.objects.get(pk=self.payment.pk).status == "succeeded"

        @invariant()
        def each_event_applied_at_most_once(self):
            for event_id, outcome in ProcessorEvent.objects.values_list("event_id", "outcome"):
                moved = PaymentEvent.objects.filter(reason__contains=event_id).count()
                moved += RefundEvent.objects.filter(reason__contains=event_id).count()
                assert moved <= (2 if outcome == "applied" else 0)
                if outcome == "applied":
                    assert moved >= 1

        @invariant()
        def refunds_move_only_from_pending(self):
            for refund in Refund.objects.filter(payment_id=self.payment.pk):
                path = list(refund.events.order_by("id").values_list("to_status", flat=True))
                assert path[0] == "pending"
                assert len(path) <= 2
                assert path[-1] == refund.status

    return ProcessorMachine


@pytest.mark.django_db
def test_webhooks_refunds_and_janitor_keep_the_invariants(operator):
    run_state_machine_as_test(
        machine_for(operator),
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
