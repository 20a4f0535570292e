"""The payments pages: list with filters and partials, the create form, detail and actions."""

import re

import pytest

from payflow.idempotency.models import IdempotencyKey
from payments.models import Payment, PaymentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, operator, password):
    client.login(username=operator.username, password=password)
    return client


@pytest.fixture
def viewer_client(client, viewer, password):
    client.login(username=viewer.username, password=password)
    return client


def form_data(**overrides):
    data = {
        "amount": "12.50",
        "currency": "USD",
        "beneficiary_name": "Acme Supplies Ltd",
        "beneficiary_account": "GB29NWBK60161331926819",
        "method": "ach",
        "description": "Invoice 1042",
        "idempotency_key": "form-key-1",
    }
    data.update(overrides)
    return data


# --- list ------------------------------------------------------------------------------------


def test_anonymous_list_redirects_to_login(client):
    response = client.get("/payments")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_list_shows_payments_counts_and_badges(viewer_client, payment_factory):
    payment_factory(status="succeeded", beneficiary_name="Globex Corporation")
    payment_factory(status="requires_action")
    response = viewer_client.get("/payments")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Globex Corporation" in html
    assert 'class="badge badge-ok" data-status="succeeded"' in html
    assert re.search(r'data-state-count="requires_action".*?class="count">1<', html, re.S)
    assert re.search(r'data-state-count="draft".*?class="count">0<', html, re.S)
    assert 'data-section="payments-table"' in html
    assert "data-updated-at=" in html


