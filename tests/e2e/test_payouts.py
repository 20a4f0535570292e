"""Payouts in the browser: triage with Needs Attention, the T+N timeline, reconciliation with a
required note on the page and through the Django admin action, the CSV batch upload with a bad
row, and Pay again behind its confirmation. Screenshots at 1440x900 and 390x844."""

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

    # Recording asks first (it changes money state); the test says yes each time.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
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
    assert len(asked) == 2
    assert "cannot be undone" in asked[0]
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

    page.get_by_label("Outcome the bank confirmed").select_option("failed")
    page.get_by_label("Note (required)").fill("   ")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_test_id("note-error")).to_contain_text("note: A note is required")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.IN_TRANSIT
    screenshot("payouts-admin-2-note-required")

    page.get_by_label("Note (required)").fill("Bank call: the file was rejected.")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.locator(".messagelist")).to_contain_text("Reconciled 1 batch(es).")
    screenshot("payouts-admin-3-done")
    assert PayoutBatch.objects.get(pk=overdue.pk).status == BatchStatus.FAILED
    assert set(overdue.items.values_list("status", flat=True)) == {"failed"}
    assert overdue.reconciliations.get().actor == admin


SIZES = {"wide": (1440, 900), "narrow": (390, 844)}
CSV_WITH_A_BAD_ROW = (
    "recipient_name,account,amount,reference\n"
    "Ada Lovelace,GB29NWBK60161331926819,1250.00,INV-1815\n"
    "Grace Hopper,,12.345,INV-1906\n"
    "Alan Turing,DE89370400440532013000,99.99,\n"
)


def _fits(page) -> None:
    """No sideways scrolling at this width (names the overflowing elements when there is)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """[...document.querySelectorAll('body *')].filter(e =>
          e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'
          && e.clientWidth > 0).slice(-6).map(e => e.tagName + '.' + e.className + ' ' +
          e.scrollWidth + '>' + e.clientWidth + ' ' + e.textContent.slice(0, 40))"""
    )
    assert overflow <= 0, f"{overflow}px of sideways scrolling: {wide}"


@pytest.mark.parametrize("size", SIZES)
def test_csv_upload_previews_a_bad_row_then_creates_the_batch(
    login, page, operator, asgi_server, screenshot, size
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    login(operator)
    page.goto(f"{asgi_server.url}/payouts")
    page.get_by_role("link", name="New batch from CSV").click()
    page.get_by_label("Batch name").fill("November creators")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Rail").select_option("ach")
    page.get_by_label("Items (CSV)").set_input_files(
        files=[{"name": "items.csv", "mimeType": "text/csv", "buffer": CSV_WITH_A_BAD_ROW.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-errors")).to_contain_text("1 of 3 rows have errors")
    expect(page.get_by_test_id("row-error")).to_have_count(2)  # account and amount on line 3
    expect(page.get_by_test_id("create-batch")).to_have_count(0)
    screenshot(f"payouts-upload-1-bad-row-{size}")
    _fits(page)
    assert PayoutBatch.objects.count() == 0

    fixed = CSV_WITH_A_BAD_ROW.replace(
        "Grace Hopper,,12.345", "Grace Hopper,FR7630006000011234567890189,12.34"
    )
    page.get_by_label("Items (CSV)").set_input_files(
        files=[{"name": "items.csv", "mimeType": "text/csv", "buffer": fixed.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-row")).to_have_count(3)
    create = page.get_by_test_id("create-batch")
    expect(create).to_contain_text("1,362.33 USD")
    screenshot(f"payouts-upload-2-preview-{size}")
    create.click()
    expect(page.get_by_role("heading", name="Payout batch")).to_be_visible()
    expect(page.get_by_test_id("item-row")).to_have_count(3)
    screenshot(f"payouts-upload-3-created-{size}")
    _fits(page)
    batch = PayoutBatch.objects.get()
    assert batch.status == BatchStatus.PROCESSING
    assert sorted(batch.items.values_list("amount", flat=True)) == [1234, 9999, 125000]


@pytest.mark.parametrize("size", SIZES)
def test_pay_again_asks_first_and_lets_the_account_be_corrected(
    login, page, operator, asgi_server, screenshot, size
):
    from payouts.services import payout_batch_reconcile

    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    batch = make_batch(status=BatchStatus.PARTIALLY_SETTLED, name="Driver earnings")
    failed = batch.items.get(status="failed")
    login(operator)
    page.goto(f"{asgi_server.url}/payouts/{batch.public_id}")
    row = page.locator(f'[data-item="{failed.public_id}"]')
    expect(row).to_contain_text("R03")
    expect(row).to_contain_text("not confirmed")
    expect(row.get_by_test_id("pay-again")).to_have_count(0)
    screenshot(f"payouts-pay-again-1-unconfirmed-{size}")
    _fits(page)

    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=BatchStatus.PARTIALLY_SETTLED,
        note="Statement: two credited, R03 stands.",
        actor=operator,
        source="page",
    )
    page.reload()
    row.get_by_test_id("pay-again").click()
    confirmation = page.get_by_test_id("pay-again-confirmation")
    expect(page.get_by_test_id("failure-reason")).to_contain_text(
        "R03 No account / unable to locate account"
    )
    expect(confirmation).to_contain_text(failed.account_reference)
    expect(page.get_by_text("Paying the same account again will fail again")).to_be_visible()
    screenshot(f"payouts-pay-again-2-confirm-{size}")
    _fits(page)
    assert PayoutBatch.objects.count() == 1  # asking paid nothing

    page.get_by_label("Account to pay").fill("GB33BUKB20201555555555")
    page.get_by_test_id("confirm-pay-again").click()
    expect(page.get_by_role("heading", name="Payout batch")).to_be_visible()
    expect(page.get_by_text("is paid again as")).to_be_visible()
    new_item = failed.retried_as
    assert new_item.account_reference == "GB33BUKB20201555555555"
    expect(page.get_by_test_id("item-row")).to_contain_text(f"Pays again {failed.public_id}")
    screenshot(f"payouts-pay-again-3-done-{size}")
    page.goto(f"{asgi_server.url}/payouts/{batch.public_id}")
    expect(row).to_contain_text(f"Paid again as {new_item.public_id}")
