"""The list at 100,000 payments: the first page costs a fixed, small number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from payments.models import Payment
from payments.transitions import ALL_STATES

pytestmark = pytest.mark.django_db
ROWS = 100_000


@pytest.fixture
def hundred_thousand_payments(operator):
    # Rows go in with one executemany: the ORM's bulk_create takes ~10 s here for the same rows.
    start = timezone.now() - timedelta(days=30)
    adapt = connection.ops.adapt_datetimefield_value
    columns = [
        "public_id",
        "amount",
        "currency",
        "beneficiary_name",
        "beneficiary_account",
        "description",
        "method",
        "status",
        "failure_code",
        "failure_message",
        "created_by_id",
        "created_at",
        "updated_at",
        "status_changed_at",
        "version",
    ]
    rows = [
        (
            f"pay_bulk{i:012d}",
            100 + i,
            ("USD", "EUR", "JPY", "KWD")[i % 4],
            f"Beneficiary {i % 500}",
            f"ACCT-{i:08d}",
            "",
            "ach",
            ALL_STATES[i % len(ALL_STATES)],
            "",
            "",
            operator.pk,
            adapt(start + timedelta(seconds=i * 20)),
            adapt(start),
            adapt(start),
            1,
        )
        for i in range(ROWS)
    ]
    table, names = Payment._meta.db_table, ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: ~10x faster than executemany there
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


def test_list_first_pages_use_bounded_queries_at_100k(
    hundred_thousand_payments,
    operator_api,
    client,
    operator,
    password,
    django_assert_max_num_queries,
):
    assert Payment.objects.count() == ROWS
    operator_api.get("/api/v1/payments")  # warm the token's last-used stamp

    # API: token + role + one list query, however many payments there are.
    with django_assert_max_num_queries(4):
        body = operator_api.get("/api/v1/payments?limit=100").json()
    assert len(body["items"]) == 100
    assert body["items"][0]["id"] == f"pay_bulk{ROWS - 1:012d}"
    with django_assert_max_num_queries(4):
        second = operator_api.get(f"/api/v1/payments?limit=100&cursor={body['next_cursor']}")
    assert second.json()["items"][0]["id"] == f"pay_bulk{ROWS - 101:012d}"

    # Page: session, user, role, the page of rows and the per-state counts.
    client.login(username=operator.username, password=password)
    with django_assert_max_num_queries(8):
        page = client.get("/payments?status=succeeded")
    assert page.status_code == 200
    assert page.content.decode().count("data-payment-id=") == 25
    with django_assert_max_num_queries(8):
        partial = client.get("/payments?partial=results&currency=JPY", headers={"HX-Request": "1"})
    assert partial.content.decode().count("data-payment-id=") == 25
