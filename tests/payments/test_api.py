"""The payments API: creation with idempotency, bad input, roles, reads, list and cursor."""

import pytest

from payflow.idempotency.models import IdempotencyKey
from payments.models import Payment, PaymentEvent
from tests.payments.factories import create_body

pytestmark = pytest.mark.django_db


def post_create(client, body, key="key-1", **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/payments", body, content_type="application/json", headers=headers)


# --- creation and idempotency ---------------------------------------------------------------


def test_first_use_creates_a_draft_with_actions(operator_api):
    response = post_create(operator_api, create_body())
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("pay_")
    assert body["status"] == "draft"
    assert (body["amount"], body["currency"], body["currency_exponent"]) == (1250, "USD", 2)
    assert body["beneficiary"] == {"name": "Acme Supplies Ltd", "account": "GB29NWBK60161331926819"}
    assert body["method"] == "ach"
    assert {"created_at", "actions"} <= set(body)
    actions = {action["to"]: action for action in body["actions"]}
    assert set(actions) == {
        "draft",
        "submitted",
        "processing",
        "requires_action",
        "succeeded",
        "failed",
        "canceled",
    }
    assert actions["submitted"] == {"to": "submitted", "allowed": True, "reason": None}
    assert actions["succeeded"]["allowed"] is False
    assert actions["succeeded"]["reason"]
    assert "Idempotent-Replayed" not in response
    assert Payment.objects.count() == 1


def test_submit_true_creates_and_submits_in_one_step(operator_api):
    response = post_create(operator_api, create_body(submit=True))
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"
    payment = Payment.objects.get()
    assert [e.to_status for e in payment.events.all()] == ["draft", "submitted"]


def test_same_key_same_body_replays_without_a_new_payment(operator_api):
    first = post_create(operator_api, create_body())
    second = post_create(operator_api, create_body())
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_replay_ignores_json_spacing_and_key_order(operator_api):
    post_create(operator_api, create_body())
    raw = (
        '{"method":"ach","description":"Invoice 1042","currency":"USD",'
        '"beneficiary":{"account":"GB29NWBK60161331926819","name":"Acme Supplies Ltd"},'
        '"amount":1250}'
    )
    again = operator_api.post(
        "/api/v1/payments",
        raw,
        content_type="application/json",
        headers={"Idempotency-Key": "key-1"},
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_same_key_different_body_is_refused(operator_api):
    post_create(operator_api, create_body())
    response = post_create(operator_api, create_body(amount=999))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Payment.objects.count() == 1


def test_keys_are_scoped_per_user(operator_api, admin_api):
    post_create(operator_api, create_body())
    response = post_create(admin_api, create_body())
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Payment.objects.count() == 2


def test_missing_key_is_refused(operator_api):
    response = post_create(operator_api, create_body(), key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("key", ["k" * 300, "k" * 256, "naïve-key", "tab\there"])
def test_malformed_key_is_refused(operator_api, key):
    response = post_create(operator_api, create_body(), key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Payment.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_255_character_key_is_fine(operator_api):
    assert post_create(operator_api, create_body(), key="k" * 255).status_code == 201


def _claim_in_progress(user, body, *, key="key-1", age_seconds=0):
    from datetime import timedelta

    from django.utils import timezone

    from payflow.idempotency.services import request_fingerprint
    from payments.services import check_payment_input

    data = check_payment_input(
        amount=body["amount"],
        currency=body["currency"],
        beneficiary_name=body["beneficiary"]["name"],
        beneficiary_account=body["beneficiary"]["account"],
        method=body["method"],
        description=body["description"],
        submit=body.get("submit", False),
    )
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        scope="payments.create",
        fingerprint=request_fingerprint(scope="payments.create", payload=data.__dict__),
        claim_token="someone-else",
        claimed_at=timezone.now() - timedelta(seconds=age_seconds),
    )


def test_key_still_in_progress_answers_409_with_retry_after(operator_api, operator):
    _claim_in_progress(operator, create_body())
    response = post_create(operator_api, create_body())
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert int(response["Retry-After"]) >= 1
    assert Payment.objects.count() == 0


def test_in_progress_key_with_another_body_is_still_a_reuse(operator_api, operator):
    _claim_in_progress(operator, create_body())
    response = post_create(operator_api, create_body(amount=5))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_claim_abandoned_by_a_crashed_worker_is_taken_over(operator_api, operator):
    _claim_in_progress(operator, create_body(), age_seconds=3600)
    response = post_create(operator_api, create_body())
    assert response.status_code == 201
    assert Payment.objects.count() == 1
    assert IdempotencyKey.objects.get().state == "completed"


def test_a_refused_creation_releases_its_key(operator_api, settings):
    settings.PAYMENT_AMOUNT_CEILING_MINOR = 1000
    refused = post_create(operator_api, create_body(amount=5000))
    assert refused.status_code == 422
    assert IdempotencyKey.objects.count() == 0
    assert post_create(operator_api, create_body(amount=500)).status_code == 201


def test_the_stored_record_holds_key_user_fingerprint_and_answer(operator_api, operator):
    response = post_create(operator_api, create_body())
    record = IdempotencyKey.objects.get()
    assert record.user == operator
    assert record.key == "key-1"
    assert len(record.fingerprint) == 64
    assert record.response_status == 201
    assert record.response_body == response.json()
    assert record.created_at is not None
    assert record.resource_id == response.json()["id"]


# --- bad input: 4xx JSON naming the field, nothing created -----------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": 12.0}, "amount"),
        ({"amount": "1250"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 2**63}, "amount"),
        ({"amount": 100_000_000_000}, "amount"),
        ({"amount": None}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"method": "cash"}, "method"),
        ({"beneficiary": {"name": "  ", "account": "123"}}, "beneficiary.name"),
        ({"beneficiary": {"name": "A", "account": ""}}, "beneficiary.account"),
        ({"beneficiary": {"name": "A"}}, "beneficiary.account"),
        ({"submit": "yes"}, "submit"),
        ({"description": "x" * 501}, "description"),
        ({"amonut": 5}, "amonut"),
    ],
)
def test_bad_create_input_names_the_field_and_creates_nothing(operator_api, overrides, field):
    response = post_create(operator_api, create_body(**overrides))
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"], body
    assert Payment.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("missing", ["amount", "currency", "beneficiary", "method"])
