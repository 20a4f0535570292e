"""A Hypothesis state machine over imports (with duplicates and returns), resolutions and
approvals. After every step: each statement line matched at most once, and is either matched or
an exception; no item is settled or returned twice; item states agree with the matches."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from payflow.accounts.roles import Role
from payflow.exceptions import DomainError, Forbidden
from payouts.models import PayoutItem
from reconciliation import services
from reconciliation.models import (
    Match,
    MatchedItem,
    ReconciliationException,
    StatementLine,
)
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import BUILDERS, Entry

pytestmark = pytest.mark.django_db

FORMATS = ["camt053", "mt940", "csv"]
KINDS = ["settle", "settle_wrong_amount", "batch", "return", "junk"]


def machine_for(maker, checker):
    class ReconciliationMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.batch = make_batch(status="in_transit", items=3, amount=1_000)
            self.items = list(self.batch.items.order_by("pk"))
            self.day = self.batch.expected_settlement_date
            self.files: list[tuple[str, bytes]] = []
            self.counter = 0

        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        def _entry(self, kind, position):
            item = self.items[position]
            amount = f"{item.amount / 100:.2f}"
            if kind == "settle":
                return Entry("debit", amount, item.public_id, value_date=self.day)
            if kind == "settle_wrong_amount":
                return Entry("debit", "0.01", item.public_id, value_date=self.day)
            if kind == "batch":
                total = sum(i.amount for i in self.items)
                return Entry(
                    "debit", f"{total / 100:.2f}", self.batch.public_id, value_date=self.day
                )
            if kind == "return":
                return Entry("credit", amount, item.public_id, reason="R03", value_date=self.day)
            return Entry("debit", "3.00", "NOTHING", value_date=self.day)

        @rule(
            fmt=st.sampled_from(FORMATS),
            kinds=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2)), max_size=3),
        )
        def import_statement(self, fmt, kinds):
            self.counter += 1
            entries = [self._entry(kind, position) for kind, position in kinds]
            data = BUILDERS[fmt](
                entries, currency="USD", statement_id=f"S{self.counter}", day=self.day
            )
            before = (StatementLine.objects.count(), MatchedItem.objects.count())
            try:
                result = services.statement_import(data=data, actor=maker)
            except DomainError:
                # Refused whole (e.g. an illegal item move): nothing changed.
                assert (StatementLine.objects.count(), MatchedItem.objects.count()) == before
                return
            assert not result.duplicate
            self.files.append((fmt, data))

        @rule(choice=st.integers(0, 20))
        def import_a_duplicate(self, choice):
            if not self.files:
                return
            _fmt, data = self.files[choice % len(self.files)]
            before = StatementLine.objects.count()
            assert services.statement_import(data=data, actor=maker).duplicate
            assert StatementLine.objects.count() == before

        @rule(
            choice=st.integers(0, 20),
            action=st.sampled_from(["match", "write_off", "ignore"]),
            position=st.integers(0, 2),
            approve_as=st.sampled_from(["checker", "maker"]),
        )
        def resolve(self, choice, action, position, approve_as):
            open_ = list(ReconciliationException.objects.filter(status="open").order_by("pk"))
            if not open_:
                return
            exception = open_[choice % len(open_)]
            try:
                resolution = services.resolution_propose(
                    exception_id=exception.public_id,
                    action=action,
                    items=[self.items[position].public_id] if action == "match" else None,
                    note="checked",
                    actor=maker,
                )
            except DomainError:
                return
            if not resolution.needs_approval:
                return
            approver = checker if approve_as == "checker" else maker
            try:
                services.resolution_approve(
                    exception_id=exception.public_id,
                    resolution_id=resolution.public_id,
                    actor=approver,
                )
            except Forbidden:
                assert approver == maker  # the maker can never approve their own
                return
            except DomainError:
                return  # refused for a money reason (item already moved): nothing applied
            assert approver == checker

        @invariant()
        def each_line_is_matched_once_or_an_exception(self):
            for line in StatementLine.objects.all():
                matches = Match.objects.filter(line=line).count()
                exceptions = ReconciliationException.objects.filter(line=line).count()
                assert matches <= 1
                assert exceptions <= 1
                assert matches == 1 or exceptions == 1
                if matches and exceptions:  # matched by a resolution: its exception is resolved
                    assert ReconciliationException.objects.get(line=line).status == "resolved"

        @invariant()
        def items_agree_with_their_matches(self):
            for item in PayoutItem.objects.filter(batch=self.batch):
                outcomes = set(
                    MatchedItem.objects.filter(item_id=item.public_id).values_list(
                        "outcome", flat=True
                    )
                )
                expected = (
                    "returned"
                    if "returned" in outcomes
                    else "settled"
                    if "settled" in outcomes
                    else item.status
                )
                assert item.status == expected
                assert MatchedItem.objects.filter(item_id=item.public_id).count() == len(outcomes)

    return ReconciliationMachine


def test_reconciliation_state_machine():
    maker = UserFactory(username="maker", role=Role.OPERATOR)
    checker = UserFactory(username="checker", role=Role.OPERATOR)
    run_state_machine_as_test(
        machine_for(maker, checker),
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
