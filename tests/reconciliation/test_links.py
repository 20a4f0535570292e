"""Statement lines and payout items link to each other both ways, on the pages and in the API
(``links`` objects), and exceptions link to their lines and items."""

import pytest
from django.test import Client

from reconciliation import services
from reconciliation.models import ReconciliationException, StatementLine
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def recon(operator):
    batch = make_batch(status="in_transit", items=3, amount=10_000)
    settled, short, _ = batch.items.order_by("pk")
    day = batch.expected_settlement_date
    data = csv(
        [
            Entry("debit", f"{settled.amount / 100:.2f}", settled.public_id, value_date=day),
            Entry("debit", "1.00", short.public_id, value_date=day),
        ],
        currency="USD",
    )
    statement = services.statement_import(data=data, actor=operator).statement
    lines = {line.index: line for line in StatementLine.objects.filter(statement=statement)}
    exception = ReconciliationException.objects.get(reason="amount_mismatch")
    return batch, settled, short, statement, lines, exception


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_settled_item_links_to_its_line_on_the_statement_page(viewer, recon):
    batch, settled, _short, statement, lines, _ = recon
    client = logged_in(viewer)
    page = client.get(f"/payouts/{batch.public_id}").content.decode()
    line = lines[1].public_id
    assert f'href="/reconciliation/lines/{line}"' in page
    response = client.get(f"/reconciliation/lines/{line}")
    assert response.status_code == 302
    assert response["Location"] == f"/reconciliation/statements/{statement.public_id}#line-{line}"
    assert client.get("/reconciliation/lines/bsl_nope").status_code == 404


def test_a_matched_line_links_to_the_item_and_batch_it_settled(viewer, recon):
    batch, settled, _short, statement, lines, _ = recon
    page = logged_in(viewer).get(f"/reconciliation/statements/{statement.public_id}")
    html = page.content.decode()
    assert f'id="line-{lines[1].public_id}"' in html
    assert f'href="/payouts/items/{settled.public_id}"' in html
    assert f'href="/payouts/{batch.public_id}"' in html


def test_exceptions_link_to_their_line_and_items_on_the_queue_and_their_page(viewer, recon):
    _batch, _settled, short, _statement, lines, exception = recon
    client = logged_in(viewer)
    for url in ("/reconciliation/exceptions", f"/reconciliation/exceptions/{exception.public_id}"):
        html = client.get(url).content.decode()
        assert f'href="/reconciliation/lines/{lines[2].public_id}"' in html, url
        assert f'href="/payouts/items/{short.public_id}"' in html, url


def test_the_api_carries_the_same_links(viewer_api, recon):
    batch, settled, short, statement, lines, exception = recon
    line = lines[1].public_id
    body = viewer_api.get(f"/api/v1/payouts/{batch.public_id}").json()
    item = next(i for i in body["items"] if i["id"] == settled.public_id)
    assert item["links"]["statement_line"] == f"/api/v1/bank-statement-lines/{line}"
    assert item["links"]["statement_line_page"] == f"/reconciliation/lines/{line}"
    pending = next(i for i in body["items"] if i["id"] == short.public_id)
    assert "statement_line" not in pending["links"]

    body = viewer_api.get(item["links"]["statement_line"]).json()
    assert body["links"]["statement"] == f"/api/v1/bank-statements/{statement.public_id}"
    (matched,) = body["match"]["items"]
    assert (matched["id"], matched["outcome"], matched["payout_batch"]) == (
        settled.public_id,
        "settled",
        batch.public_id,
    )
    assert matched["links"]["payout_batch"] == f"/api/v1/payouts/{batch.public_id}"
    assert matched["links"]["page"] == f"/payouts/items/{settled.public_id}"
    assert viewer_api.get("/api/v1/bank-statement-lines/bsl_nope").status_code == 404

    statement_body = viewer_api.get(body["links"]["statement"]).json()
    assert statement_body["links"]["page"] == f"/reconciliation/statements/{statement.public_id}"

    (row,) = viewer_api.get("/api/v1/reconciliation/exceptions").json()["items"]
    assert row["links"]["line"] == f"/api/v1/bank-statement-lines/{lines[2].public_id}"
    assert row["links"]["line_page"] == f"/reconciliation/lines/{lines[2].public_id}"
    assert row["candidate_links"][short.public_id]["payout_batch"] == (
        f"/api/v1/payouts/{batch.public_id}"
    )
    detail = viewer_api.get(row["links"]["self"]).json()
    assert detail["line"]["links"]["page"] == row["links"]["line_page"]
    line_body = viewer_api.get(row["links"]["line"]).json()
    assert line_body["match"] is None
    assert line_body["exceptions"][0]["links"]["self"] == row["links"]["self"]
