"""Random sequences of payout writes keep the money invariants after every step.

Creations (keyed, some retried), the rail's item reports, confirmed item results (as a
statement import sends them), batch-level moves, manual reconciliations (per item and batch
level) and pay again, in any order. After each step: amounts add up for every batch; no item
is both counted settled and paid again; batch statuses agree with their items; an item whose
settlement was confirmed only ever becomes returned; one batch per Idempotency-Key.
"""

from collections import Counter

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from payflow.exceptions import DomainError
from payouts.models import PayoutBatch, PayoutItem, PayoutReconciliation
from payouts.services import (
    BatchInput,
    ItemResult,
    NewItem,
    payout_batch_create_idempotent,
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_results_record,
    payout_item_retry,
)
from payouts.transitions import BatchStatus
from tests.payouts.invariants import assert_payout_invariants

SEEN: Counter = Counter()  # what the runs did, so the test can show it exercised each write
KEYS = ["k1", "k2", "k3", "k4", "k5", "k6"]
OUTCOMES = ["settled", "failed", "returned"]
CODES = ["", "R01", "R03", "AC04"]
BATCH_OUTCOMES = [None, "settled", "partially_settled", "failed", "returned"]


def machine_for(user):
    class PayoutMachine(RuleBasedStateMachine):
        batches = Bundle("batches")
        items = Bundle("items")

        def __init__(self):
            super().__init__()
            # Each run happens inside a savepoint that teardown rolls back: runs never mix.
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.key_use: dict[str, tuple] = {}
            self.confirmed_settled: set[str] = set()
            self.reconciliations = 0

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        def _try(self, label, write):
            """Run one write; a refusal (any DomainError) must change nothing."""
            before = self._snapshot()
            try:
                with transaction.atomic():
                    done = write()
            except DomainError as error:
                event(f"{label}: refused {error.code}")
                SEEN[f"{label}: refused {error.code}"] += 1
                assert self._snapshot() == before
                return None
            event(f"{label}: done")
            SEEN[f"{label}: done"] += 1
            return done

        def _snapshot(self):
            return (
                sorted(PayoutItem.objects.values_list("public_id", "status", "confirmed_at")),
                sorted(PayoutBatch.objects.values_list("public_id", "status")),
                PayoutReconciliation.objects.count(),
            )

        @rule(
            target=items,
            key=st.sampled_from(KEYS),
            currency=st.sampled_from(["USD", "JPY"]),
            amounts=st.lists(st.integers(1, 10**6), min_size=1, max_size=4),
            submit=st.booleans(),
        )
        def create(self, key, currency, amounts, submit):
            data = BatchInput(
                name="Stateful",
                currency=currency,
                rail="ach",
                business_days=1,
                submit=submit,
                items=[NewItem(f"R{n}", f"acct-{n}", amount) for n, amount in enumerate(amounts)],
            )
            meaning = (currency, tuple(amounts), submit)
            outcome = self._try(
                "create",
                lambda: payout_batch_create_idempotent(
                    user=user,
                    idempotency_key=key,
                    data=data,
                    source="test",
                    render=lambda batch: {"id": batch.public_id},
                ),
            )
            if key in self.key_use and self.key_use[key][0] != meaning:
                assert outcome is None  # reused with another body: refused
                return multiple()
            assert outcome is not None
            if key in self.key_use:
                assert outcome.replayed
                assert outcome.body["id"] == self.key_use[key][1]
                return multiple()
            self.key_use[key] = (meaning, outcome.body["id"])
            ids = PayoutItem.objects.filter(batch__public_id=outcome.body["id"]).values_list(
                "public_id", flat=True
            )
            return multiple(*ids)

        @rule(
            item=items,
            to=st.sampled_from(["in_transit", *BATCH_OUTCOMES[1:]]),
            code=st.sampled_from(CODES),
        )
        def move_batch(self, item, to, code):
            batch_id = PayoutItem.objects.get(public_id=item).batch.public_id
            for step in ("processing", to) if to == "in_transit" else (to,):
                self._try(
                    "move",
                    lambda step=step: payout_batch_transition(
                        batch_id=batch_id, to=step, reason="rail", reason_code=code
                    ),
                )

        @rule(
            chosen=st.lists(items, min_size=1, max_size=3, unique=True),
            outcome=st.sampled_from(OUTCOMES),
            code=st.sampled_from(CODES),
            confirmed=st.booleans(),
            line=st.sampled_from([None, "bsl_1", "bsl_2"]),
        )
        def item_results(self, chosen, outcome, code, confirmed, line):
            results = [
                ItemResult(item_id, outcome, reason_code=code, statement_line_id=line)
                for item_id in chosen
            ]
            self._try(
                "item results",
                lambda: payout_item_results_record(
                    results=results, actor=None, source="statement", confirmed=confirmed
                ),
            )

        @rule(
            item=items,
            outcome=st.sampled_from(BATCH_OUTCOMES),
            item_outcome=st.sampled_from([None, *OUTCOMES]),
            code=st.sampled_from(CODES),
        )
        def reconcile(self, item, outcome, item_outcome, code):
            batch_id = PayoutItem.objects.get(public_id=item).batch.public_id
            given = [ItemResult(item, item_outcome, reason_code=code)] if item_outcome else []
            done = self._try(
                "reconcile",
                lambda: payout_batch_reconcile(
                    batch_id=batch_id,
                    outcome=outcome,
                    items=given,
                    note="Checked with the bank",
                    actor=user,
                    source="test",
                ),
            )
            if done is not None:
                self.reconciliations += 1

        @rule(item=items, account=st.sampled_from([None, "corrected-1"]))
        def pay_again(self, item, account):
            self._try(
                "pay again",
                lambda: payout_item_retry(
                    item_id=item, actor=user, source="test", account_reference=account
                ),
            )

        @invariant()
        def money_adds_up_and_statuses_agree(self):
            assert_payout_invariants()

        @invariant()
        def a_confirmed_settlement_only_ever_becomes_a_return(self):
            for public_id in self.confirmed_settled:
                status = PayoutItem.objects.get(public_id=public_id).status
                assert status in ("settled", "returned")
            self.confirmed_settled |= set(
                PayoutItem.objects.filter(status="settled", confirmed_at__isnull=False).values_list(
                    "public_id", flat=True
                )
            )

        @invariant()
        def one_batch_per_key_and_one_record_per_reconciliation(self):
            originals = PayoutBatch.objects.filter(name="Stateful")
            assert originals.count() == len(self.key_use)
            assert PayoutReconciliation.objects.count() == self.reconciliations

        @invariant()
        def submitted_batches_never_claim_more_than_items(self):
            for batch in PayoutBatch.objects.filter(status=BatchStatus.SETTLED):
                assert not batch.items.exclude(status="settled").exists()

    return PayoutMachine


@pytest.mark.django_db
def test_random_payout_sequences_keep_the_money_invariants(operator):
    run_state_machine_as_test(
        machine_for(operator),
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # Every kind of write both succeeded and was refused at least once.
    for label in ("create", "move", "item results", "reconcile", "pay again"):
        assert SEEN[f"{label}: done"] > 0, SEEN
