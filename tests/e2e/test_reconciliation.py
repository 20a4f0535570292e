"""Bank reconciliation in the browser: upload a statement, see matches and exceptions, follow
the links between lines and items, resolve one with a note, approve it as a second operator and
see the batch's amounts change. Screenshots at 1440x900 and 390x844."""

import re

import pytest
from playwright.sync_api import expect

from payflow.accounts.roles import Role
from payouts.models import PayoutItem
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, camt053

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1440, "height": 900}
MOBILE = {"width": 390, "height": 844}


def both_sizes(page, screenshot, name):
    for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(size)
        screenshot(f"reconciliation-{name}-{label}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {size['width']} px"
    page.set_viewport_size(DESKTOP)


def amount(page, label):
    """A batch page's amount by its label (Settled, Pending, ...)."""
    return page.locator(f"xpath=//dt[normalize-space()='{label}']/following-sibling::dd[1]")


def test_upload_resolve_and_approve(login, page, asgi_server, operator, screenshot, tmp_path):
    batch = make_batch(status="in_transit", items=2, amount=125_000, name="December payroll")
    paid, short = list(batch.items.order_by("pk"))
    day = batch.expected_settlement_date
    statement = tmp_path / "statement.xml"
    statement.write_bytes(
        camt053(
            [
                Entry("debit", f"{paid.amount / 100:.2f}", paid.public_id, value_date=day),
                Entry("debit", "1200.00", short.public_id, value_date=day),
                Entry("debit", "35.00", "BANK FEE NOV"),
            ],
            currency="USD",
            statement_id="2026-12-02-001",
        )
    )
    page.set_viewport_size(DESKTOP)
    login(operator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", name="Bank reconciliation")).to_be_visible()
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import and match").click()

    expect(page.get_by_test_id("statement-counts")).to_have_text("3 lines: 1 matched, 2 exceptions")
    expect(page.get_by_test_id("line-match")).to_contain_text(paid.public_id)
    expect(page.get_by_test_id("line-exception")).to_have_count(2)
    both_sizes(page, screenshot, "1-statement")
    statement_url = page.url

    # The matched line links to the batch; the batch's confirmed item links back to its line.
    page.get_by_test_id("line-batch").first.click()
    expect(page).to_have_url(re.compile(f"/payouts/{batch.public_id}$"))
    expect(amount(page, "Settled")).to_contain_text("(1)")
    expect(amount(page, "Pending")).to_contain_text("(1)")
    settled_before = amount(page, "Settled").inner_text()
    batch_url = page.url
    page.get_by_test_id("item-statement-line").click()
    expect(page).to_have_url(re.compile(r"/reconciliation/statements/bst_\w+#line-bsl_\w+$"))
    page.goto(statement_url)

    page.get_by_test_id("line-exception").filter(has_text="Amount mismatch").get_by_role(
        "link"
    ).click()
    expect(page.get_by_test_id("exception-status")).to_have_text("Open")
    page.get_by_test_id("assign").click()
    expect(page.get_by_test_id("exception-owner")).to_have_text(operator.username)
    page.get_by_label("Resolution").select_option("match")
    expect(page.get_by_label("Items (for a match)")).to_have_value(short.public_id)
    page.get_by_label("Note (required)").fill("Bank confirmed a 50.00 fee was deducted")
    page.get_by_test_id("propose").click()
    expect(page.get_by_test_id("exception-status")).to_have_text("Pending approval")
    expect(page.get_by_test_id("own-proposal")).to_be_visible()
    both_sizes(page, screenshot, "2-pending-approval")
    exception_url = page.url

    page.get_by_role("button", name="Log out").click()
    checker = UserFactory(username="second-operator", role=Role.OPERATOR)
    login(checker)
    page.goto(exception_url)
    page.get_by_test_id("approve-confirm").check()
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("exception-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("history")).to_contain_text("Resolution approved by second-operator")
    both_sizes(page, screenshot, "3-approved")

    assert PayoutItem.objects.get(pk=short.pk).status == "settled"
    page.goto(batch_url)
    expect(amount(page, "Settled")).to_contain_text("(2)")
    expect(amount(page, "Pending")).to_contain_text("(0)")
    assert amount(page, "Settled").inner_text() != settled_before
    expect(page.get_by_test_id("item-statement-line")).to_have_count(2)
    both_sizes(page, screenshot, "5-batch-after")

    page.goto(f"{asgi_server.url}/reconciliation/exceptions?status=unresolved")
    expect(page.get_by_test_id("exception-row")).to_have_count(1)
    expect(page.get_by_test_id("queue-line")).to_have_count(1)
    both_sizes(page, screenshot, "4-queue")
