"""A payment's life in the browser: create a draft, submit, read a blocked reason, play the
processor to success, and see the path on the lifecycle diagram."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment

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
    assert [e.reason for e in history][1:3] == [
        "Approved by finance",
        "The processor is processing the payment.",
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
        f"{asgi_server.url}/payments?q=&status=succeeded&currency=&amount_min=&amount_max=&created_from=&created_to="
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
