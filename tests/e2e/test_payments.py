"""A payment's life in the browser: create a draft, submit, read a blocked reason, play the
processor to success (signed webhooks), see the path on the lifecycle diagram, watch a
processor answer arrive live, refund part of a payment, and read the webhook log."""

import pytest
from playwright.sync_api import expect

from payments import processor
from payments.models import Payment, Refund, WebhookDelivery
from tests.payments.factories import make_payment

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LIVE_TIMEOUT = 20_000

pytestmark = pytest.mark.e2e


@pytest.fixture
def asgi_server(server_factory):
    # This flow is about payments, not failure injection: chaos settings another test left in
    # the shared chaos cache must not turn a click into a 503 here.
    return server_factory(CHAOS_ENABLED="0")


def test_operator_takes_a_payment_from_draft_to_success(
    login, page, asgi_server, operator, screenshot
):
    login(operator)
    page.goto(f"{asgi_server.url}/payments/new")
    page.get_by_label("Amount").fill("1250.75")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Beneficiary name").fill("Initech GmbH")
    page.get_by_label("Beneficiary account").fill("DE89370400440532013000")
    page.get_by_label("Method").select_option("sepa")
    page.get_by_label("Description").fill("Invoice 2210")
    screenshot("payments-01-new-form")
    page.get_by_role("button", name="Create payment").click()

    page.wait_for_url(f"{asgi_server.url}/payments/pay_*")
    payment = Payment.objects.get()
    detail = page.locator(".payment-detail")
    expect(detail).to_have_attribute("data-status", "draft")
    expect(page.locator(".amount-big")).to_have_text("1,250.75 EUR")
    screenshot("payments-02-draft")

    page.get_by_label("Reason for the next action").fill("Approved by finance")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(detail).to_have_attribute("data-status", "submitted")
    expect(page.locator(".timeline")).to_contain_text("Approved by finance")
    expect(page.get_by_label("Reason for the next action")).to_have_value("")

    blocked = page.locator('[data-action="succeeded"]')
    expect(blocked.get_by_role("button", name="Processor: succeeded")).to_be_disabled()
    expect(blocked.locator(".action-reason")).to_have_text(
        "The processor has not started on this payment; it must be processing before it can "
        "succeed."
    )
    expect(blocked.locator(".action-reason")).to_be_visible()
    screenshot("payments-03-submitted-with-blocked-reason")

    page.get_by_role("button", name="Processor: processing").click()
    expect(detail).to_have_attribute("data-status", "processing")
    cancel = page.locator('[data-action="canceled"]')
    expect(cancel.locator(".action-reason")).to_contain_text("cannot be canceled")
    page.get_by_role("button", name="Processor: succeeded").click()
    expect(detail).to_have_attribute("data-status", "succeeded")
    expect(page.locator(".attention")).to_contain_text("No action required")

    diagram = page.get_by_role("img", name="Lifecycle of payment")
    expect(diagram).to_be_visible()
    for edge in ["draft-submitted", "submitted-processing", "processing-succeeded"]:
        expect(diagram.locator(f'[data-edge="{edge}"]')).to_have_attribute("data-taken", "true")
    expect(diagram.locator('[data-taken="true"]')).to_have_count(3)
    expect(diagram.locator('[data-current="true"]')).to_have_attribute("data-state", "succeeded")
    screenshot("payments-04-succeeded-diagram")

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    history = list(payment.events.order_by("id"))
    assert history[1].reason == "Approved by finance"
    # The processor buttons send signed webhooks; the processor is the actor that moved it.
    assert [(e.actor_name, e.reason.split(" ")[:2]) for e in history[2:]] == [
        ("processor", ["Processor", "event"]),
        ("processor", ["Processor", "event"]),
    ]
    assert [e.to_status for e in history] == [
        "draft",
        "submitted",
        "processing",
        "succeeded",
    ]

    page.goto(f"{asgi_server.url}/payments")
    row = page.locator(f'[data-payment-id="{payment.public_id}"]')
    expect(row).to_contain_text("Succeeded")
    page.get_by_label("Status").select_option("succeeded")
    expect(page).to_have_url(
        f"{asgi_server.url}/payments?q=&status=succeeded&currency=&amount_min=&amount_max=&created_from=&created_to=&refunded="
    )
    expect(page.locator('[data-state-count="succeeded"] .count')).to_have_text("1")
    screenshot("payments-05-list-filtered")


def test_double_submitting_the_form_makes_one_payment(login, page, asgi_server, operator):
    login(operator)
    page.goto(f"{asgi_server.url}/payments/new")
    page.get_by_label("Amount").fill("1500")
    page.get_by_label("Currency").select_option("JPY")
    page.get_by_label("Beneficiary name").fill("Kyoto Instruments KK")
    page.get_by_label("Beneficiary account").fill("JP-0005-1234567")
    page.get_by_label("Method").select_option("wire")
    # Two sendings of the same rendered form, as an impatient double click makes.
    page.evaluate(
        """() => { const form = document.querySelector('form.payment-form');
                   form.requestSubmit(); form.requestSubmit(); }"""
    )
    page.wait_for_url(f"{asgi_server.url}/payments/pay_*")
    assert Payment.objects.count() == 1
    assert page.url.endswith(Payment.objects.get().public_id)


