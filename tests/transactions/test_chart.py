"""The volume and failure-rate chart: the numbers per minute, drawn and written out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from transactions.models import Transaction
from transactions.selectors import volume_per_minute

pytestmark = pytest.mark.django_db


def test_volume_and_failures_per_minute(client, viewer):
    now = timezone.now().replace(second=30, microsecond=0)
    for status in ["captured", "captured", "failed", "declined"]:
        Transaction.objects.create(
            kind="capture",
            amount=1,
            currency="USD",
            merchant="m",
            status=status,
            created_at=now - timedelta(minutes=2),
        )
    Transaction.objects.create(
        kind="capture",
        amount=1,
        currency="USD",
        merchant="m",
        status="captured",
        created_at=now - timedelta(hours=3),
    )
    buckets = volume_per_minute(minutes=60, now=now)
    assert len(buckets) == 60
    assert sum(count for _, count, _ in buckets) == 4  # the 3-hour-old one is outside
    assert [b[1:] for b in buckets if b[1]] == [(4, 2)]
    client.force_login(viewer)
    html = client.get("/transactions/chart").content.decode()
    assert 'data-total="4" data-failed="2"' in html
    assert "4 transactions, 2 failed or declined (50.0%)" in html
    assert "<title" in html
    assert "<table>" in html
