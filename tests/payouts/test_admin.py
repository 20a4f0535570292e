"""The payouts admin: needs-attention filter, search, read-only items, the reconcile action."""

import pytest

from payouts.models import PayoutBatch, PayoutBatchEvent, PayoutReconciliation
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
S = BatchStatus
CHANGELIST = "/admin/payouts/payoutbatch/"


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)  # the password check is the login tests' job
    return client


def act(client, batches, **data):
    return client.post(
        CHANGELIST,
        {"action": "reconcile_selected", "_selected_action": [b.pk for b in batches], **data},
    )


def test_changelist_shows_attention_and_filters_needs_attention(as_admin):
    needs = make_batch(status=S.REQUIRES_RECONCILIATION)
    fine = make_batch(status=S.SETTLED)
    html = as_admin.get(CHANGELIST).content.decode()
    assert "Action required: The bank" in html
    assert "No action required: Settled" in html
    filtered = as_admin.get(CHANGELIST + "?needs_attention=1").content.decode()
    assert needs.public_id in filtered
    assert fine.public_id not in filtered


def test_search_by_id_and_by_bank_reference(as_admin, operator):
    from payouts.services import payout_batch_reconcile

    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    other = make_batch()
    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome="settled",
        note="n",
        bank_reference="FED-99",
        actor=operator,
        source="api",
    )
    for term in (batch.public_id, "FED-99"):
        html = as_admin.get(CHANGELIST, {"q": term}).content.decode()
        assert batch.public_id in html
        assert other.public_id not in html


def test_detail_shows_items_read_only(as_admin):
    batch = make_batch(items=2)
    html = as_admin.get(f"{CHANGELIST}{batch.pk}/change/").content.decode()
    assert "Recipient 0" in html
    assert 'name="items-0-amount"' not in html  # read-only: no inputs


def test_action_shows_the_intermediate_form(as_admin):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = act(as_admin, [batch])
    assert response.status_code == 200
    assert b'id="reconcile-intermediate"' in response.content
    assert PayoutReconciliation.objects.count() == 0


@pytest.mark.parametrize("note", ["", "   "])
def test_action_without_a_note_is_refused_and_changes_nothing(as_admin, note):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = act(as_admin, [batch], apply="1", outcome="settled", note=note)
    assert response.status_code == 200
    assert b'data-testid="note-error">note: A note is required' in response.content
    assert PayoutReconciliation.objects.count() == 0
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.REQUIRES_RECONCILIATION


def test_action_with_a_note_reconciles_each_batch_through_the_service(as_admin, admin):
    first = make_batch(status=S.REQUIRES_RECONCILIATION)
    second = make_batch(status=S.IN_TRANSIT)
    illegal = make_batch(status=S.PROCESSING)
    response = act(
        as_admin, [first, second, illegal], apply="1", outcome="settled", note="Statement 12"
    )
    assert response.status_code == 302
    assert PayoutBatch.objects.get(pk=first.pk).status == S.SETTLED
    assert PayoutBatch.objects.get(pk=second.pk).status == S.SETTLED
    assert PayoutBatch.objects.get(pk=illegal.pk).status == S.PROCESSING
    records = PayoutReconciliation.objects.all()
    assert {(r.batch_id, r.actor, r.source) for r in records} == {
        (first.pk, admin, "admin"),
        (second.pk, admin, "admin"),
    }
    page = as_admin.get(CHANGELIST).content.decode()
    assert "Reconciled 2 batch(es)." in page
    assert f"Batch {illegal.public_id}: A processing batch cannot become settled" in page


def test_operator_cannot_open_the_admin(client, operator):
    client.force_login(operator)  # the password check is the login tests' job
    assert client.get(CHANGELIST).status_code == 403  # a role short of admin: 403


def test_defect_the_admin_cannot_settle_a_batch_with_failed_items(as_admin):
    partial = make_batch(status=S.PARTIALLY_SETTLED)
    act(as_admin, [partial], apply="1", outcome="settled", note="All good?")
    assert PayoutBatch.objects.get(pk=partial.pk).status == S.PARTIALLY_SETTLED
    assert PayoutReconciliation.objects.count() == 0
    # Money is written with a no-break space between amount and currency.
    page = as_admin.get(CHANGELIST).content.decode().replace("\u00a0", " ")
    assert f"Batch {partial.public_id}: The batch cannot be settled: 1 failed" in page
    # The list shows where the money is: 200.03 settled, 100.00 failed, nothing returned/pending.
    assert "200.03 USD / 100.00 USD / 0.00 USD / 0.00 USD" in page


def test_history_inline_is_newest_first(as_admin):
    batch = make_batch(status=S.IN_TRANSIT)
    response = as_admin.get(f"{CHANGELIST}{batch.pk}/change/")
    [history] = [
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is PayoutBatchEvent
    ]
    moves = [(form.instance.kind, form.instance.to_status) for form in history.formset.forms]
    assert moves == [("status", "in_transit"), ("status", "processing"), ("created", "pending")]