def test_missing_required_field_is_named(operator_api, missing):
    body = create_body()
    del body[missing]
    response = post_create(operator_api, body)
    assert response.status_code == 422
    assert missing in response.json()["fields"]
    assert Payment.objects.count() == 0


def test_body_that_is_not_json_is_a_400(operator_api):
    response = operator_api.post(
        "/api/v1/payments",
        "{not json",
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_unknown_target_state_names_to(payment_factory, operator_api):
    payment = payment_factory()
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "refunded"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "to" in response.json()["fields"]
    assert PaymentEvent.objects.filter(payment=payment).count() == 1


def test_transition_of_unknown_payment_is_404(operator_api):
    response = operator_api.post(
        "/api/v1/payments/pay_doesnotexist/transitions",
        {"to": "submitted"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "payment_id" in response.json()["fields"]


def test_get_unknown_payment_is_404(viewer_api):
    response = viewer_api.get("/api/v1/payments/pay_doesnotexist")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"to": "failed", "failure_code": "no_such_code"}, "failure_code"),
        ({"to": "submitted", "failure_code": "card_declined"}, "failure_code"),
        ({"to": "submitted", "reason": "x" * 501}, "reason"),
        ({"to": 3}, "to"),
        ({}, "to"),
        ({"to": "submitted", "expected_version": "1"}, "expected_version"),
    ],
)
def test_bad_transition_input_names_the_field(payment_factory, operator_api, payload, field):
    payment = payment_factory(status="submitted" if payload.get("to") == "failed" else "draft")
    before = PaymentEvent.objects.count()
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        payload,
        content_type="application/json",
    )
    assert response.status_code == 422, response.json()
    assert field in response.json()["fields"]
    assert PaymentEvent.objects.count() == before


def test_failing_records_the_failure_code(payment_factory, operator_api):
    payment = payment_factory(status="processing")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "failed", "reason": "Issuer said no", "failure_code": "insufficient_funds"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["failure_code"], body["failure_message"]) == (
        "insufficient_funds",
        "Issuer said no",
    )
    assert body["history"][0]["failure_code"] == "insufficient_funds"


def test_stale_expected_version_is_a_conflict(payment_factory, operator_api):
    payment = payment_factory(status="processing")
    response = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "succeeded", "expected_version": payment.version - 1},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transition_conflict"
    assert Payment.objects.get(pk=payment.pk).status == "processing"


# --- roles -----------------------------------------------------------------------------------


def test_viewer_cannot_create(viewer_api):
    response = post_create(viewer_api, create_body())
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "Operator" in response.json()["message"]
    assert Payment.objects.count() == 0


