"""Statement import and the exceptions queue through the real services and payouts' interface."""

import datetime as dt

import pytest

from payflow.accounts.roles import Role
from payflow.exceptions import Conflict, Forbidden, InvalidInput
from payouts.models import PayoutItem
from reconciliation import services
from reconciliation.models import (
    BankStatement,
    ExceptionEvent,
    Match,
    MatchedItem,
    ReconciliationException,
    StatementLine,
)
from reconciliation.selectors import open_exceptions_summary
from reconciliation.statements import StatementInvalid
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, camt053, csv, mt940

pytestmark = pytest.mark.django_db


def money(minor: int) -> str:
    return f"{minor / 100:.2f}"


@pytest.fixture
def batch():
    return make_batch(status="in_transit", items=3, amount=10_000)


@pytest.fixture
def items(batch):
    return list(batch.items.order_by("pk"))


@pytest.fixture
def second_operator(db):
    return UserFactory(username="second-operator", role=Role.OPERATOR)


def on_time(batch) -> dt.date:
    return batch.expected_settlement_date


def test_import_settles_the_items_its_debits_name(operator, batch, items):
    data = camt053(
        [
            Entry("debit", money(items[0].amount), items[0].public_id, value_date=on_time(batch)),
            Entry("debit", "1.00", "SALARY", value_date=on_time(batch)),
        ],
        currency="USD",
    )
    result = services.statement_import(data=data, actor=operator)

    statement = result.statement
    assert not result.duplicate
    assert (statement.line_count, statement.matched_count, statement.exception_count) == (2, 1, 1)
    items[0].refresh_from_db()
    assert items[0].status == "settled"
    line = StatementLine.objects.get(statement=statement, index=1)
    assert MatchedItem.objects.get(match__line=line).item_id == items[0].public_id
    exc = ReconciliationException.objects.get(line__index=2, statement=statement)
    assert (exc.reason, exc.status, exc.amount) == ("unmatched_line", "open", 100)
    assert ExceptionEvent.objects.filter(exception=exc, kind="created").count() == 1


def test_the_same_statement_twice_changes_nothing(operator, batch, items):
    data = csv([Entry("debit", money(items[0].amount), items[0].public_id)], currency="USD")
    first = services.statement_import(data=data, actor=operator)
    counts = (StatementLine.objects.count(), Match.objects.count())

    again = services.statement_import(data=data, actor=operator)
    renamed = services.statement_import(data=data + b"\n", actor=operator)  # same id, new bytes

    assert again.duplicate
    assert renamed.duplicate
    assert again.statement.pk == renamed.statement.pk == first.statement.pk
    assert (StatementLine.objects.count(), Match.objects.count()) == counts
    assert BankStatement.objects.count() == 1


def test_a_bad_file_imports_nothing(operator, items):
    data = mt940([Entry("debit", "1.00", items[0].public_id)], currency="USD", closing="1.00")
    with pytest.raises(StatementInvalid):
        services.statement_import(data=data, actor=operator)
    assert BankStatement.objects.count() == 0
    items[0].refresh_from_db()
    assert items[0].status == "pending"


def test_one_batch_debit_settles_every_pending_item(operator, batch, items):
    total = sum(item.amount for item in items)
    data = csv(
        [Entry("debit", money(total), batch.public_id, value_date=on_time(batch))], currency="USD"
    )
    services.statement_import(data=data, actor=operator)
    assert set(PayoutItem.objects.filter(batch=batch).values_list("status", flat=True)) == {
        "settled"
    }


def test_a_return_credit_returns_a_settled_item_with_its_reason(operator, batch, items):
    item = items[1]
    debit = Entry("debit", money(item.amount), item.public_id, value_date=on_time(batch))
    services.statement_import(data=csv([debit], currency="USD", statement_id="S1"), actor=operator)
    credit = Entry("credit", money(item.amount), item.public_id, reason="R03")
    services.statement_import(data=csv([credit], currency="USD", statement_id="S2"), actor=operator)
    item.refresh_from_db()
    assert (item.status, item.failure_code) == ("returned", "R03")