def test_list_partial_answers_only_the_results(viewer_client, payment_factory):
    payment_factory()
    response = viewer_client.get("/payments?partial=results", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "payments-table" in html
    assert response["X-Data-Updated-At"]


def test_list_filters_by_status_and_search(viewer_client, payment_factory):
    keep = payment_factory(status="requires_action", beneficiary_name="Globex Corporation")
    drop = payment_factory(status="requires_action", beneficiary_name="Initech GmbH")
    other = payment_factory(beneficiary_name="Globex Corporation")
    html = viewer_client.get("/payments?status=requires_action&q=globex").content.decode()
    assert keep.public_id in html
    assert drop.public_id not in html
    assert other.public_id not in html


def test_list_stuck_filter_shows_only_long_processing(viewer_client, payment_factory):
    from datetime import timedelta

    from django.utils import timezone

    stuck = payment_factory(status="processing")
    Payment.objects.filter(pk=stuck.pk).update(
        status_changed_at=timezone.now() - timedelta(hours=1)
    )
    fresh = payment_factory(status="processing")
    html = viewer_client.get("/payments?stuck=1").content.decode()
    assert stuck.public_id in html
    assert fresh.public_id not in html
    assert "attention-required" in html


def test_list_amount_filter_needs_a_currency_and_says_so(viewer_client):
    response = viewer_client.get("/payments?amount_min=10")
    assert response.status_code == 200
    assert "Choose a currency to filter by amount." in response.content.decode()


def test_list_pagination_links_to_older_payments(viewer_client, payment_factory):
    made = [payment_factory(amount=100 + i) for i in range(27)]
    html = viewer_client.get("/payments").content.decode()
    assert made[-1].public_id in html
    assert made[0].public_id not in html
    cursor = re.search(r'rel="next" href="\?cursor=([^"&]+)"', html).group(1)
    older = viewer_client.get(f"/payments?cursor={cursor}").content.decode()
    assert made[0].public_id in older
    assert made[-1].public_id not in older


def test_list_with_a_broken_cursor_starts_again(viewer_client):
    response = viewer_client.get("/payments?cursor=garbage")
    assert response.status_code == 302
    assert response["Location"] == "/payments"


# --- create form -----------------------------------------------------------------------------


def test_new_form_carries_a_fresh_idempotency_key(operator_client):
    first = operator_client.get("/payments/new").content.decode()
    second = operator_client.get("/payments/new").content.decode()
    key_pattern = r'name="idempotency_key" value="([0-9a-f]{32})"'
    assert re.search(key_pattern, first).group(1) != re.search(key_pattern, second).group(1)


def test_create_form_makes_a_payment_and_redirects(operator_client):
    response = operator_client.post("/payments/new", form_data())
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/payments/{payment.public_id}"
    assert (payment.amount, payment.currency, payment.status) == (1250, "USD", "draft")


def test_double_submit_lands_on_the_same_payment(operator_client):
    first = operator_client.post("/payments/new", form_data(submit_now="on"))
    second = operator_client.post("/payments/new", form_data(submit_now="on"))
    assert Payment.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert Payment.objects.get().status == "submitted"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "12.345"}, "amount", "12.345 has more decimals than USD allows (2)"),
        ({"amount": "1.5", "currency": "JPY"}, "amount", "JPY has no minor unit"),
        ({"amount": "abc"}, "amount", "Enter an amount as a number"),
        ({"amount": "-3"}, "amount", "greater than zero"),
        ({"amount": "0"}, "amount", "greater than zero"),
        ({"amount": "9999999999999"}, "amount", "must be below"),
        ({"currency": "XYZ"}, "currency", "Select a valid choice"),
        ({"beneficiary_name": ""}, "beneficiary_name", "required"),
        ({"method": "cash"}, "method", "Select a valid choice"),
    ],
)
def test_create_form_errors_are_inline_and_create_nothing(
    operator_client, overrides, field, message
):
    response = operator_client.post("/payments/new", form_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(rf'data-field-error="{field}">[^<]*{re.escape(message)}', html), html[-3000:]
    assert Payment.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_submit_while_the_first_is_running_waits_then_opens_the_payment(operator_client, operator):
    from payflow.idempotency.services import request_fingerprint
    from payments.services import check_payment_input

    data = check_payment_input(
        amount=1250,
        currency="USD",
        beneficiary_name="Acme Supplies Ltd",
        beneficiary_account="GB29NWBK60161331926819",
        method="ach",
        description="Invoice 1042",
    )
    claim = IdempotencyKey.objects.create(
        user=operator,
        key="form-key-1",
        scope="payments.create",
        fingerprint=request_fingerprint(scope="payments.create", payload=data.__dict__),
        claim_token="x",
    )
    response = operator_client.post("/payments/new", form_data())
    assert response.status_code == 302
    assert response["Location"] == "/payments/new?pending=form-key-1"
    waiting = operator_client.get(response["Location"])
    assert waiting.status_code == 202
    assert 'http-equiv="refresh"' in waiting.content.decode()
    assert Payment.objects.count() == 0

    from tests.payments.factories import make_payment

    payment = make_payment(user=operator)
    claim.resource_id = payment.public_id
    claim.state = "completed"
    claim.save()
    done = operator_client.get(response["Location"])
    assert done["Location"] == f"/payments/{payment.public_id}"


def test_kwd_amount_uses_three_decimals(operator_client):
    operator_client.post("/payments/new", form_data(amount="1.250", currency="KWD"))
    assert Payment.objects.get().amount == 1250


def test_viewer_cannot_open_the_create_form(viewer_client):
    response = viewer_client.get("/payments/new")
    assert response.status_code == 403
    assert "Operator" in response.content.decode()


def test_viewer_post_to_create_is_refused(viewer_client):
    assert viewer_client.post("/payments/new", form_data()).status_code == 403
    assert Payment.objects.count() == 0


# --- detail and actions ----------------------------------------------------------------------


def test_detail_shows_diagram_actions_reasons_and_history(operator_client, payment_factory):
    payment = payment_factory(status="processing")
    html = operator_client.get(f"/payments/{payment.public_id}").content.decode()
    assert 'role="img"' in html
    assert '<title id="lifecycle-title">' in html
    assert 'data-edge="draft-submitted" data-taken="true"' in html
    assert 'data-edge="submitted-processing" data-taken="true"' in html
    assert 'data-edge="processing-succeeded" data-taken' not in html
    assert re.search(r'data-state="processing" data-current="true"', html)
    assert (
        "A payment already at the processor cannot be canceled; wait for it to succeed or fail."
        in html
    )
    assert "No action required" in html
    assert html.count("data-history-to=") == 3


def test_requires_action_says_action_required(viewer_client, payment_factory):
    payment = payment_factory(status="requires_action")
    html = viewer_client.get(f"/payments/{payment.public_id}").content.decode()
    assert 'class="attention attention-required"' in html
    assert "Needs an operator:" in html  # a viewer cannot act on it; says who can


def test_requires_action_tells_an_operator_action_required(client, operator, payment_factory):
    client.force_login(operator)
    payment = payment_factory(status="requires_action")
    html = client.get(f"/payments/{payment.public_id}").content.decode()
    assert "Action required:" in html


def test_viewer_sees_actions_disabled_with_the_role_reason(viewer_client, payment_factory):
    payment = payment_factory()
    html = viewer_client.get(f"/payments/{payment.public_id}").content.decode()
    assert "hx-post" not in html
    assert "You need the Operator role" in html


def test_unknown_payment_page_is_404(viewer_client):
    assert viewer_client.get("/payments/pay_nope").status_code == 404


def test_htmx_action_rerenders_the_detail_body(operator_client, payment_factory):
    payment = payment_factory()
    response = operator_client.post(
        f"/payments/{payment.public_id}/transitions",
        {"to": "submitted", "reason": "Approved by finance", "expected_version": 1},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-status="submitted"' in html
    assert "Approved by finance" in html
    assert Payment.objects.get(pk=payment.pk).status == "submitted"


def test_htmx_blocked_action_shows_the_reason_and_changes_nothing(operator_client, payment_factory):
    payment = payment_factory(status="processing")
    response = operator_client.post(
        f"/payments/{payment.public_id}/transitions",
        {"to": "canceled"},
        headers={"HX-Request": "true"},
    )
    assert "data-action-error" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == "processing"
    assert PaymentEvent.objects.filter(payment=payment).count() == 3


def test_stale_page_action_is_a_conflict_message(operator_client, payment_factory):
    payment = payment_factory(status="processing")
    response = operator_client.post(
        f"/payments/{payment.public_id}/transitions",
        {"to": "succeeded", "expected_version": 1},
        headers={"HX-Request": "true"},
    )
    assert "changed while this request was on its way" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == "processing"


def test_simulated_failure_records_the_code(operator_client, payment_factory):
    payment = payment_factory(status="processing")
    operator_client.post(
        f"/payments/{payment.public_id}/transitions",
        {"to": "failed", "failure_code": "card_declined", "expected_version": payment.version},
        headers={"HX-Request": "true"},
    )
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "card_declined")


def test_action_without_htmx_redirects_back(operator_client, payment_factory):
    payment = payment_factory()
    response = operator_client.post(
        f"/payments/{payment.public_id}/transitions", {"to": "submitted"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/payments/{payment.public_id}"


def test_viewer_cannot_post_an_action(viewer_client, payment_factory):
    payment = payment_factory()
    response = viewer_client.post(f"/payments/{payment.public_id}/transitions", {"to": "submitted"})
    assert response.status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == "draft"


def test_detail_history_is_newest_first_and_the_diagram_still_follows_the_path(
    viewer_client, payment_factory
):
    payment = payment_factory(status="succeeded")
    html = viewer_client.get(f"/payments/{payment.public_id}").content.decode()
    shown = re.findall(r'data-history-to="(\w+)"', html)
    assert shown == ["succeeded", "processing", "submitted", "draft"]
    assert "Processing → <strong>Succeeded</strong>" in html
    # The path diagram reads the same history oldest first.
    for edge in ("draft-submitted", "submitted-processing", "processing-succeeded"):
        assert f'data-edge="{edge}" data-taken="true"' in html
