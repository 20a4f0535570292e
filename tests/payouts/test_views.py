"""Payout pages: list with Needs Attention, detail with timeline, reconciliation form."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from payouts.models import PayoutBatch, PayoutReconciliation
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
S = BatchStatus
NY = ZoneInfo("America/New_York")


@pytest.fixture
def as_operator(client, operator):
    client.force_login(operator)  # the password check is the login tests' job
    return client


@pytest.fixture
def as_viewer(client, viewer):
    client.force_login(viewer)  # the password check is the login tests' job
    return client


def test_anonymous_is_sent_to_login(client):
    assert client.get("/payouts")["Location"].startswith("/login/")


def test_list_states_action_required_and_no_action_required(as_viewer):
    needs = make_batch(status=S.FAILED, currency="JPY", rail="wire", amount=5000)
    fine = make_batch(status=S.SETTLED)
    html = as_viewer.get("/payouts").content.decode()
    assert needs.public_id in html
    assert fine.public_id in html
    # A viewer cannot reconcile: told who can act, not "Action required".
    assert "Needs an operator: 3 of 3 items failed or were returned (15,003 JPY)" in html
    assert "Action required:" not in html
    assert "No action required" in html
    assert "15,003 JPY" in html  # yen has no minor unit
    assert 'data-testid="needs-attention-count">1<' in html
    assert "data-updated-at" in html


def test_needs_attention_filter(as_viewer):
    needs = make_batch(status=S.REQUIRES_RECONCILIATION)
    fine = make_batch(status=S.SETTLED)
    html = as_viewer.get("/payouts?needs_attention=1").content.decode()
    assert needs.public_id in html
    assert fine.public_id not in html


def test_table_partial_for_live_refresh(as_viewer):
    make_batch()
    response = as_viewer.get("/payouts?partial=table", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'data-testid="batch-row"' in response.content
    assert response["X-Data-Updated-At"]


def test_bad_filter_is_shown_naming_the_field_not_a_500(as_viewer):
    response = as_viewer.get("/payouts?settlement_from=soon&cursor=zzz")
    assert response.status_code == 200
    assert b"settlement_from:" in response.content
    assert b"cursor:" in response.content


def test_detail_shows_timeline_with_skipped_weekend_and_named_holiday(as_viewer):
    batch = make_batch(status=S.IN_TRANSIT, submitted_at=dt.datetime(2026, 9, 4, 18, tzinfo=NY))
    html = as_viewer.get(f"/payouts/{batch.public_id}").content.decode()
    assert 'data-kind="weekend" data-date="2026-09-05"' in html
    assert "Holiday: Labor Day, skipped" in html
    assert "Expected settlement · T+2" in html
    assert "after the cut-off" in html
    assert "data-countdown" in html
    assert "Needs an operator:" in html  # long overdue by now (and a viewer cannot act)
    assert 'data-testid="overdue-badge"' in html


def test_unknown_batch_is_404(as_viewer):
    assert as_viewer.get("/payouts/po_missing").status_code == 404


def test_viewer_sees_no_form_and_cannot_post(as_viewer):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    html = as_viewer.get(f"/payouts/{batch.public_id}").content.decode()
    assert 'id="reconcile-form"' not in html
    assert "You need the Operator role" in html
    response = as_viewer.post(
        f"/payouts/{batch.public_id}/reconcile", {"outcome": "settled", "note": "x"}
    )
    assert response.status_code == 403
    assert PayoutReconciliation.objects.count() == 0


@pytest.mark.parametrize("note", ["", "    "])
def test_form_without_a_note_shows_the_error_inline_and_changes_nothing(as_operator, note):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = as_operator.post(
        f"/payouts/{batch.public_id}/reconcile",
        {"outcome": "settled", "note": note},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'data-testid="note-error">note: A note is required' in response.content
    assert PayoutBatch.objects.get(pk=batch.pk).status == S.REQUIRES_RECONCILIATION
    assert PayoutReconciliation.objects.count() == 0


def test_form_without_htmx_and_without_a_note_is_422_with_the_page(as_operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    response = as_operator.post(f"/payouts/{batch.public_id}/reconcile", {"outcome": "settled"})
    assert response.status_code == 422
    assert b"note: A note is required" in response.content


def test_form_with_a_note_records_item_outcomes_and_updates_history(as_operator, operator):
    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    first, second, third = batch.items.order_by("pk")
    response = as_operator.post(
        f"/payouts/{batch.public_id}/reconcile",
        {
            f"item_{first.public_id}": "failed",
            f"reason_{first.public_id}": "R03",
            f"item_{second.public_id}": "settled",
            f"item_{third.public_id}": "settled",
            "note": "Two items bounced (R03).",
            "bank_reference": "X1",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Reconciliation recorded: Partially settled" in html
    assert "R03" in html
    assert "Pay again…" in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert "Note: Two items bounced (R03)." in html
    assert "Bank reference: X1" in html
    record = PayoutReconciliation.objects.get()
    assert (record.actor, record.outcome) == (operator, "partially_settled")


def test_illegal_outcome_from_a_stale_page_is_explained(as_operator):
    batch = make_batch(status=S.PROCESSING)
    response = as_operator.post(
        f"/payouts/{batch.public_id}/reconcile",
        {"outcome": "settled", "note": "n"},
        headers={"HX-Request": "true"},
    )
    assert b"cannot become settled" in response.content
    assert PayoutReconciliation.objects.count() == 0


def test_someone_else_reconciled_since_the_page_was_loaded(as_operator, admin):
    from payouts.services import payout_batch_reconcile

    batch = make_batch(status=S.REQUIRES_RECONCILIATION)
    payout_batch_reconcile(
        batch_id=batch.public_id, outcome="settled", note="done", actor=admin, source="admin"
    )
    response = as_operator.post(
        f"/payouts/{batch.public_id}/reconcile",
        {"outcome": "settled", "note": "me too", "seen_reconciliation": "0"},
        headers={"HX-Request": "true"},
    )
    assert f"already reconciled by {admin.username}".encode() in response.content
    assert PayoutReconciliation.objects.count() == 1


def _failed_item_in_partly_settled_batch():
    """The first item failed with R03 (the rail's report, unconfirmed), the rest settled."""
    batch = make_batch(status=S.PARTIALLY_SETTLED)
    return batch, batch.items.get(status="failed")


def _confirm(batch, operator):
    from payouts.services import payout_batch_reconcile

    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=S.PARTIALLY_SETTLED,
        note="R03 confirmed.",
        actor=operator,
        source="page",
    )


