"""Two reconciliations of one batch at once on PostgreSQL: one wins, the other is told who won."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from payflow.accounts.roles import Role
from payflow.accounts.services import api_token_create
from payouts.models import PayoutBatch, PayoutReconciliation
from payouts.transitions import BatchStatus
from tests.factories import UserFactory
from tests.payouts.factories import make_batch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # pg_locks, not pg_stat_activity: the latter is a snapshot inside a transaction.
        cursor.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def test_two_concurrent_reconciliations_one_wins_the_other_is_refused():
    batch = make_batch(status=BatchStatus.REQUIRES_RECONCILIATION)
    users = [UserFactory(username=f"ops-{n}", role=Role.OPERATOR) for n in range(2)]
    clients = [
        Client(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})
        for user in users
    ]
    answers: dict[str, object] = {}

    def reconcile(client, user):
        try:
            answers[user.username] = client.post(
                f"/api/v1/payouts/{batch.public_id}/reconciliations",
                {"outcome": "settled", "note": f"Confirmed by {user.username}"},
                content_type="application/json",
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=reconcile, args=(client, user))
        for client, user in zip(clients, users, strict=True)
    ]
    # Hold the batch's row lock so both requests are in flight, queued on it, at once.
    with transaction.atomic():
        PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=20)

    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [201, 409]
    winner = next(name for name, answer in answers.items() if answer.status_code == 201)
    loser = next(answer for answer in answers.values() if answer.status_code == 409)
    assert loser.json()["code"] == "already_reconciled"
    assert loser.json()["reconciled_by"] == winner
    assert winner in loser.json()["message"]
    assert PayoutReconciliation.objects.filter(batch=batch).count() == 1
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.SETTLED
