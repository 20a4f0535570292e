"""Reconciliation pages: upload, statement detail, queue, resolve with a note, approve."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from payflow.accounts.roles import Role
from reconciliation.models import ReconciliationException
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, mt940

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def imported(operator):
    batch = make_batch(status="in_transit", items=2, amount=10_000)
    item = batch.items.order_by("pk").first()
    data = mt940(
        [
            Entry(
                "debit",
                f"{item.amount / 100:.2f}",
                item.public_id,
                value_date=batch.expected_settlement_date,
            ),
            Entry("debit", "7.00", "MYSTERY"),
        ],
        currency="USD",
    )
    client = logged_in(operator)
    response = client.post(
        "/reconciliation/statements", {"file": SimpleUploadedFile("s.sta", data)}
    )
    return client, response, item


def test_upload_redirects_to_the_statement_with_matches_and_exceptions(imported):
    client, response, item = imported
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "2 lines: 1 matched, 1 exceptions" in html
    assert item.public_id in html
    assert "Unmatched line" in html


def test_bad_upload_is_422_with_the_reason(operator):
    client = logged_in(operator)
    data = mt940([Entry("debit", "1.00")], currency="USD", closing="5.00")
    response = client.post(
        "/reconciliation/statements", {"file": SimpleUploadedFile("s.sta", data)}
    )
    assert response.status_code == 422
    assert "balances do not add up" in response.content.decode()


def test_viewer_sees_pages_but_cannot_upload(viewer, imported):
    client = logged_in(viewer)
    assert client.get("/reconciliation").status_code == 200
    assert client.get("/reconciliation/exceptions").status_code == 200
    assert "upload-form" not in client.get("/reconciliation").content.decode()
    response = client.post("/reconciliation/statements", {})
    assert response.status_code == 403


def test_queue_resolve_and_approve_through_the_pages(imported):
    client, _response, _item = imported
    exception = ReconciliationException.objects.get()
    queue = client.get("/reconciliation/exceptions?status=open").content.decode()
    assert exception.public_id in queue

    url = f"/reconciliation/exceptions/{exception.public_id}"
    assert client.post(f"{url}/assign", {"owner": "me"}).status_code == 302
    refused = client.post(f"{url}/resolve", {"action": "write_off", "note": ""})
    assert refused.status_code == 422
    assert "note" in refused.content.decode()
    assert (
        client.post(f"{url}/resolve", {"action": "write_off", "note": "Bank fee"}).status_code
        == 302
    )
    own = client.get(url).content.decode()
    assert "own-proposal" in own

    resolution = exception.resolutions.get()
    second = logged_in(UserFactory(username="op2", role=Role.OPERATOR))
    unconfirmed = second.post(f"{url}/approve", {"resolution": resolution.public_id})
    assert unconfirmed.status_code == 422
    done = second.post(f"{url}/approve", {"resolution": resolution.public_id, "confirm": "yes"})
    assert done.status_code == 302
    exception.refresh_from_db()
    assert exception.status == "resolved"


def test_admin_lists_are_read_only(admin, imported):
    client = logged_in(admin)
    assert client.get("/admin/reconciliation/reconciliationexception/").status_code == 200
    assert client.get("/admin/reconciliation/bankstatement/").status_code == 200
    assert client.get("/admin/reconciliation/bankstatement/add/").status_code == 403


def test_exception_history_is_newest_first(imported):
    client, _response, _item = imported
    exception = ReconciliationException.objects.get()
    url = f"/reconciliation/exceptions/{exception.public_id}"
    assert client.post(f"{url}/assign", {"owner": "me"}).status_code == 302
    html = client.get(url).content.decode()
    history = html[html.index('data-testid="history"') :]
    assert history.index("<strong>Assigned</strong>") < history.index("<strong>Created</strong>")


def test_escalated_exceptions_tell_a_viewer_who_can_act(viewer, imported):
    ReconciliationException.objects.update(sla_deadline=timezone.now() - dt.timedelta(hours=1))
    html = logged_in(viewer).get("/reconciliation/exceptions").content.decode()
    assert "Needs an operator: 1 exception past its SLA." in html
    assert "Action required" not in html