def test_viewer_cannot_transition(viewer_api, payment_factory):
    payment = payment_factory()
    response = viewer_api.post(
        f"/api/v1/payments/{payment.public_id}/transitions",
        {"to": "submitted"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == "draft"


def test_viewer_reads_and_sees_role_reasons(viewer_api, payment_factory):
    payment = payment_factory()
    response = viewer_api.get(f"/api/v1/payments/{payment.public_id}")
    assert response.status_code == 200
    submit = next(a for a in response.json()["actions"] if a["to"] == "submitted")
    assert submit["allowed"] is False
    assert "Operator role" in submit["reason"]


def test_operator_can_create_and_transition(operator_api):
    created = post_create(operator_api, create_body())
    moved = operator_api.post(
        f"/api/v1/payments/{created.json()['id']}/transitions",
        {"to": "submitted"},
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "submitted"


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/payments").status_code == 401


def test_session_post_without_csrf_token_is_refused(operator, password):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.login(username=operator.username, password=password)
    response = post_create(browser, create_body())
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert Payment.objects.count() == 0


# --- reads -----------------------------------------------------------------------------------


def test_detail_has_history_newest_first_and_actions(payment_factory, operator_api):
    payment = payment_factory(status="processing")
    body = operator_api.get(f"/api/v1/payments/{payment.public_id}").json()
    assert [(h["from"], h["to"]) for h in body["history"]] == [
        ("submitted", "processing"),
        ("draft", "submitted"),
        (None, "draft"),
    ]
    assert all(h["actor"] == "operator-user" for h in body["history"])
    allowed = {a["to"] for a in body["actions"] if a["allowed"]}
    assert allowed == {"requires_action", "succeeded", "failed"}


def test_list_filters_and_paginates_newest_first(payment_factory, operator_api):
    made = [payment_factory(amount=100 * (i + 1)) for i in range(5)]
    payment_factory(currency="JPY", amount=5000)
    first = operator_api.get("/api/v1/payments?currency=USD&limit=2").json()
    assert [p["id"] for p in first["items"]] == [made[4].public_id, made[3].public_id]
    second = operator_api.get(
        f"/api/v1/payments?currency=USD&limit=2&cursor={first['next_cursor']}"
    ).json()
    assert [p["id"] for p in second["items"]] == [made[2].public_id, made[1].public_id]
    third = operator_api.get(
        f"/api/v1/payments?currency=USD&limit=2&cursor={second['next_cursor']}"
    ).json()
    assert [p["id"] for p in third["items"]] == [made[0].public_id]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=submitted", {"s"}),
        ("amount_min=200&amount_max=300", {"b"}),
        ("q=globex", {"b"}),
        ("currency=eur", {"c"}),
    ],
)
def test_list_filters(payment_factory, operator_api, query, expected):
    ids = {
        "a": payment_factory(amount=100).public_id,
        "b": payment_factory(amount=250, beneficiary_name="Globex Corp").public_id,
        "c": payment_factory(amount=900, currency="EUR").public_id,
        "s": payment_factory(amount=1000, status="submitted").public_id,
    }
    items = operator_api.get(f"/api/v1/payments?{query}").json()["items"]
    assert {p["id"] for p in items} == {ids[name] for name in expected}


def test_list_search_by_id_prefix(payment_factory, operator_api):
    payment = payment_factory()
    payment_factory()
    items = operator_api.get(f"/api/v1/payments?q={payment.public_id[:12]}").json()["items"]
    assert [p["id"] for p in items] == [payment.public_id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("status=refunded", "status"),
        ("currency=XYZ", "currency"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("amount_min=abc", "amount_min"),
        ("created_from=yesterday", "created_from"),
        ("created_from=2026-01-01T00:00:00", "created_from"),
    ],
)
def test_bad_list_query_names_the_field(operator_api, query, field):
    response = operator_api.get(f"/api/v1/payments?{query}")
    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_list_by_created_range(payment_factory, operator_api):
    from datetime import timedelta

    old = payment_factory()
    Payment.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=3))
    new = payment_factory()
    since = (new.created_at - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    items = operator_api.get(f"/api/v1/payments?created_from={since}").json()["items"]
    assert [p["id"] for p in items] == [new.public_id]


def test_list_accepts_any_valid_utc_offset(payment_factory, operator_api):
    # +20:19 is valid ISO 8601 but beyond PostgreSQL's ±15:59: the API converts to UTC first.
    payment = payment_factory()
    response = operator_api.get("/api/v1/payments?created_from=0895-03-05T07:37:15%2B20:19")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [payment.public_id]


def test_an_instant_that_leaves_the_calendar_in_utc_bounds_at_its_edge(
    payment_factory, operator_api
):
    # Valid RFC 3339, before 0001-01-01T00:00Z once in UTC: as a bound, the calendar's start.
    payment = payment_factory()
    before = operator_api.get("/api/v1/payments?created_to=0001-01-01T00:00:00%2B01:00")
    assert before.status_code == 200
    assert before.json()["items"] == []
    after = operator_api.get("/api/v1/payments?created_from=0001-01-01T00:00:00%2B01:00")
    assert [p["id"] for p in after.json()["items"]] == [payment.public_id]


def test_openapi_documents_the_payments_endpoints(viewer_api):
    spec = viewer_api.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/payments",
        "/api/v1/payments/{payment_id}",
        "/api/v1/payments/{payment_id}/transitions",
    } <= set(spec["paths"])
    create = spec["paths"]["/api/v1/payments"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