def test_a_return_of_a_pending_item_settles_it_then_returns_it(operator, batch, items):
    # The bank paid it out (no debit on record here) and it came back: both are recorded.
    item = items[1]
    credit = Entry("credit", money(item.amount), item.public_id, reason="AC04")
    services.statement_import(data=csv([credit], currency="USD"), actor=operator)
    item.refresh_from_db()
    assert (item.status, item.failure_code) == ("returned", "AC04")
    outcomes = list(item.results.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["settled", "returned"]


def test_one_statement_with_an_items_debit_and_its_return_records_both_in_order(
    operator, batch, items
):
    item = items[0]
    lines = [
        Entry("debit", money(item.amount), item.public_id, value_date=on_time(batch)),
        Entry("credit", money(item.amount), item.public_id, reason="R03"),
    ]
    services.statement_import(data=camt053(lines, currency="USD"), actor=operator)
    item.refresh_from_db()
    assert (item.status, item.failure_code) == ("returned", "R03")
    outcomes = list(item.results.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["settled", "returned"]


def test_amount_mismatch_becomes_an_exception_and_moves_nothing(operator, batch, items):
    data = csv(
        [Entry("debit", "1.00", items[0].public_id, value_date=on_time(batch))], currency="USD"
    )
    services.statement_import(data=data, actor=operator)
    exc = ReconciliationException.objects.get()
    assert exc.reason == "amount_mismatch"
    assert exc.candidates == [items[0].public_id]
    items[0].refresh_from_db()
    assert items[0].status == "pending"


def test_overdue_items_become_exceptions_once(operator, batch, items):
    late = on_time(batch) + dt.timedelta(days=10)
    first = csv([], currency="USD", statement_id="S1", day=late)
    second = csv([], currency="USD", statement_id="S2", day=late)
    services.statement_import(data=first, actor=operator)
    services.statement_import(data=second, actor=operator)
    overdue = ReconciliationException.objects.filter(reason="overdue_item")
    assert sorted(overdue.values_list("item_id", flat=True)) == sorted(i.public_id for i in items)


@pytest.fixture
def mismatch(operator, batch, items):
    data = csv(
        [Entry("debit", "99.00", items[0].public_id, value_date=on_time(batch))], currency="USD"
    )
    services.statement_import(data=data, actor=operator)
    return ReconciliationException.objects.get(reason="amount_mismatch")


def test_a_resolution_needs_a_note(operator, mismatch):
    with pytest.raises(InvalidInput) as info:
        services.resolution_propose(
            exception_id=mismatch.public_id, action="ignore", note="  ", actor=operator
        )
    assert "note" in info.value.fields


def test_ignore_resolves_at_once(operator, mismatch):
    services.resolution_propose(
        exception_id=mismatch.public_id, action="ignore", note="Bank fee test", actor=operator
    )
    mismatch.refresh_from_db()
    assert mismatch.status == "resolved"


def test_match_waits_for_a_second_operator_then_applies_once(
    operator, second_operator, mismatch, items
):
    resolution = services.resolution_propose(
        exception_id=mismatch.public_id,
        action="match",
        items=[items[0].public_id],
        note="Bank deducted a fee; confirmed by phone",
        actor=operator,
    )
    mismatch.refresh_from_db()
    items[0].refresh_from_db()
    assert (mismatch.status, items[0].status) == ("pending_approval", "pending")

    with pytest.raises(Forbidden) as info:
        services.resolution_approve(
            exception_id=mismatch.public_id, resolution_id=resolution.public_id, actor=operator
        )
    assert info.value.code == "four_eyes"

    services.resolution_approve(
        exception_id=mismatch.public_id, resolution_id=resolution.public_id, actor=second_operator
    )
    mismatch.refresh_from_db()
    items[0].refresh_from_db()
    assert (mismatch.status, items[0].status) == ("resolved", "settled")
    assert Match.objects.get(line=mismatch.line).source == "resolution"

    with pytest.raises(Conflict):
        services.resolution_approve(
            exception_id=mismatch.public_id,
            resolution_id=resolution.public_id,
            actor=second_operator,
        )


def test_a_second_proposal_while_one_waits_is_refused(operator, mismatch, items):
    services.resolution_propose(
        exception_id=mismatch.public_id, action="write_off", note="Fee", actor=operator
    )
    with pytest.raises(Conflict):
        services.resolution_propose(
            exception_id=mismatch.public_id, action="ignore", note="Again", actor=operator
        )


def test_matching_an_unknown_item_is_refused(operator, mismatch):
    with pytest.raises(InvalidInput) as info:
        services.resolution_propose(
            exception_id=mismatch.public_id,
            action="match",
            items=["poi_nope"],
            note="x",
            actor=operator,
        )
    assert "items" in info.value.fields


def test_assign_to_me_and_to_an_operator(operator, second_operator, viewer, mismatch):
    services.exception_assign(exception_id=mismatch.public_id, owner="me", actor=operator)
    mismatch.refresh_from_db()
    assert mismatch.owner == operator
    services.exception_assign(
        exception_id=mismatch.public_id, owner=second_operator.username, actor=operator
    )
    mismatch.refresh_from_db()
    assert mismatch.owner == second_operator
    # A well-formed name of someone who cannot reconcile: the state refuses it, not the input.
    with pytest.raises(Conflict) as refused:
        services.exception_assign(
            exception_id=mismatch.public_id, owner=viewer.username, actor=operator
        )
    assert "owner" in refused.value.fields
    assert list(mismatch.events.values_list("kind", flat=True)) == [
        "created",
        "assigned",
        "assigned",
    ]


def test_history_records_actor_and_request_id(operator, mismatch):
    import structlog

    structlog.contextvars.bind_contextvars(request_id="req-123")
    try:
        services.exception_assign(exception_id=mismatch.public_id, owner="me", actor=operator)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    event = mismatch.events.get(kind="assigned")
    assert (event.actor_name, event.request_id) == (operator.username, "req-123")


def test_overview_summary_counts_open_and_escalated(operator, mismatch):
    from django.utils import timezone

    summary = open_exceptions_summary()
    assert (summary["open"], summary["escalated"], summary["unowned"]) == (1, 0, 1)
    later = open_exceptions_summary(now=timezone.now() + dt.timedelta(days=10))
    assert later["escalated"] == 1


def test_writing_off_an_overdue_item_records_it_failed_after_approval(
    operator, second_operator, batch, items
):
    late = on_time(batch) + dt.timedelta(days=10)
    services.statement_import(data=csv([], currency="USD", day=late), actor=operator)
    overdue = ReconciliationException.objects.get(reason="overdue_item", item_id=items[0].public_id)
    with pytest.raises(InvalidInput):  # an overdue item has no line to match
        services.resolution_propose(
            exception_id=overdue.public_id,
            action="match",
            items=[items[0].public_id],
            note="x",
            actor=operator,
        )
    resolution = services.resolution_propose(
        exception_id=overdue.public_id, action="write_off", note="Bank lost it", actor=operator
    )
    services.resolution_approve(
        exception_id=overdue.public_id, resolution_id=resolution.public_id, actor=second_operator
    )
    items[0].refresh_from_db()
    assert (items[0].status, items[0].failure_code) == ("failed", "WRITE_OFF")


def test_the_overview_shows_open_exceptions_and_links_the_queue(operator, mismatch, client):
    client.force_login(operator)
    html = client.get("/?partial=payouts").content.decode()
    assert 'data-testid="ov-exceptions"' in html
    assert "open reconciliation exception" in html
    assert "/reconciliation/exceptions?status=open" in html


def test_a_statement_streamed_in_small_chunks_records_what_the_rules_decide_whole(
    operator, monkeypatch
):
    """Lines are inserted, matched and written a chunk at a time, credits after every debit:
    across chunk boundaries the records are what ``match_statement`` decides in one piece."""
    monkeypatch.setattr(services, "STREAM_CHUNK", 2)
    first = make_batch(status="in_transit", items=3, amount=10_000)
    second = make_batch(status="in_transit", items=2, amount=5_000)
    a, b, c = first.items.order_by("pk")
    d, e = second.items.order_by("pk")
    day = on_time(first)
    entries = [
        Entry("credit", money(a.amount), a.public_id, reason="AC04"),  # before its debit
        Entry("debit", money(a.amount), a.public_id, value_date=day),
        Entry("debit", money(b.amount + 1), b.public_id, value_date=day),  # mismatch
        Entry("debit", money(d.amount + e.amount), second.public_id, value_date=day),  # both
        Entry("debit", "3.00", "RENT DECEMBER", value_date=day),
        Entry("debit", money(a.amount), a.public_id, value_date=day),  # a second time
        Entry("credit", money(c.amount), c.public_id, reason="R03"),  # pending: out and back
    ]
    data = camt053(entries, currency="USD")
    statement_lines = services.parse_statement(data).lines
    whole = services.matching.match_statement(
        [services._matching_line(line) for line in statement_lines],
        services._matching_items("USD"),
        shift=services.shift_business_days,
        rules=services.rules(),
    )

    statement = services.statement_import(data=data, actor=operator).statement

    recorded = {
        int(m.line.index): (m.outcome, sorted(m.items.values_list("item_id", flat=True)))
        for m in Match.objects.filter(line__statement=statement)
    }
    assert recorded == {int(m.line_key): (m.outcome, sorted(m.item_ids)) for m in whole.matches}
    flagged = {
        x.line.index: x.reason
        for x in ReconciliationException.objects.filter(statement=statement, line__isnull=False)
    }
    assert flagged == {int(x.line_key): x.reason for x in whole.exceptions}
    assert (statement.line_count, statement.matched_count, statement.exception_count) == (
        7,
        len(whole.matches),
        len(whole.exceptions),
    )
    statuses = dict(PayoutItem.objects.values_list("public_id", "status"))
    assert [statuses[i.public_id] for i in (a, b, c, d, e)] == [
        "returned", "pending", "returned", "settled", "settled",
    ]  # fmt: skip
