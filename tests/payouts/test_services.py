"""Payout writes: status moves, history, stream events, reconciliation, no automatic retry."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from payflow import metrics
from payouts.attention import NONE, batch_attention
from payouts.models import PayoutBatch, PayoutBatchEvent, PayoutItem, PayoutReconciliation
from payouts.selectors import item_totals_for
from payouts.services import (
    AlreadyReconciled,
    IllegalTransition,
    InvalidPayoutInput,
    ItemResult,
    ItemResultRefused,
    NewItem,
    OutcomeContradictsItems,
    RetryRefused,
    latest_reconciliation_id,
    payout_batch_create,
    payout_batch_reconcile,
    payout_batch_transition,
    payout_item_record_result,
    payout_item_results_record,
    payout_item_retry,
)
from payouts.transitions import BATCH_TRANSITIONS, BatchStatus, ItemStatus
from tests.payouts.factories import make_batch
from transactions.models import Transaction

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
S = BatchStatus


def snapshot(batch):
    batch = PayoutBatch.objects.get(pk=batch.pk)
    return (
        batch.status,
        batch.reconciled_at,
        PayoutBatchEvent.objects.filter(batch=batch).count(),
        PayoutReconciliation.objects.filter(batch=batch).count(),
        Transaction.objects.filter(payout_ref=batch.public_id).count(),
        sorted(PayoutItem.objects.filter(batch=batch).values_list("status", flat=True)),
    )


def test_create_fixes_the_expected_settlement_date_and_deadline(settings):
    settings.PAYOUT_CALENDAR, settings.PAYOUT_BANK_TIME_ZONE, settings.PAYOUT_CUTOFF = (
        "US",
        "",
        "17:00",
    )
    batch = make_batch(submitted_at=dt.datetime(2026, 3, 2, 10, tzinfo=NY), business_days=2)
    assert batch.expected_settlement_date == dt.date(2026, 3, 4)
    assert batch.settlement_deadline == dt.datetime(2026, 3, 5, tzinfo=NY)
    assert (batch.calendar, batch.bank_time_zone, batch.cutoff) == (
        "US",
        "America/New_York",
        dt.time(17),
    )
    assert batch.public_id.startswith("po_")
    assert batch.events.get().kind == "created"


def test_rail_picks_its_calendar():
    assert make_batch(rail="sepa", currency="EUR").calendar == "TARGET2"
    assert make_batch(rail="faster_payments", currency="GBP").calendar == "UK"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("name", {"name": "  "}),
        ("currency", {"currency": "XXX"}),
        ("rail", {"rail": "pigeon"}),
        ("business_days", {"business_days": -1}),
        ("business_days", {"business_days": 31}),
        ("items", {"items": []}),
        ("items[0].amount", {"items": [NewItem("A", "••••1", 0)]}),
    ],
)
def test_bad_batch_input_is_refused_naming_the_field(field, kwargs):
    values = {
        "name": "Batch",
        "currency": "USD",
        "rail": "ach",
        "business_days": 1,
        "items": [NewItem("A", "••••1", 100)],
    } | kwargs
    with pytest.raises(InvalidPayoutInput) as refused:
        payout_batch_create(**values)
    assert field in refused.value.fields
    assert PayoutBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("source", "target"), list(itertools.product(BatchStatus.values, BatchStatus.values))
)
def test_every_pair_of_statuses(source, target, django_capture_on_commit_callbacks):
    batch = make_batch(status=source)
    before = snapshot(batch)
    contradicts = target == S.PARTIALLY_SETTLED or (source, target) == (
        S.PARTIALLY_SETTLED,
        S.SETTLED,
    )
    if target in BATCH_TRANSITIONS[source] and contradicts:
        # Legal in the table, but the items do not say so: only item results reach these.
        with pytest.raises(OutcomeContradictsItems):
            payout_batch_transition(batch_id=batch.public_id, to=target)
        assert snapshot(batch) == before
    elif target in BATCH_TRANSITIONS[source]:
        counter = metrics.PAYOUT_TRANSITIONS.labels(source=source, target=target)
        counted = counter._value.get()
        with django_capture_on_commit_callbacks(execute=True):
            payout_batch_transition(batch_id=batch.public_id, to=target, reason="bank file")
        assert PayoutBatch.objects.get(pk=batch.pk).status == target
        event = batch.events.order_by("-id").first()
        assert (event.from_status, event.to_status, event.reason) == (source, target, "bank file")
        stream = Transaction.objects.filter(payout_ref=batch.public_id).order_by("-id")
        assert stream.count() == before[4] + 1
        stream = stream.first()
        assert (stream.kind, stream.status, stream.amount) == ("payout", target, 30_003)
        assert counter._value.get() == counted + 1
    else:
        with pytest.raises(IllegalTransition) as refused:
            payout_batch_transition(batch_id=batch.public_id, to=target)
        assert refused.value.extra["from"] == source
        assert refused.value.extra["allowed"] == list(BATCH_TRANSITIONS[source])
        assert refused.value.extra["reason"]
        assert snapshot(batch) == before


def test_status_cannot_be_assigned_directly():
    batch = make_batch()
    with pytest.raises(AttributeError):
        batch.status = S.SETTLED


def test_model_guard_refuses_an_illegal_move():
    batch = make_batch(status=S.SETTLED)
    with pytest.raises(TransitionNotAllowed):
        batch.to_processing()


def test_history_rows_are_append_only():
    event = make_batch().events.get()
    event.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.parametrize("note", ["", "   ", "\n\t "])
def test_reconciliation_without_a_note_is_refused_and_changes_nothing(note, operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    before = snapshot(batch)
    with pytest.raises(InvalidPayoutInput) as refused:
        payout_batch_reconcile(
            batch_id=batch.public_id, outcome=S.SETTLED, note=note, actor=operator, source="api"
        )
    assert list(refused.value.fields) == ["note"]
    assert snapshot(batch) == before


def test_reconciliation_with_an_unknown_outcome_is_refused(operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    with pytest.raises(InvalidPayoutInput) as refused:
        payout_batch_reconcile(
            batch_id=batch.public_id, outcome="lost", note="n", actor=operator, source="api"
        )
    assert list(refused.value.fields) == ["outcome"]


def test_reconciliation_records_actor_time_outcome_and_moves_the_batch(operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    reconciliation = payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.SETTLED,
        note="  Bank statement line 42 confirms all items.  ",
        bank_reference="FED-20260304-77",
        actor=operator,
        source="api",
    )
    batch = PayoutBatch.objects.get(pk=batch.pk)
    assert batch.status == S.SETTLED
    assert (reconciliation.actor, reconciliation.actor_name) == (operator, operator.username)
    assert reconciliation.note == "Bank statement line 42 confirms all items."
    assert (reconciliation.from_status, reconciliation.outcome) == (
        S.REQUIRES_RECONCILIATION,
        S.SETTLED,
    )
    assert abs(reconciliation.created_at - timezone.now()) < dt.timedelta(minutes=1)
    event = batch.events.order_by("-id").first()
    assert (event.kind, event.reconciliation, event.actor) == (
        "reconciliation",
        reconciliation,
        operator,
    )
    assert set(batch.items.values_list("status", flat=True)) == {ItemStatus.SETTLED}
    assert (
        batch_attention(batch, item_totals_for([batch.pk])[batch.pk], timezone.now()).level == NONE
    )


def test_reconciliation_outcome_must_be_a_legal_move(operator):
    batch = make_batch(status=S.PROCESSING)
    before = snapshot(batch)
    with pytest.raises(IllegalTransition) as refused:
        payout_batch_reconcile(
            batch_id=batch.public_id, outcome=S.SETTLED, note="n", actor=operator, source="api"
        )
    assert refused.value.extra["from"] == S.PROCESSING
    assert refused.value.extra["to"] == S.SETTLED
    assert snapshot(batch) == before


def test_a_final_batch_takes_a_note_with_its_own_status_and_does_not_move(operator):
    batch = make_batch(status=S.FAILED)
    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.FAILED,
        note="Bank confirmed: account closed.",
        actor=operator,
        source="page",
    )
    batch = PayoutBatch.objects.get(pk=batch.pk)
    assert batch.status == S.FAILED
    assert batch.reconciled_by_name == operator.username
    event = batch.events.order_by("-id").first()
    assert (event.kind, event.from_status, event.to_status) == (
        "reconciliation",
        "failed",
        "failed",
    )


def test_a_final_batch_cannot_be_reconciled_to_another_outcome(operator):
    batch = make_batch(status=S.SETTLED)
    with pytest.raises(IllegalTransition, match="final"):
        payout_batch_reconcile(
            batch_id=batch.public_id, outcome=S.FAILED, note="n", actor=operator, source="api"
        )


def test_a_reconciliation_made_since_the_caller_looked_is_reported(operator, admin):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    seen = latest_reconciliation_id(batch.public_id)
    payout_batch_reconcile(
        batch_id=batch.public_id, outcome=S.SETTLED, note="first", actor=admin, source="admin"
    )
    before = snapshot(batch)
    with pytest.raises(AlreadyReconciled) as refused:
        payout_batch_reconcile(
            batch_id=batch.public_id,
            outcome=S.SETTLED,
            note="second",
            actor=operator,
            source="page",
            seen_reconciliation_id=seen,
        )
    assert refused.value.extra["reconciled_by"] == admin.username
    assert admin.username in refused.value.message
    assert snapshot(batch) == before


def test_reconciled_as_returned_returns_every_item(operator):
    batch = make_batch(status=S.IN_TRANSIT)
    payout_batch_reconcile(
        batch_id=batch.public_id, outcome=S.RETURNED, note="n", actor=operator, source="api"
    )
    assert set(batch.items.values_list("status", "reason_code")) == {
        (ItemStatus.RETURNED, "BATCH_RETURNED")
    }
    assert not batch.items.filter(confirmed_at__isnull=True).exists()


def test_item_results_need_a_code_to_fail():
    batch = make_batch(status=S.IN_TRANSIT)
    item = batch.items.first()
    with pytest.raises(InvalidPayoutInput) as refused:
        payout_item_record_result(item_id=item.public_id, to=ItemStatus.FAILED)
    assert list(refused.value.fields) == ["failure_code"]


def test_a_settled_item_cannot_fail_later_only_be_returned():
    batch = make_batch(status=S.SETTLED)
    item = batch.items.first()
    with pytest.raises(ItemResultRefused) as refused:
        payout_item_record_result(item_id=item.public_id, to=ItemStatus.FAILED, failure_code="R01")
    assert refused.value.status == 409
    payout_item_record_result(item_id=item.public_id, to=ItemStatus.RETURNED, failure_code="R06")
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.PARTIALLY_SETTLED


def test_a_failed_item_can_be_paid_again_only_once_its_failure_is_confirmed(operator):
    batch = make_batch(status=S.IN_TRANSIT)
    failed, *rest = batch.items.all()
    payout_item_record_result(
        item_id=failed.public_id, to="failed", failure_code="R03", failure_message="No account"
    )
    for item in rest:
        payout_item_record_result(item_id=item.public_id, to="settled")
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.PARTIALLY_SETTLED
    with pytest.raises(RetryRefused, match="reconciliation"):
        payout_item_retry(item_id=failed.public_id, actor=operator, source="page")
    assert PayoutBatch.objects.count() == 1

    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.PARTIALLY_SETTLED,
        note="Rest confirmed; R03 stands.",
        actor=operator,
        source="page",
    )
    retried = payout_item_retry(
        item_id=failed.public_id, actor=operator, source="page", account_reference="••••9999"
    )
    assert retried.retry_of == failed
    assert (retried.amount, retried.recipient_name) == (failed.amount, failed.recipient_name)
    assert retried.account_reference == "••••9999"
    assert retried.batch.status == S.PENDING
    assert retried.batch.pk != batch.pk

    with pytest.raises(RetryRefused, match="already"):
        payout_item_retry(item_id=failed.public_id, actor=operator, source="page")
    # Paid again: the original can no longer be counted settled.
    with pytest.raises(ItemResultRefused, match="paid again"):
        payout_item_results_record(
            results=[ItemResult(failed.public_id, "settled")], actor=operator, source="api"
        )


def test_a_settled_item_cannot_be_paid_again(operator):
    batch = make_batch(status=S.SETTLED)
    with pytest.raises(RetryRefused, match="failed or returned"):
        payout_item_retry(item_id=batch.items.first().public_id, actor=operator, source="page")


def test_derived_totals_always_agree_with_the_items():
    batch = make_batch(status=S.IN_TRANSIT, items=5, amount=1_000)
    items = list(batch.items.all())
    payout_item_record_result(item_id=items[0].public_id, to="settled")
    payout_item_record_result(item_id=items[1].public_id, to="failed", failure_code="R01")
    payout_item_record_result(item_id=items[2].public_id, to="settled")
    payout_item_record_result(item_id=items[2].public_id, to="returned", failure_code="R10")
    totals = item_totals_for([batch.pk])[batch.pk]
    rows = list(PayoutItem.objects.filter(batch=batch).values_list("status", "amount"))
    assert totals.count == len(rows) == 5
    assert totals.amount == sum(amount for _, amount in rows)
    for status in ItemStatus.values:
        assert totals.counts[status] == sum(1 for s, _ in rows if s == status)
        assert totals.amounts[status] == sum(a for s, a in rows if s == status)
    assert (totals.unsuccessful_count, totals.unsuccessful_amount) == (2, 1_001 + 1_002)