def _no_sideways_scroll(page) -> None:
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map((el) => el.tagName + '.' + el.className + ' ' +
                             Math.round(el.getBoundingClientRect().right))"""
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide


def test_a_processor_webhook_updates_the_open_page_live(
    login, page, asgi_server, operator, screenshot
):
    payment = make_payment(user=operator, status="processing", beneficiary_name="Hooli Cloud")
    login(operator)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{asgi_server.url}/payments/{payment.public_id}")
    detail = page.locator(".payment-detail")
    expect(detail).to_have_attribute("data-status", "processing")
    # The processor answers on its own (no click here): a signed webhook over HTTP.
    transport = processor.HttpTransport(f"{asgi_server.url}/webhooks/processor")
    processor.answer_payment(payment_ref=payment.public_id, target="succeeded", transport=transport)
    assert transport.statuses == [200]
    expect(detail).to_have_attribute("data-status", "succeeded", timeout=LIVE_TIMEOUT)
    expect(page.locator(".timeline")).to_contain_text("by processor")
    screenshot("payments-06-succeeded-by-webhook-1440")


def test_operator_refunds_part_of_a_payment_with_a_confirm_step(
    login, page, asgi_server, operator, screenshot
):
    payment = make_payment(user=operator, status="succeeded", amount=125_075, currency="EUR",
                           beneficiary_name="Initech GmbH")  # fmt: skip
    login(operator)
    for name, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"{asgi_server.url}/payments/{payment.public_id}")
        section = page.locator("[data-refunds]")
        left = "1,250.75" if name == "1440" else "1,150.50"
        expect(section.locator("[data-refundable]")).to_contain_text(left)
        section.get_by_label("Amount to refund").fill("100.25" if name == "1440" else "50")
        section.get_by_label("Reason (recorded in the history)").fill("Damaged on arrival")
        section.get_by_role("button", name="Review refund…").click()
        confirm = section.get_by_role("button", name="Confirm refund of")
        expect(confirm).to_be_visible()
        expect(section.get_by_role("alert")).to_contain_text("Damaged on arrival")
        _no_sideways_scroll(page)
        screenshot(f"payments-07-refund-confirm-{name}")
        confirm.click()
        expect(page.locator("[data-action-notice]")).to_contain_text("is pending")
        # The simulated processor confirms the refund by webhook; the page's refresh shows it.
        expect(section.locator('[data-refund-status="succeeded"]')).to_have_count(
            1 if name == "1440" else 2, timeout=LIVE_TIMEOUT
        )
        _no_sideways_scroll(page)
        screenshot(f"payments-08-refunded-{name}")
    expect(page.locator("[data-refunded]")).to_contain_text("150.25")
    expect(page.locator("[data-refundable]")).to_contain_text("1,100.50")
    assert sorted(Refund.objects.values_list("amount", "status")) == [
        (5000, "succeeded"),
        (10025, "succeeded"),
    ]


def test_the_webhook_log_shows_the_deliveries(login, page, asgi_server, operator, screenshot):
    payment = make_payment(user=operator, status="processing")
    url = f"{asgi_server.url}/webhooks/processor"
    transport = processor.HttpTransport(url)
    event = processor.answer_payment(
        payment_ref=payment.public_id, target="succeeded", transport=transport
    )
    raw, headers = processor.signed(event)
    transport(raw, headers)  # a redelivery
    transport(raw, {**headers, "PayFlow-Signature": "t=1,v1=" + "0" * 64})  # stale, refused
    assert transport.statuses == [200, 200, 401]
    assert WebhookDelivery.objects.count() == 3
    login(operator)
    for name, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"{asgi_server.url}/webhooks")
        deliveries = page.locator("[data-delivery-outcome]")
        expect(deliveries).to_have_count(3)
        expect(page.locator('[data-delivery-outcome="applied"]')).to_contain_text(event["id"])
        expect(page.locator('[data-delivery-outcome="duplicate"]')).to_be_visible()
        expect(page.locator('[data-delivery-outcome="rejected"]')).to_contain_text("timestamp")
        page.locator('[data-delivery-outcome="applied"] summary').click()
        expect(page.locator('[data-delivery-outcome="applied"] .raw-body')).to_contain_text(
            payment.public_id
        )
        _no_sideways_scroll(page)
        screenshot(f"payments-09-webhook-log-{name}")
    page.locator('[data-delivery-outcome="applied"]').get_by_role(
        "link", name=payment.public_id
    ).click()
    expect(page.locator(".payment-detail")).to_have_attribute("data-status", "succeeded")
