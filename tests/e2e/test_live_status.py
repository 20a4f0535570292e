"""The live feed says what it is doing: Live, Paused, Degraded (the server dropping events),
Reconnecting and Offline are distinct; the drop banner totals since load and offers to load the
missed events back through the stream's replay; bad filters are named inline, all at once."""

import re

import pytest
from playwright.sync_api import expect

from tests.transactions.streamclient import produce

pytestmark = pytest.mark.e2e

T = 20_000


def row(page, event_id):
    return page.locator(f'tbody[data-rows] tr[data-id="{event_id}"]')


def test_each_live_state_is_shown(login, page, asgi_server, viewer, screenshot):
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    status = page.get_by_test_id("stream-status")
    feed = page.locator("#tx-stream")
    expect(status).to_have_text("Live", timeout=T)
    ids = produce(6)
    for event_id in ids:
        expect(row(page, event_id)).to_be_visible(timeout=T)

    page.get_by_role("button", name="Pause").click()
    expect(feed).to_have_attribute("data-state", "paused")
    expect(status).to_contain_text("Paused")
    screenshot("live-state-paused")
    page.get_by_role("button", name="Resume").click()
    expect(status).to_have_text("Live")

    # The server reports drops (as it does for a slow page): Degraded, totals since load.
    missed = ids[1:4]
    page.evaluate(
        "(ids) => { ids.forEach((id) => document.querySelector(`tr[data-id='${id}']`).remove());"
        " window.transactionsFeed.handle({type: 'dropped', count: 7, first_id: 1, last_id: 1});"
        " window.transactionsFeed.handle({type: 'dropped', count: ids.length,"
        " first_id: ids[0], last_id: ids[ids.length - 1]}); }",
        missed,
    )
    expect(feed).to_have_attribute("data-state", "degraded")
    expect(status).to_contain_text("Degraded")
    warning = page.get_by_test_id("backpressure-warning")
    expect(warning).to_contain_text(f"dropped {7 + len(missed)} events")  # the total, not the last
    screenshot("live-state-degraded")

    # Load missed events: replayed from the server and put back in id order.
    warning.get_by_role("button", name="Load missed events").click()
    for event_id in missed:
        expect(row(page, event_id)).to_be_visible(timeout=T)
    order = page.locator("tbody[data-rows] tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.id))"
    )
    assert order == sorted(order, reverse=True)
    expect(warning).to_contain_text(f"{len(missed)} loaded back")

    page.context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(feed).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("Offline")
    screenshot("live-state-offline")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text(re.compile("Live|Degraded"), timeout=T)

    asgi_server.stop()
    expect(status).to_have_text(re.compile(r"Reconnecting"), timeout=T)
    screenshot("live-state-reconnecting")


def test_bad_filters_are_all_named_and_the_feed_keeps_running(login, page, asgi_server, viewer):
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    expect(page.get_by_test_id("stream-status")).to_have_text("Live", timeout=T)
    page.get_by_label("Status").fill("Failed!")
    page.get_by_label("Currency").fill("dollars")
    page.get_by_label("Minimum amount").fill("12.5")
    page.get_by_role("button", name="Apply filters").click()
    check = page.locator("[data-filter-check]")
    expect(check).to_contain_text("status:")
    expect(check).to_contain_text("currency:")
    expect(check).to_contain_text("minimum amount — DOLLARS is not a currency PayFlow knows")
    expect(page.get_by_test_id("stream-status")).to_have_text("Live")
    # Submitted anyway (no JS check): the page names every field and the feed still runs.
    page.goto(f"{asgi_server.url}/transactions?status=Failed!&currency=dollars")
    errors = page.get_by_test_id("filter-errors")
    expect(errors).to_contain_text("status")
    expect(errors).to_contain_text("currency")
    expect(page.get_by_test_id("stream-status")).to_have_text("Live", timeout=T)
