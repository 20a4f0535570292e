import pytest

from tests.transactions.streamclient import produce

pytestmark = pytest.mark.django_db


def test_page_shows_the_newest_events_with_filters(client, viewer, password):
    produce(2, amount=10)
    [big] = produce(1, amount=99_000)
    client.login(username=viewer.username, password=password)

    response = client.get("/transactions?min_amount=1000")

    assert response.status_code == 200
    rows = response.context["events"]
    assert [row.id for row in rows] == [big]
    assert b'data-ws-url="/ws/transactions/"' in response.content
    assert f'data-last-id="{big}"'.encode() in response.content


def test_page_with_a_bad_filter_says_which_and_shows_everything(client, viewer, password):
    produce(2)
    client.login(username=viewer.username, password=password)
    response = client.get("/transactions?currency=dollars")
    assert response.status_code == 200
    assert b"Filter not applied: currency" in response.content
    assert len(response.context["events"]) == 2


def test_page_list_uses_a_fixed_number_of_queries(
    client, viewer, password, django_assert_max_num_queries
):
    produce(60)
    client.login(username=viewer.username, password=password)
    with django_assert_max_num_queries(8):
        client.get("/transactions")


def test_anonymous_page_goes_to_login(client):
    response = client.get("/transactions")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sse_without_login_is_401_json(client):
    response = client.get("/stream/transactions/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_sse_with_a_bad_filter_is_422_naming_the_field(client, viewer, password):
    client.login(username=viewer.username, password=password)
    response = client.get("/stream/transactions/?kind=chargeback")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["kind"]


def test_sse_with_a_bad_last_event_id_is_422(client, viewer, password):
    client.login(username=viewer.username, password=password)
    response = client.get("/stream/transactions/", headers={"Last-Event-ID": "x"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["Last-Event-ID"]


def test_user_without_a_role_gets_403_on_sse(client, django_user_model, password):
    django_user_model.objects.create_user("norole", password=password)
    client.login(username="norole", password=password)
    response = client.get("/stream/transactions/")
    assert response.status_code == 403
    assert "Viewer" in response.json()["message"]


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("12.50", "USD", "1250"), ("1250", "JPY", "1250"), ("1.250", "KWD", "1250")],
)
def test_a_typed_minimum_becomes_minor_units_of_the_chosen_currency(
    client, viewer, typed, currency, minor
):
    client.force_login(viewer)
    response = client.get("/transactions", {"currency": currency, "min": typed, "min_amount": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/transactions?currency={currency}&min_amount={minor}"
    page = client.get(response["Location"])
    assert page.context["min_typed"] == typed


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"currency": "USD", "min": "12.505"}, "12.505 has more decimals than USD allows (2)."),
        ({"currency": "JPY", "min": "12.5"}, "12.5 has decimals, but JPY has no minor unit."),
        ({"min": "12.50"}, "12.50 needs exactly one currency to be read in; choose one."),
        ({"currency": "USD,EUR", "min": "5"}, "5 needs exactly one currency"),
        ({"currency": "USD", "min": "-1"}, "-1 is below zero"),
    ],
)
def test_a_bad_typed_minimum_is_named_and_the_feed_runs_unfiltered(client, viewer, query, says):
    produce(2, amount=10)
    client.force_login(viewer)
    response = client.get("/transactions", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Filter not applied: minimum amount" in html
    assert says in html
    assert len(response.context["events"]) == 2
    assert 'data-query=""' in html


def test_minor_units_without_one_currency_are_labelled_as_such(client, viewer):
    client.force_login(viewer)
    html = client.get("/transactions?min_amount=1250").content.decode()
    assert "Minimum 1250 in minor units, from the link" in html
