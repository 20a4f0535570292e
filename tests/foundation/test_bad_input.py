"""Bad input never 500s: one middleware refuses NUL bytes and lone surrogates, oversize and
wrongly typed bodies; money parsing caps numbers before converting them. Nothing changes."""

import json

import pytest

from payflow.currencies import parse_major_amount
from payments.models import Payment
from tests.payments.factories import create_body, make_payment

pytestmark = pytest.mark.django_db

JSON = "application/json"


def _error(response) -> dict:
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}, body
    return body


@pytest.mark.parametrize(
    "path",
    ["/api/v1/payments/%00", "/api/v1/payments/pay%00x", "/api/v1/payments?q=%00"],
)
def test_nul_byte_in_api_path_or_query_is_a_4xx_naming_it(operator_api, path):
    response = operator_api.get(path)
    assert 400 <= response.status_code < 500, response.content
    body = _error(response)
    assert ("q" if "?" in path else "path") in body["fields"]


def test_nul_byte_in_a_query_name_is_refused(operator_api):
    response = operator_api.get("/api/v1/payments?a%00b=1")
    assert response.status_code == 422
    assert _error(response)["fields"]


@pytest.mark.parametrize("path", ["/payments/%00", "/payments?q=%00", "/payouts/%00"])
def test_nul_byte_on_a_page_gets_the_html_error_page(client, operator, path):
    client.force_login(operator)
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("text/html")
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"description": "Invoice \x00 1042"}, "description"),
        ({"beneficiary": {"name": "Acme\ud800", "account": "GB29"}}, "beneficiary.name"),
    ],
)
def test_bad_characters_in_a_json_body_name_the_field_and_change_nothing(
    operator_api, override, field
):
    body = {**create_body(), **override}
    raw = json.dumps(body)  # escapes \x00 and the lone surrogate as \u0000 / \ud800
    response = operator_api.post(
        "/api/v1/payments", raw, content_type=JSON, headers={"Idempotency-Key": "bad-chars"}
    )
    assert response.status_code == 422, response.content
    assert field in _error(response)["fields"]
    assert Payment.objects.count() == 0


def test_nul_in_a_transition_reason_changes_nothing(operator_api, operator):
    payment = make_payment(user=operator)
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "canceled", "reason": "typo\x00"},
        content_type=JSON,
    )
    assert response.status_code == 422, response.content
    assert "reason" in _error(response)["fields"]
    payment.refresh_from_db()
    assert payment.status == "draft"


def test_nul_in_a_form_field_names_it_and_changes_nothing(client, operator):
    client.force_login(operator)
    response = client.post(
        "/payments/new",
        {
            "amount": "12.50",
            "currency": "USD",
            "beneficiary_name": "Acme\x00",
            "beneficiary_account": "GB29",
            "method": "ach",
            "idempotency_key": "form-nul",
        },
    )
    assert response.status_code == 422
    assert "beneficiary_name" in response.content.decode()
    assert Payment.objects.count() == 0


def test_an_api_body_over_the_limit_is_413(operator_api, settings):
    raw = json.dumps({**create_body(), "description": "x" * (settings.PAYFLOW_MAX_BODY_BYTES)})
    response = operator_api.post(
        "/api/v1/payments", raw, content_type=JSON, headers={"Idempotency-Key": "big"}
    )
    assert response.status_code == 413
    body = _error(response)
    assert body["code"] == "payload_too_large"
    assert str(settings.PAYFLOW_MAX_BODY_BYTES) in body["message"]
    assert Payment.objects.count() == 0


def test_a_form_body_over_the_limit_is_413_page(client, operator, settings):
    client.force_login(operator)
    response = client.post("/payments/new", {"description": "x" * settings.PAYFLOW_MAX_BODY_BYTES})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_non_json_body_on_a_json_api_write_is_415(operator_api, content_type):
    response = operator_api.post(
        "/api/v1/payments",
        "amount=1",
        content_type=content_type,
        headers={"Idempotency-Key": "wrong-type"},
    )
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"
    assert Payment.objects.count() == 0


def test_multipart_stays_allowed_on_upload_paths(settings):
    from payflow.middleware import body_rule

    assert body_rule("/api/v1/bank-statements").multipart
    assert body_rule("/api/v1/bank-statements").limit == settings.PAYFLOW_MAX_UPLOAD_BYTES
    assert not body_rule("/api/v1/payments").multipart


@pytest.mark.parametrize("text", ["1e999999", "1E5", "9" * 40, "1" * 16, "inf", "NaN", "-"])
def test_money_parsing_caps_numbers_before_decimal(text):
    with pytest.raises(ValueError, match="Enter"):
        parse_major_amount(text, "USD")


def test_money_parsing_still_reads_ordinary_amounts():
    assert parse_major_amount("1,234.50", "USD") == 123450
    assert parse_major_amount("999999999999999", "KWD") == 999999999999999000


def test_page_amount_filter_overflow_names_the_field(client, viewer):
    client.force_login(viewer)
    response = client.get("/payments?currency=USD&amount_min=1e999999")
    assert response.status_code < 500
    assert "Amount from" in response.content.decode() or "amount" in response.content.decode()


def test_page_form_amount_overflow_names_the_field(client, operator):
    client.force_login(operator)
    response = client.post(
        "/payments/new",
        {
            "amount": "1e999999",
            "currency": "USD",
            "beneficiary_name": "Acme",
            "beneficiary_account": "GB29",
            "method": "ach",
            "idempotency_key": "form-overflow",
        },
    )
    assert 400 <= response.status_code < 500 or response.status_code == 200
    assert "Enter an amount" in response.content.decode()
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("value", ["1e999999", "99999999999999999999999"])
def test_api_amount_filter_overflow_is_a_4xx_naming_it(viewer_api, value):
    response = viewer_api.get(f"/api/v1/payments?amount_min={value}")
    assert response.status_code == 422, response.content
    assert "amount_min" in _error(response)["fields"]


def test_no_record_is_saved_with_a_nul_byte_whatever_wrote_it(operator):
    from payflow.exceptions import InvalidInput
    from payments.services import payment_create
    from tests.payments.factories import payment_input

    with pytest.raises(InvalidInput) as refused:
        payment_create(user=operator, data=payment_input(description="from a shell \x00"))
    assert "description" in refused.value.fields
    assert Payment.objects.count() == 0


def test_a_domain_error_a_page_does_not_handle_is_its_error_page_not_a_500(rf, operator):
    from payflow.exceptions import Conflict
    from payflow.middleware import DomainErrorMiddleware

    request = rf.get("/payments/pay_x")
    response = DomainErrorMiddleware(lambda r: None).process_exception(
        request, Conflict("The payment changed meanwhile; reload it.")
    )
    assert response.status_code == 409
    assert "The payment changed meanwhile" in response.content.decode()