def test_pay_again_is_refused_on_the_page_until_the_failure_is_confirmed(as_operator):
    batch, failed = _failed_item_in_partly_settled_batch()
    detail = as_operator.get(f"/payouts/{batch.public_id}").content.decode()
    assert 'data-testid="pay-again"' not in detail
    assert "The bank has not confirmed this failure yet" in detail
    response = as_operator.post(
        f"/payouts/items/{failed.public_id}/pay-again", {"confirm": "yes", "account": "1"}
    )
    assert response.status_code == 409
    assert "record a reconciliation first" in response.content.decode()
    assert PayoutBatch.objects.count() == 1


def test_defect_pay_again_asks_first_showing_the_failure_reason(as_operator, operator):
    batch, failed = _failed_item_in_partly_settled_batch()
    _confirm(batch, operator)
    detail = as_operator.get(f"/payouts/{batch.public_id}").content.decode()
    assert f'href="/payouts/items/{failed.public_id}/pay-again"' in detail
    # Following the button (GET) or posting without the confirmation only asks.
    for response in (
        as_operator.get(f"/payouts/items/{failed.public_id}/pay-again"),
        as_operator.post(f"/payouts/items/{failed.public_id}/pay-again"),
    ):
        html = response.content.decode()
        assert response.status_code == 200
        assert "R03" in html
        assert "No account / unable to locate account" in html
        assert "Paying the same account again will fail again" in html
        assert failed.account_reference in html
    assert PayoutBatch.objects.count() == 1


