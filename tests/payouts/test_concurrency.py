"""Concurrency on PostgreSQL: two reconciliations of one batch (one wins, the other is told who
won); 40 identical retried calls with one Idempotency-Key record once; pay again and a
reconciliation of the same item cannot both win."""

import threading
import time
import uuid

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
                headers={"Idempotency-Key": uuid.uuid4().hex},
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


def _client_for(user):
    return Client(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})


def test_forty_identical_reconciliation_calls_with_one_key_record_once():
    batch = make_batch(status=BatchStatus.REQUIRES_RECONCILIATION)
    user = UserFactory(username="ops-retry", role=Role.OPERATOR)
    client = _client_for(user)
    body = {"outcome": "settled", "note": "Statement line 7 confirms every item"}
    answers = []
    gate = threading.Barrier(40)

    def call():
        try:
            gate.wait(timeout=20)
            answers.append(
                client.post(
                    f"/api/v1/payouts/{batch.public_id}/reconciliations",
                    body,
                    content_type="application/json",
                    headers={"Idempotency-Key": "retry-me"},
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == 40
    codes = {answer.status_code for answer in answers}
    assert codes <= {201, 409}, codes
    refused = [answer.json()["code"] for answer in answers if answer.status_code == 409]
    assert set(refused) <= {"idempotency_key_in_use"}
    assert PayoutReconciliation.objects.filter(batch=batch).count() == 1
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.SETTLED
    # Everyone retrying after the first finished gets the same answer, replayed.
    late = client.post(
        f"/api/v1/payouts/{batch.public_id}/reconciliations",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "retry-me"},
    )
    assert late.status_code == 201
    assert late.headers["Idempotent-Replayed"] == "true"
    assert PayoutReconciliation.objects.filter(batch=batch).count() == 1


@pytest.mark.parametrize("round_", range(3))
def test_pay_again_and_a_reconciliation_of_the_same_item_cannot_both_win(round_):
    from payouts.models import PayoutItem
    from payouts.services import payout_batch_reconcile
    from tests.payouts.invariants import assert_payout_invariants

    batch = make_batch(status=BatchStatus.PARTIALLY_SETTLED)
    failed = batch.items.get(status="failed")
    users = [UserFactory(username=f"ops-race-{round_}-{n}", role=Role.OPERATOR) for n in range(2)]
    payout_batch_reconcile(
        batch_id=batch.public_id,
        outcome=BatchStatus.PARTIALLY_SETTLED,
        note="R03 confirmed",
        actor=users[0],
        source="test",
    )
    clients = [_client_for(user) for user in users]
    answers: dict[str, object] = {}

    def pay_again():
        try:
            answers["pay"] = clients[0].post(
                f"/api/v1/payouts/items/{failed.public_id}/pay-again",
                {},
                content_type="application/json",
            )
        finally:
            connection.close()

    def settle():
        # The statement shows the money left after all: a correction to settled.
        try:
            answers["settle"] = clients[1].post(
                f"/api/v1/payouts/{batch.public_id}/reconciliations",
                {
                    "note": "Found on the statement",
                    "items": [{"id": failed.public_id, "outcome": "settled"}],
                },
                content_type="application/json",
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_again), threading.Thread(target=settle)]
    with transaction.atomic():
        PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        for thread in threads if round_ % 2 == 0 else threads[::-1]:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=20)

    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [201, 409], {k: v.json() for k, v in answers.items()}
    item = PayoutItem.objects.get(pk=failed.pk)
    paid_again = PayoutItem.objects.filter(retry_of=item).exists()
    assert not (item.status == "settled" and paid_again)
    assert (answers["pay"].status_code == 201) == paid_again
    assert_payout_invariants()
