"""The payouts list answers its first page in a fixed number of queries at 20,000 batches and
1,000,000 items (rows are bulk-inserted in SQL so the test stays quick)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payouts.models import PayoutBatch, PayoutItem
from payouts.transitions import BatchStatus
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db
BATCHES = 20_000
ITEMS_PER_BATCH = 50  # 1,000,000 items


def bulk_load_batches(count: int) -> None:
    now = timezone.now()
    statuses = BatchStatus.values
    PayoutBatch.objects.bulk_create(
        [
            PayoutBatch(
                public_id=f"po_scale{n:08d}",
                name=f"Scale batch {n}",
                currency="USD",
                rail="ach",
                business_days=2,
                calendar="US",
                bank_time_zone="America/New_York",
                cutoff=dt.time(17),
                submitted_at=now - dt.timedelta(minutes=n),
                expected_settlement_date=(now - dt.timedelta(minutes=n)).date(),
                settlement_deadline=now + dt.timedelta(days=1 - n % 3),
                status=statuses[n % len(statuses)],
                status_changed_at=now,
            )
            for n in range(count)
        ],
        batch_size=2_000,
    )


def bulk_load_items(per_batch: int) -> None:
    """Every batch gets ``per_batch`` items in one INSERT ... SELECT."""
    columns = (
        "public_id, batch_id, recipient_name, account_reference, amount, status, reason_code, "
        "failure_message, bank_reference, reference, statement_line_id, updated_at"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO payouts_payoutitem ({columns}) "
                "SELECT 'poi_' || b.id || '_' || s.n, b.id, 'Recipient', '••••1234', 100 + s.n, "
                "'pending', '', '', '', '', '', now() "
                "FROM payouts_payoutbatch b CROSS JOIN generate_series(1, %s) AS s(n)",
                [per_batch],
            )
        else:
            cursor.execute(
                f"INSERT INTO payouts_payoutitem ({columns}) "
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) "
                "SELECT 'poi_' || b.id || '_' || s.n, b.id, 'Recipient', '••••1234', 100 + s.n, "
                "'pending', '', '', '', '', '', CURRENT_TIMESTAMP FROM payouts_payoutbatch b, s",
                [per_batch],
            )


def first_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as page:
        response = client.get("/payouts")
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as api:
        assert client.get("/api/v1/payouts").status_code == 200
    return len(page), len(api)


def test_first_page_costs_the_same_queries_at_a_million_items(client, viewer):
    client.force_login(viewer)  # the password check is the login tests' job
    for _ in range(3):
        make_batch()
    small = first_page_queries(client)

    bulk_load_batches(BATCHES)
    bulk_load_items(ITEMS_PER_BATCH)
    assert PayoutItem.objects.count() >= BATCHES * ITEMS_PER_BATCH
    large = first_page_queries(client)

    assert large == small
    page_queries, api_queries = large
    assert page_queries <= 8
    assert api_queries <= 8
