"""The pure matching rules: every rule, then properties over random statements."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciliation.matching import (
    AMBIGUOUS,
    AMOUNT_MISMATCH,
    LATE_VALUE_DATE,
    OVERDUE_ITEM,
    RETURNED,
    SETTLED,
    UNMATCHED_LINE,
    Item,
    Line,
    Rules,
    match_statement,
)

MONDAY = dt.date(2026, 11, 30)


def weekdays(day: dt.date, n: int, calendar: str) -> dt.date:
    step = 1 if n >= 0 else -1
    for _ in range(abs(n)):
        day += dt.timedelta(days=step)
        while day.weekday() >= 5:
            day += dt.timedelta(days=step)
    return day


def item(n: int, amount: int = 1000, batch: str = "po_b1", **kw) -> Item:
    defaults = {"currency": "USD", "reference": f"REF-{n}", "expected_settlement_date": MONDAY}
    defaults.update(kw)
    return Item(f"poi_{n:020d}", batch, amount=amount, **defaults)


def debit(key: str, amount: int, e2e: str = "", **kw) -> Line:
    defaults = {"currency": "USD", "value_date": MONDAY}
    defaults.update(kw)
    return Line(key, "debit", amount, end_to_end_id=e2e, **defaults)


def credit(key: str, amount: int, e2e: str = "", reason: str = "R03", **kw) -> Line:
    defaults = {"currency": "USD", "value_date": MONDAY}
    defaults.update(kw)
    return Line(key, "credit", amount, end_to_end_id=e2e, return_reason=reason, **defaults)


def decide(lines, items, **kw):
    return match_statement(lines, items, shift=weekdays, **kw)


def only_exception(decisions):
    assert decisions.matches == []
    assert len(decisions.exceptions) == 1
    return decisions.exceptions[0]


def test_debit_naming_an_item_id_settles_it_with_the_line_amount():
    one = item(1)
    decisions = decide([debit("L1", 1000, one.item_id)], [one, item(2)])
    assert [(m.line_key, m.outcome, m.item_ids, m.amounts) for m in decisions.matches] == [
        ("L1", SETTLED, (one.item_id,), (1000,))
    ]
    assert decisions.exceptions == []


def test_item_id_inside_free_text_is_found():
    one = item(1)
    line = Line("L1", "debit", 1000, "USD", MONDAY, texts=(f"/EREF/{one.item_id}/REMI/x",))
    assert decide([line], [one]).matches[0].item_ids == (one.item_id,)


def test_debit_naming_an_item_reference_settles_it():
    one = item(1)
    assert decide([debit("L1", 1000, "ref-1")], [one]).matches[0].item_ids == (one.item_id,)


def test_reference_shared_by_two_items_is_ambiguous():
    a, b = item(1, reference="INV-9"), item(2, reference="INV-9")
    exc = only_exception(decide([debit("L1", 1000, "INV-9")], [a, b]))
    assert exc.reason == AMBIGUOUS
    assert set(exc.candidates) == {a.item_id, b.item_id}


def test_amount_outside_tolerance_is_a_mismatch():
    one = item(1, amount=1000)
    exc = only_exception(decide([debit("L1", 999, one.item_id)], [one]))
    assert (exc.reason, exc.line_key, exc.candidates) == (AMOUNT_MISMATCH, "L1", (one.item_id,))


def test_amount_within_tolerance_settles_with_the_confirmed_amount():
    one = item(1, amount=1000)
    decisions = decide([debit("L1", 998, one.item_id)], [one], rules=Rules(amount_tolerance=2))
    assert decisions.matches[0].amounts == (998,)


def test_value_date_window_is_two_business_days_either_side():
    one = item(1)  # expected Monday 30 Nov: window Thu 26 Nov .. Wed 2 Dec
    inside = [dt.date(2026, 11, 26), dt.date(2026, 12, 2)]
    outside = [dt.date(2026, 11, 25), dt.date(2026, 12, 3)]
    for day in inside:
        assert decide([debit("L", 1000, one.item_id, value_date=day)], [one]).matches
    for day in outside:
        exc = only_exception(decide([debit("L", 1000, one.item_id, value_date=day)], [one]))
        assert exc.reason == LATE_VALUE_DATE


def test_other_currency_is_not_a_match():
    one = item(1)
    exc = only_exception(decide([debit("L1", 1000, one.item_id, currency="EUR")], [one]))
    assert exc.reason == UNMATCHED_LINE


def test_one_debit_for_a_whole_batch_settles_all_its_pending_items():
    items = [item(1, 500), item(2, 700), item(3, 800, batch="po_other")]
    decisions = decide([debit("L1", 1200, "po_b1")], items)
    assert decisions.matches[0].item_ids == (items[0].item_id, items[1].item_id)
    assert decisions.matches[0].amounts == (500, 700)


def test_batch_debit_that_is_not_the_sum_is_a_mismatch():
    items = [item(1, 500), item(2, 700)]
    assert only_exception(decide([debit("L1", 1000, "po_b1")], items)).reason == AMOUNT_MISMATCH


def test_batch_debit_skips_items_already_settled():
    items = [item(1, 500, status=SETTLED), item(2, 700)]
    assert decide([debit("L1", 700, "po_b1")], items).matches[0].item_ids == (items[1].item_id,)


def test_debit_naming_several_items_settles_them_when_it_is_their_sum():
    a, b = item(1, 500), item(2, 700)
    line = Line("L1", "debit", 1200, "USD", MONDAY, texts=(a.item_id, b.item_id))
    assert decide([line], [a, b]).matches[0].item_ids == (a.item_id, b.item_id)


def test_second_line_for_the_same_item_is_an_exception():
    one = item(1)
    decisions = decide([debit("L1", 1000, one.item_id), debit("L2", 1000, one.item_id)], [one])
    assert [m.line_key for m in decisions.matches] == ["L1"]
    assert [(e.line_key, e.reason) for e in decisions.exceptions] == [("L2", UNMATCHED_LINE)]


def test_debit_for_an_item_already_settled_is_an_exception():
    one = item(1, status=SETTLED)
    assert only_exception(decide([debit("L1", 1000, one.item_id)], [one])).reason == UNMATCHED_LINE


def test_return_credit_returns_the_item_with_its_reason():
    one = item(1, status=SETTLED)
    decisions = decide([credit("L1", 1000, one.item_id, reason="R03")], [one])
    match = decisions.matches[0]
    assert (match.outcome, match.item_ids, match.reason_code, match.was_pending) == (
        RETURNED,
        (one.item_id,),
        "R03",
        (False,),
    )


def test_settle_and_return_in_one_statement_in_any_order():
    one = item(1)
    lines = [credit("L2", 1000, one.item_id), debit("L1", 1000, one.item_id)]
    decisions = decide(lines, [one])
    assert [(m.line_key, m.outcome) for m in decisions.matches] == [
        ("L1", SETTLED),
        ("L2", RETURNED),
    ]
    assert decisions.matches[1].was_pending == (False,)


def test_return_of_a_pending_item_says_so():
    one = item(1)
    assert decide([credit("L1", 1000, one.item_id)], [one]).matches[0].was_pending == (True,)


def test_credit_without_a_return_reason_is_an_exception():
    one = item(1)
    exc = only_exception(decide([credit("L1", 1000, one.item_id, reason="")], [one]))
    assert exc.reason == UNMATCHED_LINE
    assert "no return reason" in exc.message


def test_line_naming_nothing_is_unmatched():
    assert only_exception(decide([debit("L1", 1000, "SALARY")], [item(1)])).reason == UNMATCHED_LINE


def test_pending_item_past_its_window_with_no_line_is_overdue():
    late, fresh = item(1), item(2, expected_settlement_date=dt.date(2026, 12, 7))
    decisions = decide([], [late, fresh], as_of=dt.date(2026, 12, 3))
    assert [(e.reason, e.item_id) for e in decisions.exceptions] == [(OVERDUE_ITEM, late.item_id)]


def test_overdue_only_counts_the_statement_currency_and_unsettled_items():
    usd, eur, done = item(1), item(2, currency="EUR"), item(3, status=SETTLED)
    decisions = decide(
        [debit("L1", 1000, usd.item_id, value_date=dt.date(2026, 12, 2))],
        [usd, eur, done],
        as_of=dt.date(2026, 12, 10),
        overdue_currency="USD",
    )
    assert decisions.exceptions == []


# Properties over random statements.

items_strategy = st.lists(
    st.builds(
        item,
        st.integers(1, 30),
        st.sampled_from([500, 1000, 1500]),
        st.sampled_from(["po_b1", "po_b2"]),
        status=st.sampled_from(["pending", "pending", "settled"]),
        reference=st.sampled_from(["", "R-1", "R-2", "R-3"]),
    ),
    max_size=12,
    unique_by=lambda i: i.item_id,
)


@st.composite
def scenario(draw):
    items = draw(items_strategy)
    names = [i.item_id for i in items] + ["po_b1", "po_b2", "R-1", "R-2", "nothing"]
    lines = []
    for n in range(draw(st.integers(0, 15))):
        direction = draw(st.sampled_from(["debit", "credit"]))
        lines.append(
            Line(
                f"L{n}",
                direction,
                draw(st.sampled_from([500, 1000, 1500, 2000, 2500])),
                draw(st.sampled_from(["USD", "USD", "EUR"])),
                MONDAY + dt.timedelta(days=draw(st.integers(-5, 5))),
                end_to_end_id=draw(st.sampled_from(names)),
                texts=tuple(draw(st.lists(st.sampled_from(names), max_size=2))),
                return_reason=draw(st.sampled_from(["", "R03"])) if direction == "credit" else "",
            )
        )
    return lines, items


@settings(max_examples=300, deadline=None)
@given(scenario(), st.integers(0, 2))
def test_every_line_is_decided_exactly_once(data, tolerance):
    lines, items = data
    decisions = decide(lines, items, rules=Rules(amount_tolerance=tolerance), as_of=MONDAY)
    decided = [m.line_key for m in decisions.matches] + [
        e.line_key for e in decisions.exceptions if e.line_key
    ]
    assert sorted(decided) == sorted(line.key for line in lines)


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_no_item_is_settled_or_returned_twice_and_amounts_fit(data):
    lines, items = data
    decisions = decide(lines, items)
    by_key = {line.key: line for line in lines}
    status = {i.item_id: i.status for i in items}
    amounts = {i.item_id: i.amount for i in items}
    for match in decisions.matches:
        line = by_key[match.line_key]
        assert (
            abs(sum(amounts[i] for i in match.item_ids) - line.amount) == 0
            or len(match.item_ids) == 1
            and match.amounts == (line.amount,)
        )
        for item_id in match.item_ids:
            if match.outcome == SETTLED:
                assert status[item_id] == "pending"
                status[item_id] = "settled"
            else:
                assert status[item_id] in ("pending", "settled")
                status[item_id] = "returned"
        assert line.direction == ("debit" if match.outcome == SETTLED else "credit")


@settings(max_examples=100, deadline=None)
@given(scenario())
def test_decisions_do_not_depend_on_item_order(data):
    lines, items = data
    forward = decide(lines, items)
    backward = decide(lines, list(reversed(items)))
    assert {(m.line_key, frozenset(m.item_ids)) for m in forward.matches} == {
        (m.line_key, frozenset(m.item_ids)) for m in backward.matches
    }
