"""On PostgreSQL: one statement imported twice at once is applied once; two approvals of one
resolution at once apply it once."""

import hashlib
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client

from payflow.accounts.roles import Role
from payflow.accounts.services import api_token_create
from payouts.models import PayoutBatchEvent
from reconciliation import services
from reconciliation.models import Approval, BankStatement, Match, ReconciliationException
from tests.factories import UserFactory
from tests.payouts.factories import make_batch
from tests.reconciliation.builders import Entry, csv

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def _client(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})


def _run_held(hold, calls):
    """Start every call while ``hold`` keeps a lock, wait until all queue on it, release."""
    answers: list = [None] * len(calls)

    def run(position, call):
        try:
            answers[position] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    with transaction.atomic():
        hold()
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_locks() == len(calls)
        transaction.set_rollback(True)
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_the_same_statement_imported_twice_at_once_is_applied_once():
    batch = make_batch(status="in_transit", items=2, amount=10_000)
    item = batch.items.order_by("pk").first()
    data = csv(
        [
            Entry(
                "debit",
                f"{item.amount / 100:.2f}",
                item.public_id,
                value_date=batch.expected_settlement_date,
            ),
            Entry("debit", "1.00", "UNKNOWN"),
        ],
        currency="USD",
    )
    users = [UserFactory(username=f"ops-{n}", role=Role.OPERATOR) for n in range(2)]
    clients = [_client(user) for user in users]

    def hold():
        # A row with the same hash, never committed: both imports wait on the unique index.
        BankStatement.objects.create(
            format="csv",
            account="hold",
            currency="USD",
            statement_id="hold",
            opening_balance=0,
            closing_balance=0,
            sha256=hashlib.sha256(data).hexdigest(),
            imported_by_name="test",
        )

    def call(client):
        return lambda: client.post(
            "/api/v1/bank-statements", {"file": SimpleUploadedFile("s.csv", data)}
        )

    answers = _run_held(hold, [call(c) for c in clients])

    assert sorted(a.status_code for a in answers) == [200, 201], [a.json() for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert BankStatement.objects.count() == 1
    assert Match.objects.count() == 1
    assert ReconciliationException.objects.count() == 1
    item.refresh_from_db()
    assert item.status == "settled"
    assert PayoutBatchEvent.objects.filter(kind="item", batch=batch).count() == 1


def test_two_approvals_at_once_apply_once():
    batch = make_batch(status="in_transit", items=1, amount=10_000)
    item = batch.items.get()
    maker, *approvers = [UserFactory(username=f"ops-{n}", role=Role.OPERATOR) for n in range(3)]
    data = csv(
        [Entry("debit", "50.00", item.public_id, value_date=batch.expected_settlement_date)],
        currency="USD",
    )
    services.statement_import(data=data, actor=maker)
    exception = ReconciliationException.objects.get(reason="amount_mismatch")
    resolution = services.resolution_propose(
        exception_id=exception.public_id,
        action="match",
        items=[item.public_id],
        note="Partial payment confirmed by the bank",
        actor=maker,
    )
    url = f"/api/v1/reconciliation/exceptions/{exception.public_id}/approvals"

    def call(client):
        return lambda: client.post(
            url, {"resolution": resolution.public_id}, content_type="application/json"
        )

    answers = _run_held(
        lambda: ReconciliationException.objects.select_for_update().get(pk=exception.pk),
        [call(_client(user)) for user in approvers],
    )

    assert sorted(a.status_code for a in answers) == [201, 409], [a.json() for a in answers]
    assert Approval.objects.count() == 1
    assert Match.objects.count() == 1
    item.refresh_from_db()
    assert item.status == "settled"
    assert PayoutBatchEvent.objects.filter(kind="item", batch=batch).count() == 1
