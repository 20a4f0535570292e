"""Every page at 1440x900 and 390x844: no sideways scrolling (scrollWidth <= clientWidth),
screenshots saved for a person to look at, and the same money and time strings in rows the
server rendered and rows the live feed added (one formatter on both sides)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payflow.accounts.models import DisplayPreference
from payments.transitions import PaymentStatus
from payouts.transitions import BatchStatus
from tests.e2e.test_accessibility import axe_violations
from tests.payments.factories import make_payment
from tests.payouts.factories import make_batch
from transactions.models import StreamEvent, Transaction

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.fixture
def rows(operator):
    payment = make_payment(
        user=operator,
        status=PaymentStatus.REQUIRES_ACTION,
        amount=795900,
        currency="EUR",
        beneficiary_name="Lindqvist & Söderberg Konsult Aktiebolag",
        beneficiary_account="SE4550000000058398257466",
    )
    make_payment(user=operator, status=PaymentStatus.SUCCEEDED, amount=658900, currency="JPY")
    batch = make_batch(
        status=BatchStatus.IN_TRANSIT,
        submitted_at=timezone.now() - dt.timedelta(days=14),
        name="Friday payroll for the northern region contractors",
        items=3,
    )
    txn = Transaction.objects.create(
        kind="capture",
        amount=2221,
        currency="USD",
        merchant="Harbour Books",
        status="captured",
        payment_ref=payment.public_id,
        created_at=timezone.now(),
    )
    StreamEvent.objects.create(
        transaction=txn,
        kind=txn.kind,
        amount=txn.amount,
        currency=txn.currency,
        merchant=txn.merchant,
        status=txn.status,
        created_at=txn.created_at,
    )
    return payment, batch, txn


def overflow(page) -> dict:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )


def test_every_page_fits_both_viewports(login, page, viewer, asgi_server, rows, screenshot):
    payment, batch, txn = rows
    login(viewer)
    pages = {
        "overview": "/",
        "transactions": "/transactions",
        "transaction-detail": f"/transactions/{txn.public_id}",
        "payments-list": "/payments",
        "payment-detail": f"/payments/{payment.public_id}",
        "payouts-list": "/payouts",
        "payout-detail": f"/payouts/{batch.public_id}",
        "search": "/search?q=payroll",
        "preferences": "/account/preferences",
    }
    too_wide, inaccessible = {}, {}
    for device, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(f"{asgi_server.url}{path}")
            page.wait_for_load_state("networkidle")
            screenshot(f"layout-{name}-{device}")
            size = overflow(page)
            if size["scroll"] > size["client"]:
                too_wide[f"{name}@{device}"] = size
            if device == "phone":
                violations = axe_violations(page)
                if violations:
                    inaccessible[name] = violations
    assert too_wide == {}
    assert inaccessible == {}


def test_phone_list_cards_keep_amount_status_and_attention(login, page, viewer, asgi_server, rows):
    login(viewer)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{asgi_server.url}/payouts")
    row = page.get_by_test_id("batch-row").first
    for label in ("Amount", "Status", "Attention"):
        cell = row.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0, (label, box)
        assert box["x"] + box["width"] <= 390, (label, box)
    page.goto(f"{asgi_server.url}/payments")
    amount = page.locator('td[data-label="Amount"] .money').first
    expect(amount).to_be_visible()
    # "7,959.00 EUR" on one line: the amount never wraps away from its currency.
    assert amount.evaluate("el => el.getClientRects().length") == 1


def test_live_rows_read_like_server_rows(login, page, viewer, asgi_server, rows):
    DisplayPreference.objects.create(user=viewer, time_zone="Asia/Tokyo", locale="de-DE")
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    server_row = page.locator("tbody[data-rows] tr").first
    server_money = server_row.locator(".money").inner_text()
    assert server_money == "22,21\u00a0USD"
    live = page.evaluate(
        """async () => {
          const f = await import('/static/js/format.js');
          return {money: f.formatMoney(2221, 'USD'), zone: f.getConfig().timeZone};
        }"""
    )
    assert live == {"money": server_money, "zone": "Asia/Tokyo"}
    header = page.locator("table.tx-table thead").text_content()
    assert "Asia/Tokyo" in header


def test_slash_focuses_search_and_enter_opens_the_best_match(
    login, page, viewer, asgi_server, rows
):
    payment, batch, txn = rows
    login(viewer)
    page.goto(f"{asgi_server.url}/payments")
    page.keyboard.press("/")
    box = page.get_by_test_id("shell-search")
    expect(box).to_be_focused()
    box.type("northern region")
    results = page.locator("[data-shell-results] [data-search-results]")
    expect(results.locator(f'[data-id="{batch.public_id}"]')).to_be_visible()
    box.press("Enter")
    page.wait_for_url(f"**/payouts/{batch.public_id}")
