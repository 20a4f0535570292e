"""Small copy fixes: plurals, and no promise of refunds that do not exist yet."""

import pytest

from payments.transitions import blocked_reason
from payouts.models import PayoutBatchEvent
from tests.payouts.factories import make_batch


@pytest.mark.django_db
def test_a_one_item_batch_says_one_item():
    batch = make_batch(items=1)
    reasons = list(PayoutBatchEvent.objects.filter(batch=batch).values_list("reason", flat=True))
    assert any(reason.startswith("Submitted 1 item,") for reason in reasons), reasons
    assert not any("1 items" in reason for reason in reasons)


def test_a_succeeded_payment_promises_no_refund():
    reason = blocked_reason("succeeded", "failed")
    assert "Refunds are not available yet" in reason
    assert "returned with a refund" not in reason


@pytest.mark.django_db
def test_a_succeeded_payment_page_does_not_promise_a_refund(client, viewer, operator):
    from tests.payments.factories import make_payment

    payment = make_payment(user=operator, status="succeeded")
    client.force_login(viewer)
    html = client.get(f"/payments/{payment.public_id}").content.decode()
    assert "returned with a refund" not in html
    assert "Refunds are not available yet" in html