def test_pay_again_after_confirmation_creates_a_new_pending_batch(as_operator, operator):
    batch, failed = _failed_item_in_partly_settled_batch()
    _confirm(batch, operator)
    response = as_operator.post(
        f"/payouts/items/{failed.public_id}/pay-again", {"confirm": "yes", "account": "••••4242"}
    )
    new_batch = PayoutBatch.objects.exclude(pk=batch.pk).get()
    assert response["Location"] == f"/payouts/{new_batch.public_id}"
    assert new_batch.status == S.PENDING
    item = new_batch.items.get()
    assert (item.retry_of, item.account_reference) == (failed, "••••4242")
    # Linked both ways.
    assert (
        f'Paid again as <a href="/payouts/items/{item.public_id}"><code>{item.public_id}</code>'
        in as_operator.get(f"/payouts/{batch.public_id}").content.decode()
    )
    assert failed.public_id in as_operator.get(f"/payouts/{new_batch.public_id}").content.decode()


def test_viewer_cannot_pay_again(as_viewer):
    _, failed = _failed_item_in_partly_settled_batch()
    response = as_viewer.post(f"/payouts/items/{failed.public_id}/pay-again", {"confirm": "yes"})
    assert response.status_code == 403
    assert PayoutBatch.objects.count() == 1


def test_pay_again_for_an_unknown_item_is_404(as_operator):
    assert as_operator.post("/payouts/items/poi_nope/pay-again").status_code == 404


def test_overview_lists_batches_needing_attention_with_their_amounts(as_viewer):
    batch = make_batch(status=S.PARTIALLY_SETTLED)
    html = as_viewer.get("/").content.decode()
    assert batch.public_id in html
    assert "300.03 USD: 200.03 settled, 100.00 failed." in html


def _plain(html: str) -> str:
    """The page's text as read: money spans unwrapped, no-break spaces as spaces."""
    return re.sub(r'<span class="money"[^>]*>(.*?)</span>', r"\1", html).replace("\u00a0", " ")


def test_detail_shows_the_amount_breakdown_from_items(as_viewer):
    batch = make_batch(status=S.PARTIALLY_SETTLED)
    html = _plain(as_viewer.get(f"/payouts/{batch.public_id}").content.decode())
    assert "<dt>Settled</dt><dd>200.03 USD (2)</dd>" in html
    assert "<dt>Failed</dt><dd>100.00 USD (1)</dd>" in html
    assert "Rail report, not confirmed" in html
    # A viewer is told who can act.
    assert "Needs an operator: 1 of 3 items failed or were returned (100.00 USD)" in html


def test_detail_history_is_newest_first(as_viewer):
    batch = make_batch(status=S.IN_TRANSIT)
    html = as_viewer.get(f"/payouts/{batch.public_id}").content.decode()
    kinds = re.findall(r'<li class="history-(\w+)" data-testid="history-entry">', html)
    assert kinds == ["status", "status", "created"]
    assert html.index("Processing → In transit") < html.index("Pending → Processing")


def test_an_overdue_batch_reads_overdue_with_today_marked_and_says_who_can_act(as_viewer):
    batch = make_batch(status=S.IN_TRANSIT, submitted_at=dt.datetime(2026, 9, 4, 18, tzinfo=NY))
    html = as_viewer.get(f"/payouts/{batch.public_id}").content.decode()
    badge = re.search(r'<p data-testid="batch-status">(.*?)</p>', html).group(1)
    # One badge in the overdue tone, never the calm in-transit one beside it.
    assert 'data-testid="overdue-badge">Overdue · In transit</span>' in badge
    assert badge.count("<span") == 1
    assert 'data-tone="info"' not in badge
    assert re.search(r'data-kind="today"[^>]*data-testid="timeline-today"', html)
    assert "Overdue: still not confirmed (due Thu 10 Sep)" in html
    assert "Needs an operator:" in html
    assert "Action required" not in html


def test_today_is_marked_on_the_timeline_while_the_batch_is_on_time(as_viewer):
    batch = make_batch(status=S.IN_TRANSIT)
    html = as_viewer.get(f"/payouts/{batch.public_id}").content.decode()
    assert html.count('data-testid="timeline-today"') == 1
    assert 'data-kind="today"' not in html  # today is on the strip, not past it
    assert 'data-testid="overdue-badge"' not in html
