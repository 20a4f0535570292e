"""Hypothesis drives random creations, retries and transitions; the invariants must always hold.

Invariants: the status is reachable from draft by legal steps; the history replays to the
current status; a terminal status never changes; one payment per idempotency key.
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from payflow.idempotency.errors import IdempotencyKeyReused
from payflow.idempotency.models import IdempotencyKey
from payments.errors import IllegalTransition
from payments.models import Payment, PaymentEvent
from payments.services import payment_create_idempotent, payment_transition
from payments.transitions import ALL_STATES, TERMINAL_STATES, PaymentStatus, is_legal
from tests.payments.factories import payment_input

KEYS = ["key-a", "key-b", "key-c", "key-d"]
AMOUNTS = [100, 2500]


def machine_for(user):
    class PaymentMachine(RuleBasedStateMachine):
        payments = Bundle("payments")

        def __init__(self):
            super().__init__()
            # Each run happens inside a savepoint that teardown rolls back: runs never mix.
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.status: dict[str, str] = {}  # public id -> status the model expects
            self.key_use: dict[str, tuple[int, bool, str]] = {}  # key -> (amount, submit, id)

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        @rule(
            target=payments,
            key=st.sampled_from(KEYS),
            amount=st.sampled_from(AMOUNTS),
            submit=st.booleans(),
        )
        def create_or_retry(self, key, amount, submit):
            data = payment_input(amount=amount, submit=submit)
            previous = self.key_use.get(key)
            if previous is not None and previous[:2] != (amount, submit):
                with pytest.raises(IdempotencyKeyReused):
                    payment_create_idempotent(user=user, idempotency_key=key, data=data)
                return previous[2]
            outcome = payment_create_idempotent(user=user, idempotency_key=key, data=data)
            if previous is None:
                assert not outcome.replayed
                self.key_use[key] = (amount, submit, outcome.body["id"])
                self.status[outcome.body["id"]] = "submitted" if submit else "draft"
            else:
                assert outcome.replayed
                assert outcome.body["id"] == previous[2]
            return outcome.body["id"]

        @rule(public_id=payments, target_state=st.sampled_from(ALL_STATES))
        def transition(self, public_id, target_state):
            current = self.status[public_id]
            if is_legal(current, target_state):
                payment_transition(public_id=public_id, to=target_state, actor=user)
                self.status[public_id] = target_state
            else:
                with pytest.raises(IllegalTransition):
                    payment_transition(public_id=public_id, to=target_state, actor=user)

        @invariant()
        def database_matches_the_model(self):
            actual = dict(Payment.objects.values_list("public_id", "status"))
            assert actual == self.status

        @invariant()
        def history_replays_to_the_status_by_legal_steps(self):
            # Also: a terminal status never changes, since nothing may follow it in the history.
            paths: dict[str, list[tuple[str, str]]] = {}
            for public_id, source, target in PaymentEvent.objects.order_by("id").values_list(
                "payment__public_id", "from_status", "to_status"
            ):
                paths.setdefault(public_id, []).append((source, target))
            assert set(paths) == set(self.status)
            for public_id, steps in paths.items():
                assert steps[0] == ("", PaymentStatus.DRAFT)
                state = PaymentStatus.DRAFT
                for source, target in steps[1:]:
                    assert source == state
                    assert source not in TERMINAL_STATES
                    assert is_legal(state, target)
                    state = target
                assert state == self.status[public_id]

        @invariant()
        def one_payment_per_idempotency_key(self):
            assert Payment.objects.count() == len(self.key_use)
            by_key = dict(
                IdempotencyKey.objects.filter(user=user).values_list("key", "resource_id")
            )
            assert by_key == {key: use[2] for key, use in self.key_use.items()}

    return PaymentMachine


@pytest.mark.django_db
def test_random_sequences_keep_the_invariants(operator):
    run_state_machine_as_test(
        machine_for(operator),
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
