"""Payouts in the browser: triage with Needs Attention, the T+N timeline, reconciliation with a
required note on the page and through the Django admin action."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from payouts.models import PayoutBatch
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.e2e
NY = ZoneInfo("America/New_York")
# A Friday evening after the 17:00 cut-off: T+2 counts from Monday, the weekend is skipped.
FRIDAY_EVENING = dt.datetime(2026, 11, 13, 18, 15, tzinfo=NY)


@pytest.fixture
def batches(asgi_server):
    overdue = make_batch(
        status=BatchStatus.IN_TRANSIT,
        submitted_at=FRIDAY_EVENING,
        name="Friday payroll",
        items=3,
    )
    settled = make_batch(status=BatchStatus.SETTLED, name="Refunds", currency="EUR", rail="sepa")
    return overdue, settled


def test_operator_triages_and_reconciles_a_batch(login, page, operator, batches, screenshot):
    overdue, settled = batches
    login(operator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payouts").click()
    expect(page.get_by_role("heading", name="Payouts", exact=True)).to_be_visible()
    expect(page.get_by_test_id("batch-row")).to_have_count(2)
    expect(page.get_by_test_id("needs-attention-count")).to_have_text("1")
    screenshot("payouts-1-list")

    page.get_by_test_id("needs-attention-filter").click()
    expect(page.get_by_test_id("batch-row")).to_have_count(1)
    row = page.get_by_test_id("batch-row")
    expect(row).to_contain_text(overdue.public_id)
    expect(row).to_contain_text("Action required")
    screenshot("payouts-2-needs-attention")

    row.get_by_role("link", name=overdue.public_id).click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator('[data-kind="weekend"]')).to_have_count(2)
    expect(timeline.locator('[data-date="2026-11-14"]')).to_contain_text("Weekend, skipped")
    expect(timeline.locator('[data-kind="settlement"]')).to_contain_text("T+2")
    expect(timeline.locator('[data-kind="settlement"]')).to_have_attribute(
        "data-date", "2026-11-18"
    )
    expect(page.get_by_test_id("countdown")).to_contain_text("Overdue by")
    expect(page.get_by_test_id("batch-attention")).to_contain_text("Action required")
    screenshot("payouts-3-detail-timeline")

    page.get_by_label("Outcome the bank confirmed").select_option("settled")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_test_id("note-error")).to_contain_text("note: A note is required")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.IN_TRANSIT
    screenshot("payouts-4-note-required")

    page.get_by_label("Note (required)").fill("Fed statement 18 Nov line 42: all three credited.")
    page.get_by_label("Bank reference (optional)").fill("FED-1118-42")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_role("status").filter(has_text="Reconciliation recorded")).to_be_visible()
    history = page.get_by_test_id("history")
    expect(history.get_by_test_id("history-entry").first).to_contain_text(
        "Note: Fed statement 18 Nov line 42"
    )
    expect(history.get_by_test_id("history-entry").first).to_contain_text(operator.username)
    expect(page.get_by_test_id("batch-status")).to_have_text("Settled")
    expect(page.get_by_test_id("batch-attention")).to_have_text("No action required")
    screenshot("payouts-5-reconciled")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.SETTLED


def test_admin_reconciles_through_the_admin_action(
    login, page, admin, batches, screenshot, asgi_server
):
    overdue, _ = batches
    login(admin)
    page.goto(f"{asgi_server.url}/admin/payouts/payoutbatch/?needs_attention=1")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list tbody tr").first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("reconcile_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", name="Reconcile selected batches")).to_be_visible()
    screenshot("payouts-admin-1-form")

    page.get_by_label("Outcome the bank confirmed").select_option("partially_settled")
    page.get_by_label("Note (required)").fill("   ")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_test_id("note-error")).to_contain_text("note: A note is required")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.IN_TRANSIT
    screenshot("payouts-admin-2-note-required")

    page.get_by_label("Note (required)").fill("Bank call: one item bounced, two credited.")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.locator(".messagelist")).to_contain_text("Reconciled 1 batch(es).")
    screenshot("payouts-admin-3-done")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.PARTIALLY_SETTLED
    assert overdue.reconciliations.get().actor == admin
