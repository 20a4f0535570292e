"""The one item-results writer works through a call of any size in bounded chunks of whole
batches: the outcome is the same as one write, and a bad result anywhere writes nothing."""

import pytest

import payouts.services
from payouts.models import PayoutBatchEvent, PayoutItem, PayoutItemResult
from payouts.services import InvalidPayoutInput, ItemResult, payout_item_results_record
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
S = BatchStatus


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(payouts.services, "WRITE_CHUNK", 2)


def interleaved(batches):
    """Results in statement order: one item of each batch in turn, never batch by batch."""
    items = [list(batch.items.order_by("pk")) for batch in batches]
    return [
        ItemResult(column[row].public_id, "settled", bank_reference=f"B{row}")
        for row in range(len(items[0]))
        for column in items
    ]


def test_a_call_larger_than_a_chunk_settles_every_batch_whole(small_chunks):
    batches = [make_batch(status=S.IN_TRANSIT, items=3) for _ in range(3)]
    results = interleaved(batches)

    written = payout_item_results_record(results=results, actor=None, source="statement")

    assert written == 9
    for batch in batches:
        batch.refresh_from_db()
        assert batch.status == S.SETTLED
        assert set(batch.items.values_list("status", flat=True)) == {"settled"}
        # One move per batch: a chunk never holds part of a batch.
        moves = batch.events.filter(kind=PayoutBatchEvent.Kind.STATUS, from_status=S.IN_TRANSIT)
        assert list(moves.values_list("to_status", flat=True)) == [S.SETTLED]
    assert PayoutItemResult.objects.count() == 9


def test_an_item_settled_then_returned_in_one_call_keeps_its_order(small_chunks):
    batch = make_batch(status=S.IN_TRANSIT, items=2)
    first, second = batch.items.order_by("pk")
    payout_item_results_record(
        results=[ItemResult(first.public_id, "settled"), ItemResult(second.public_id, "settled")],
        actor=None,
        source="statement",
    )
    payout_item_results_record(
        results=[ItemResult(first.public_id, "returned", reason_code="AC04")],
        actor=None,
        source="statement",
    )
    batch.refresh_from_db()
    assert batch.status == S.PARTIALLY_SETTLED
    assert list(
        PayoutItemResult.objects.filter(item=first).order_by("pk").values_list("outcome", flat=True)
    ) == ["settled", "returned"]


def test_an_unknown_item_is_named_by_its_position_and_nothing_is_written(small_chunks):
    batches = [make_batch(status=S.IN_TRANSIT, items=2) for _ in range(2)]
    results = interleaved(batches)
    results.insert(3, ItemResult("poi_nobody", "settled"))

    with pytest.raises(InvalidPayoutInput) as info:
        payout_item_results_record(results=results, actor=None, source="statement")

    assert list(info.value.fields) == ["items[3].id"]
    assert PayoutItemResult.objects.count() == 0
    assert not PayoutItem.objects.exclude(status="pending").exists()


def test_a_bad_result_in_a_later_chunk_undoes_the_earlier_chunks(small_chunks):
    batches = [make_batch(status=S.IN_TRANSIT, items=2) for _ in range(3)]
    results = interleaved(batches)
    last = batches[-1].items.order_by("pk").last()
    position = next(n for n, r in enumerate(results) if r.item_id == last.public_id)
    results[position] = ItemResult(last.public_id, "failed")  # no reason code

    with pytest.raises(InvalidPayoutInput) as info:
        payout_item_results_record(results=results, actor=None, source="statement")

    assert list(info.value.fields) == [f"items[{position}].reason_code"]
    assert PayoutItemResult.objects.count() == 0
    for batch in batches:
        batch.refresh_from_db()
        assert batch.status == S.IN_TRANSIT
