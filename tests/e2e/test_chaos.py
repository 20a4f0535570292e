"""Chaos in the browser: the panel, the banner, and every page staying honest while things break."""

import pytest
from playwright.sync_api import expect

from payments.transitions import PaymentStatus
from tests.chaos.fixtures import chaos_api
from tests.payments.factories import make_payment
from tests.server import ServerProcess

# Published chaos lives in the shared cache, not the flushed database: clear it around each test.
pytestmark = pytest.mark.e2e
__all__ = ["chaos_api"]  # a fixture, used by name

ALL_KINDS = ["page", "partial", "api"]


def test_ctrl_shift_d_opens_the_panel_and_esc_closes_it(login, page, admin, screenshot):
    login(admin)
    dialog = page.get_by_test_id("chaos-dialog")
    expect(dialog).to_be_hidden()

    page.keyboard.press("Control+Shift+D")

    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Intermittent Failures")).to_be_visible()
    for preset in ["Slow Network", "Stream Flapping", "Event Burst", "Off: stop all chaos"]:
        expect(dialog.get_by_role("button", name=preset)).to_be_visible()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is off")
    assert page.evaluate("document.getElementById('chaos-dialog').contains(document.activeElement)")
    screenshot("chaos-panel-open")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("Control+Shift+D")
    expect(dialog).to_be_visible()
    page.keyboard.press("Control+Shift+D")
    expect(dialog).to_be_hidden()


def test_non_staff_have_no_panel_and_no_shortcut(login, page, operator):
    login(operator)
    page.keyboard.press("Control+Shift+D")
    expect(page.get_by_test_id("chaos-dialog")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_preset_turns_on_the_banner_for_everyone_and_off_clears_it(
    login, page, admin, screenshot
):
    login(admin)
    page.keyboard.press("Control+Shift+D")
    dialog = page.get_by_test_id("chaos-dialog")
    dialog.get_by_role("button", name="Slow Network").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is on: Slow Network")
    expect(dialog.get_by_test_id("chaos-log")).to_contain_text(f"by {admin.username}")
    banner = page.locator("#chaos-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Chaos rehearsal on: Slow Network")
    screenshot("chaos-slow-network-on")

    dialog.get_by_test_id("chaos-off").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is off")
    expect(page.locator("#chaos-banner")).to_be_hidden()


def test_full_error_rate_on_payments_keeps_the_last_data_with_retry(
    login, page, operator, asgi_server, chaos_api, screenshot
):
    payment = make_payment(
        user=operator, status=PaymentStatus.SUBMITTED, beneficiary_name="Initech"
    )
    login(operator)
    page.goto(f"{asgi_server.url}/payments")
    section = page.locator('[data-section="payments-table"]')
    expect(section).to_have_attribute("data-state", "ok")
    row = section.locator(f'[data-payment-id="{payment.public_id}"]')
    expect(row).to_be_visible()

    chaos_api({"path_prefix": "/payments", "request_kinds": ALL_KINDS, "error_rate": 1.0})
    page.wait_for_timeout(1200)  # each process re-reads the shared settings at most once a second
    page.evaluate("window.payflowSections.refreshAll()")

    expect(section).to_have_attribute("data-state", "error")
    expect(section.get_by_role("alert")).to_contain_text("Could not refresh payments")
    expect(section.get_by_role("alert")).to_contain_text("injected by chaos")
    expect(section.get_by_role("button", name="Retry loading payments")).to_be_visible()
    expect(row).to_be_visible()  # the last data is kept...
    assert "is-stale" in section.get_attribute("class")  # ...and marked stale
    expect(section.locator("[data-freshness]")).to_contain_text("last data kept")
    screenshot("chaos-payments-error-state")

    chaos_api({"path_prefix": "/payments", "request_kinds": ALL_KINDS, "error_rate": 0.0})
    page.wait_for_timeout(1200)
    section.get_by_role("button", name="Retry loading payments").click()
    expect(section).to_have_attribute("data-state", "ok")
    expect(section.get_by_role("alert")).to_be_hidden()
    expect(row).to_be_visible()


def test_three_failures_in_a_row_degrade_one_section_while_the_page_works(
    login, page, admin, asgi_server, chaos_api, screenshot
):
    login(admin)
    # Only the payments section of the overview fails; the others keep refreshing.
    chaos_api({"path_prefix": "/", "request_kinds": ["partial"], "error_rate": 1.0})
    page.wait_for_timeout(1200)
    payments = page.locator('[data-section="overview-payments"]')
    for _ in range(3):
        payments.evaluate("el => window.payflowSections.sections.get(el).refresh()")
        page.wait_for_function("el => !el.hasAttribute('aria-busy')", arg=payments.element_handle())
    expect(payments).to_have_attribute("data-state", "degraded")
    expect(payments.get_by_role("alert")).to_contain_text("the rest of the page still works")
    expect(payments.locator("[data-section-body]")).to_be_hidden()
    expect(page.locator('[data-section="overview-payouts"] [data-section-body]')).to_be_visible()
    screenshot("chaos-overview-section-degraded")

    chaos_api()
    page.wait_for_timeout(1200)
    payments.get_by_role("button", name="Retry").click()
    expect(payments).to_have_attribute("data-state", "ok")
    expect(payments.locator("[data-section-body]")).to_be_visible()


def test_a_failed_action_says_so_and_is_never_sent_again(
    login, page, operator, asgi_server, chaos_api, screenshot
):
    payment = make_payment(user=operator, status=PaymentStatus.DRAFT)
    login(operator)
    page.goto(f"{asgi_server.url}/payments/{payment.public_id}")
    chaos_api({"path_prefix": "/payments", "request_kinds": ["partial"], "error_rate": 1.0})
    page.wait_for_timeout(1200)
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))

    action = page.locator('[data-action="submitted"]')
    action.get_by_role("button").click()

    alert = action.locator("[data-action-error]")
    expect(alert).to_contain_text("The action failed")
    expect(alert).to_contain_text("It was not sent again")
    expect(action.get_by_role("button")).to_be_enabled()
    screenshot("chaos-action-failed")
    page.wait_for_timeout(500)
    assert len(posts) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DRAFT


def test_offline_shows_a_banner_pauses_and_resumes(login, page, admin, screenshot):
    login(admin)
    banner = page.get_by_test_id("offline-banner")
    expect(banner).to_be_hidden()

    page.context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You are offline")
    screenshot("offline-banner")

    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    expect(page.locator('[data-section="overview-payments"]')).to_have_attribute("data-state", "ok")


def test_an_unreachable_server_shows_the_banner_until_it_answers_again(
    login, page, admin, asgi_server, screenshot
):
    login(admin)
    banner = page.get_by_test_id("offline-banner")
    port = asgi_server.port
    asgi_server.stop()
    # Two failed health probes in a row mean "unreachable" (the timer would do this too).
    page.evaluate("window.payflowShell.probe()")
    page.wait_for_timeout(300)
    page.evaluate("window.payflowShell.probe()")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("The server cannot be reached")
    screenshot("server-unreachable-banner")

    restarted = ServerProcess(port=port).start()
    try:
        banner.get_by_role("button", name="Check now").click()
        expect(banner).to_be_hidden()
    finally:
        restarted.stop()
