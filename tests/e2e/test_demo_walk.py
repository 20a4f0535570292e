"""The case study's five-minute demo, walked end to end in a real browser with screenshots.

Transactions (watch, pause, status, dropped counter and a backpressure warning during an Event
Burst), Payments (create, submit, simulate, a blocked action with its reason), Payouts (a Needs
Attention batch, timeline, countdown, reconciliation that requires a note), Chaos (Ctrl+Shift+D,
Intermittent Failures, the overview degrading section by section and recovering when turned
off), and the browser going offline and back.
"""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import Payment
from payouts.models import PayoutBatch
from payouts.transitions import BatchStatus
from tests import server as test_server
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.e2e

SIMULATED_EVENTS_PER_SECOND = 20
SECTIONS_IDLE = (
    "() => ![...document.querySelectorAll('.live-section')]"
    ".some(section => section.hasAttribute('aria-busy'))"
)


@pytest.fixture
def asgi_server(server_factory):
    # A small per-connection queue, so an Event Burst against a slowed consumer overflows it
    # within seconds at test traffic rates (the default of 500 takes far more traffic).
    return server_factory(STREAM_QUEUE_CAPACITY="10")


@pytest.fixture
def traffic(asgi_server):
    """The demo traffic simulator, a separate process writing to the same database."""
    env = {
        **os.environ,
        "DATABASE_URL": test_server.test_database_url(),
        "PAYFLOW_ENV": "development",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [
        sys.executable,
        "manage.py",
        "simulate",
        "transactions",
        "--rate",
        str(SIMULATED_EVENTS_PER_SECOND),
        "--duration",
        "0",
        "--seed",
        "7",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, cwd=test_server.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    yield process
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def needs_attention_batch(asgi_server):
    overdue = make_batch(
        status=BatchStatus.IN_TRANSIT,
        submitted_at=timezone.now() - dt.timedelta(days=14),
        name="Friday payroll",
        items=3,
    )
    make_batch(status=BatchStatus.SETTLED, name="Refunds", currency="EUR", rail="sepa")
    return overdue


def open_chaos_panel(page):
    page.wait_for_function("() => window.payflowChaos")  # the page's scripts have run
    page.keyboard.press("Control+Shift+D")
    dialog = page.get_by_test_id("chaos-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("chaos-panel")).to_be_visible()
    return dialog


def refresh_sections_and_settle(page):
    page.evaluate("window.payflowSections.refreshAll()")
    page.wait_for_timeout(1500)  # refreshAll staggers its requests by 250 ms
    page.wait_for_function(SECTIONS_IDLE)


def test_five_minute_demo(
    login, page, admin, asgi_server, traffic, needs_attention_batch, screenshot
):
    base = asgi_server.url
    nav = page.get_by_role("navigation", name="Main")
    login(admin)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    screenshot("demo-00-overview")

    # 1. Transactions: watch events flow, pause, status and counters.
    nav.get_by_role("link", name="Transactions").click()
    stream = page.locator("#tx-stream")
    expect(page.get_by_test_id("stream-status")).to_have_text("Live", timeout=15_000)
    expect(stream.locator("tbody tr[data-id]").first).to_be_visible(timeout=15_000)
    screenshot("demo-01-transactions-live")

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-count=buffered]').textContent) > 0"
    )
    screenshot("demo-02-transactions-paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("count-buffered")).to_have_text("0")

    # ... an Event Burst against a slowed consumer: drops counted, backpressure warned.
    dialog = open_chaos_panel(page)
    dialog.get_by_role("button", name="Event Burst").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is on: Event Burst")
    # 10 events every 2 s: slower than the demo traffic even on a loaded machine, where the
    # burst itself may fall well short of 20 times the base rate.
    dialog.get_by_label("Slowed consumer (ms per frame)").fill("2000")
    dialog.get_by_role("button", name="Save settings").click()
    expect(dialog.get_by_test_id("chaos-saved")).to_be_visible()
    expect(dialog.get_by_test_id("burst-running")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    warning = page.get_by_test_id("backpressure-warning")
    expect(warning).to_be_visible(timeout=20_000)
    expect(warning).to_contain_text("dropped")
    assert int(page.get_by_test_id("count-dropped-server").inner_text().replace(",", "")) > 0
    expect(page.locator("#chaos-banner")).to_contain_text("Chaos rehearsal on")
    screenshot("demo-03-transactions-event-burst-backpressure")
    dialog = open_chaos_panel(page)
    dialog.get_by_test_id("chaos-off").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is off")
    page.keyboard.press("Escape")

    # 2. Payments: create a draft, submit it, play the processor, read a blocked reason.
    nav.get_by_role("link", name="Payments").click()
    page.get_by_role("link", name="New payment").click()
    page.get_by_label("Amount").fill("1250.75")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Beneficiary name").fill("Initech GmbH")
    page.get_by_label("Beneficiary account").fill("DE89370400440532013000")
    page.get_by_label("Method").select_option("sepa")
    page.get_by_label("Description").fill("Invoice 2210")
    screenshot("demo-04-payment-new")
    page.get_by_role("button", name="Create payment").click()
    page.wait_for_url(f"{base}/payments/pay_*")
    detail = page.locator(".payment-detail")
    expect(detail).to_have_attribute("data-status", "draft")
    screenshot("demo-05-payment-draft")

    page.get_by_role("button", name="Submit", exact=True).click()
    expect(detail).to_have_attribute("data-status", "submitted")
    page.get_by_role("button", name="Processor: processing").click()
    expect(detail).to_have_attribute("data-status", "processing")
    blocked = page.locator('[data-action="canceled"]')
    expect(blocked.get_by_role("button")).to_be_disabled()
    expect(blocked.locator(".action-reason")).to_contain_text("cannot be canceled")
    screenshot("demo-06-payment-blocked-action-reason")
    page.get_by_role("button", name="Processor: succeeded").click()
    expect(detail).to_have_attribute("data-status", "succeeded")
    screenshot("demo-07-payment-succeeded")
    assert Payment.objects.get().status == "succeeded"

    # 3. Payouts: a batch needing attention, its timeline and countdown, a note-required
    #    reconciliation.
    nav.get_by_role("link", name="Payouts").click()
    page.get_by_test_id("needs-attention-filter").click()
    row = page.get_by_test_id("batch-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Action required")
    screenshot("demo-08-payouts-needs-attention")
    row.get_by_role("link", name=needs_attention_batch.public_id).click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.get_by_test_id("timeline").locator('[data-kind="settlement"]')).to_be_visible()
    expect(page.get_by_test_id("countdown")).to_contain_text("Overdue by")
    screenshot("demo-09-payout-timeline-countdown")
    page.get_by_label("Outcome the bank confirmed").select_option("settled")
    # Recording a reconciliation changes money state, so the page asks first: accept.
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_test_id("note-error")).to_contain_text("A note is required")
    screenshot("demo-10-payout-note-required")
    page.get_by_label("Note (required)").fill("Bank statement line 42: all three credited.")
    page.get_by_role("button", name="Record reconciliation").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("Settled")
    screenshot("demo-11-payout-reconciled")
    assert PayoutBatch.objects.get(pk=needs_attention_batch.pk).status == BatchStatus.SETTLED

    # 4. Chaos: Ctrl+Shift+D, Intermittent Failures; the overview degrades section by
    #    section, then recovers when chaos is turned off.
    nav.get_by_role("link", name="Overview").click()
    dialog = open_chaos_panel(page)
    screenshot("demo-12-chaos-panel")
    dialog.get_by_role("button", name="Intermittent Failures").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Intermittent Failures")
    page.keyboard.press("Escape")
    expect(page.locator("#chaos-banner")).to_contain_text("Intermittent Failures")
    page.wait_for_timeout(1100)  # every process picks a change up within about a second
    sections = page.locator(".overview-grid .live-section")
    failing = sections.locator(":scope[data-state='error'], :scope[data-state='degraded']")
    for _ in range(25):  # 30% of refreshes fail: some section fails within a few rounds
        refresh_sections_and_settle(page)
        if failing.count():
            break
    assert failing.count() >= 1
    expect(failing.first.get_by_role("alert")).to_contain_text("injected by chaos")
    expect(failing.first.get_by_role("button", name="Retry")).to_be_visible()
    assert sections.count() == 4  # the page itself kept working
    screenshot("demo-13-chaos-overview-degraded")

    dialog = open_chaos_panel(page)
    dialog.get_by_test_id("chaos-off").click()
    expect(dialog.get_by_test_id("chaos-state")).to_contain_text("Chaos is off")
    page.keyboard.press("Escape")
    expect(page.locator("#chaos-banner")).to_be_hidden()
    page.wait_for_timeout(1100)
    refresh_sections_and_settle(page)
    for index in range(4):
        expect(sections.nth(index)).to_have_attribute("data-state", "ok")
    screenshot("demo-14-chaos-off-recovered")

    # 5. Offline: the browser goes offline and comes back.
    page.context.set_offline(True)
    offline = page.get_by_test_id("offline-banner")
    expect(offline).to_be_visible()
    expect(offline).to_contain_text("You are offline")
    screenshot("demo-15-offline")
    page.context.set_offline(False)
    expect(offline).to_be_hidden()
    refresh_sections_and_settle(page)
    for index in range(4):
        expect(sections.nth(index)).to_have_attribute("data-state", "ok")
    screenshot("demo-16-back-online")
