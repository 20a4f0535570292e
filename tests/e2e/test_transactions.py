"""The transactions page against a real daphne process: live rows, pause/resume, reconnect."""

import re

import pytest
from playwright.sync_api import expect

from tests.transactions.streamclient import produce

pytestmark = pytest.mark.e2e

LIVE_TIMEOUT = 20_000


def row(page, event_id):
    return page.locator(f'tbody[data-rows] tr[data-id="{event_id}"]')


def test_page_shows_live_events_pauses_resumes_and_survives_a_restart(
    login, page, asgi_server, viewer, screenshot
):
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    status = page.get_by_test_id("stream-status")
    expect(status).to_have_text("Live", timeout=LIVE_TIMEOUT)

    live = produce(3, amount=125_000, currency="USD")
    for event_id in live:
        expect(row(page, event_id)).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.locator("tbody[data-rows] tr").first).to_have_attribute("data-id", str(live[-1]))
    expect(row(page, live[0])).to_contain_text("1,250.00 USD")  # the code, never "$"
    expect(page.get_by_test_id("count-received")).to_have_text("3")
    screenshot("transactions-live")

    page.get_by_role("button", name="Pause").click()
    paused = produce(4)
    expect(page.get_by_test_id("count-buffered")).to_have_text("4", timeout=LIVE_TIMEOUT)
    expect(row(page, paused[0])).to_have_count(0)
    screenshot("transactions-paused")

    page.get_by_role("button", name="Resume").click()
    for event_id in paused:
        expect(row(page, event_id)).to_be_visible()
    expect(page.get_by_test_id("count-buffered")).to_have_text("0")
    screenshot("transactions-resumed")

    asgi_server.stop()
    expect(status).to_have_text(re.compile(r"Reconnecting in \d+ s"), timeout=LIVE_TIMEOUT)
    screenshot("transactions-reconnecting")
    missed = produce(3, kind="refund", status="refunded")
    asgi_server.start()
    expect(status).to_have_text("Live", timeout=LIVE_TIMEOUT)
    for event_id in missed:
        expect(row(page, event_id)).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("count-received")).to_have_text("10")
    screenshot("transactions-reconnected")


def test_filters_are_applied_to_the_table_and_the_stream(login, page, asgi_server, viewer):
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    page.get_by_label("Kind").select_option("refund")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"kind=refund"))
    expect(page.get_by_test_id("stream-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)

    [capture] = produce(1)
    [refund] = produce(1, kind="refund", status="refunded")

    expect(row(page, refund)).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(row(page, capture)).to_have_count(0)


def test_a_minimum_typed_in_dollars_filters_in_cents(login, page, asgi_server, viewer, screenshot):
    login(viewer)
    page.goto(f"{asgi_server.url}/transactions")
    page.get_by_label("Currency").fill("USD")
    page.get_by_label("Minimum amount").fill("12.50")
    page.get_by_role("button", name="Apply filters").click()
    # The stream and the export link take minor units; the page converted exactly.
    expect(page).to_have_url(re.compile(r"min_amount=1250(&|$)"))
    expect(page).not_to_have_url(re.compile(r"[?&]min="))
    expect(page.get_by_label("Minimum amount")).to_have_value("12.50")
    expect(page.get_by_test_id("stream-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)

    [small] = produce(1, amount=1249, currency="USD")
    [enough] = produce(1, amount=1250, currency="USD")
    expect(row(page, enough)).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(row(page, enough)).to_contain_text("12.50")
    expect(row(page, small)).to_have_count(0)
    screenshot("transactions-min-amount-filter")


def test_the_feed_says_live_only_once_the_server_has_subscribed_it(
    login, page, asgi_server, viewer
):
    # The socket opens before the server has set up the subscription; an event committed in
    # between is not sent to a live-only client, so "Live" then would be a promise not kept.
    held, routes = [], {}

    def hold_the_servers_messages(ws):
        server = ws.connect_to_server()
        routes.update(page_side=ws)
        server.on_message(lambda message: held.append(message))  # kept from the page
        ws.on_message(lambda message: server.send(message))

    login(viewer)
    page.route_web_socket(re.compile(r"/ws/transactions/"), hold_the_servers_messages)
    page.goto(f"{asgi_server.url}/transactions")
    page.wait_for_timeout(1500)  # long enough for the open and the server's first heartbeat
    assert held, "the server sent its first heartbeat"
    expect(page.get_by_test_id("stream-status")).to_have_text("Connecting…")

    for message in held:
        routes["page_side"].send(message)
    expect(page.get_by_test_id("stream-status")).to_have_text("Live")
