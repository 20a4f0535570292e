"""The payment page's processor buttons (via the simulated processor) and refund section."""

import pytest

from payments.models import Refund, SimulatedProcessorRecord

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def operator_client(client, operator, password):
    client.login(username=operator.username, password=password)
    return client


def test_processor_button_asks_the_simulated_processor_and_waits_for_its_webhook(
    operator_client, payment_factory, settings
):
    settings.PROCESSOR_WEBHOOK_URL = "http://127.0.0.1:9/webhooks/processor"  # nobody listens
    payment = payment_factory("processing")
    response = operator_client.post(
        f"/payments/{payment.public_id}/simulate", {"to": "succeeded"}, headers=HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "signed webhook" in page
    assert 'data-awaiting="succeeded"' in page
    assert SimulatedProcessorRecord.objects.get(payment_ref=payment.public_id).status == "succeeded"
    payment.refresh_from_db()
    assert payment.status == "processing"  # only the webhook moves it


def test_viewer_cannot_press_processor_buttons(client, viewer, password, payment_factory):
    payment = payment_factory("processing")
    client.login(username=viewer.username, password=password)
    response = client.post(f"/payments/{payment.public_id}/simulate", {"to": "succeeded"})
    assert response.status_code == 403
    assert not SimulatedProcessorRecord.objects.exists()


def test_unknown_simulation_target_is_refused_naming_it(operator_client, payment_factory):
    payment = payment_factory("processing")
    response = operator_client.post(
        f"/payments/{payment.public_id}/simulate", {"to": "refunded"}, headers=HTMX
    )
    assert "to:" in response.content.decode()
    assert not SimulatedProcessorRecord.objects.exists()


def test_awaiting_poll_stops_once_the_state_is_reached_or_after_a_few_tries(
    operator_client, payment_factory
):
    payment = payment_factory("succeeded")
    page = operator_client.get(f"/payments/{payment.public_id}?partial=body&awaiting=succeeded")
    assert "data-awaiting" not in page.content.decode()
    other = payment_factory("processing")
    waiting = operator_client.get(f"/payments/{other.public_id}?awaiting=succeeded&polls=3")
    assert 'data-awaiting="succeeded"' in waiting.content.decode()
    done = operator_client.get(f"/payments/{other.public_id}?awaiting=succeeded&polls=15")
    assert "data-awaiting" not in done.content.decode()


def test_refund_needs_a_confirm_step(operator_client, payment_factory):
    payment = payment_factory("succeeded", amount=1250)
    form = {"amount": "5.00", "reason": "Damaged goods", "idempotency_key": "form-key-1"}
    review = operator_client.post(f"/payments/{payment.public_id}/refunds", form, headers=HTMX)
    assert review.status_code == 200
    assert "Confirm refund of $5.00" in review.content.decode() or "Confirm refund of" in (
        review.content.decode()
    )
    assert Refund.objects.count() == 0
    confirmed = operator_client.post(
        f"/payments/{payment.public_id}/refunds", {**form, "confirmed": "on"}, headers=HTMX
    )
    assert "is pending" in confirmed.content.decode()
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status) == (500, "Damaged goods", "pending")
    again = operator_client.post(
        f"/payments/{payment.public_id}/refunds", {**form, "confirmed": "on"}, headers=HTMX
    )
    assert again.status_code == 200
    assert Refund.objects.count() == 1  # the same form key: a double submit is one refund


def test_refund_form_names_a_bad_amount(operator_client, payment_factory):
    payment = payment_factory("succeeded", amount=1250)
    response = operator_client.post(
        f"/payments/{payment.public_id}/refunds",
        {"amount": "5.001", "reason": "x", "idempotency_key": "k"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "field-error" in response.content.decode()
    assert Refund.objects.count() == 0


def test_refund_over_the_refundable_is_explained_on_the_page(operator_client, payment_factory):
    payment = payment_factory("succeeded", amount=1250)
    response = operator_client.post(
        f"/payments/{payment.public_id}/refunds",
        {"amount": "20.00", "reason": "x", "idempotency_key": "k", "confirmed": "on"},
        headers=HTMX,
    )
    assert "can still be refunded" in response.content.decode()
    assert Refund.objects.count() == 0


def test_page_of_an_unsucceeded_payment_says_why_it_cannot_be_refunded(
    operator_client, payment_factory
):
    payment = payment_factory("processing")
    page = operator_client.get(f"/payments/{payment.public_id}").content.decode()
    assert "Only a succeeded payment can be refunded" in page
    assert "Review refund" not in page


def test_succeeded_payment_page_shows_refunded_and_refundable(operator_client, payment_factory):
    payment = payment_factory("succeeded", amount=1250)
    page = operator_client.get(f"/payments/{payment.public_id}").content.decode()
    assert "Review refund" in page
    assert "still refundable" in page
