"""The webhook log: page and API for operators and staff, every delivery with its verdict."""

import pytest

from tests.payments.webhook_helpers import payment_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(client, payment_factory):
    payment = payment_factory("processing")
    event = payment_event(payment, "succeeded")
    post_event(client, event)
    post_event(client, event)
    post_event(client, payment_event(payment, "failed"), secret="whsec_not_the_one_we_use")
    return payment, event


def test_api_lists_every_delivery_with_verdict_outcome_and_payment(operator_api, deliveries):
    payment, event = deliveries
    body = operator_api.get("/api/v1/webhooks/deliveries").json()
    items = body["items"]
    assert [(i["signature"], i["outcome"]) for i in items] == [
        ("mismatch", "rejected"),
        ("valid", "duplicate"),
        ("valid", "applied"),
    ]
    applied = items[2]
    assert (applied["event_id"], applied["payment_id"], applied["payment_exists"]) == (
        event["id"],
        payment.public_id,
        True,
    )
    assert event["id"] in applied["raw_body"]


def test_api_filters_and_pages(operator_api, deliveries):
    _, event = deliveries
    rejected = operator_api.get("/api/v1/webhooks/deliveries?outcome=rejected").json()["items"]
    assert [i["outcome"] for i in rejected] == ["rejected"]
    by_event = operator_api.get(f"/api/v1/webhooks/deliveries?event_id={event['id']}").json()
    assert len(by_event["items"]) == 2
    first = operator_api.get("/api/v1/webhooks/deliveries?limit=2").json()
    second = operator_api.get(
        f"/api/v1/webhooks/deliveries?limit=2&cursor={first['next_cursor']}"
    ).json()
    assert len(first["items"]) + len(second["items"]) == 3
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [("outcome=great", "outcome"), ("signature=ok", "signature"), ("limit=0", "limit"),
     ("limit=9999", "limit"), ("cursor=garbage", "cursor")],
)  # fmt: skip
def test_bad_log_query_is_422_naming_the_field(operator_api, query, field):
    response = operator_api.get(f"/api/v1/webhooks/deliveries?{query}")
    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_viewers_cannot_read_the_log(viewer_api, client, viewer, password):
    assert viewer_api.get("/api/v1/webhooks/deliveries").status_code == 403
    client.login(username=viewer.username, password=password)
    assert client.get("/webhooks").status_code == 403


def test_admins_can_read_the_log(admin_api):
    assert admin_api.get("/api/v1/webhooks/deliveries").status_code == 200


def test_log_page_shows_deliveries_linked_to_their_payment(client, operator, password, deliveries):
    payment, event = deliveries
    client.login(username=operator.username, password=password)
    page = client.get("/webhooks").content.decode()
    assert page.count('data-delivery-outcome="') == 3
    assert f'href="/payments/{payment.public_id}"' in page
    assert event["id"] in page
    assert "signature: <strong>signature does not match</strong>" in page
    only = client.get("/webhooks?outcome=duplicate").content.decode()
    assert only.count('data-delivery-outcome="') == 1


def test_log_page_survives_a_bad_cursor(client, operator, password):
    client.login(username=operator.username, password=password)
    assert client.get("/webhooks?cursor=zzz").status_code == 302


@pytest.mark.parametrize("query", ["event_id=evt_%00", "payment_id=pay%00x"])
def test_log_filters_refuse_nul_bytes(operator_api, client, operator, password, query):
    response = operator_api.get(f"/api/v1/webhooks/deliveries?{query}")
    assert response.status_code == 422
    client.login(username=operator.username, password=password)
    assert client.get(f"/webhooks?{query}").status_code == 422  # the edge refuses NUL anywhere
