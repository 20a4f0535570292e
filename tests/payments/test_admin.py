"""The admin shows payments read-only; status changes go through the transition service."""

import pytest

from payments.models import Payment, PaymentEvent, Refund, RefundEvent
from transactions.models import StreamEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin, password):
    client.login(username=admin.username, password=password)
    return client


def test_changelist_filters_and_searches(admin_client, payment_factory):
    payment = payment_factory(beneficiary_name="Globex Corporation")
    payment_factory(beneficiary_name="Initech GmbH")
    response = admin_client.get("/admin/payments/payment/?q=globex&status__exact=draft")
    assert response.status_code == 200
    assert payment.public_id in response.content.decode()
    assert "Initech" not in response.content.decode()


def test_change_page_is_read_only_with_history(admin_client, payment_factory):
    payment = payment_factory(status="submitted")
    html = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert 'name="status"' not in html
    assert "Change status…" in html
    assert "Submitted for processing." in html  # the history inline


def test_posting_a_status_to_the_change_form_changes_nothing(admin_client, payment_factory):
    payment = payment_factory()
    admin_client.post(
        f"/admin/payments/payment/{payment.pk}/change/", {"status": "succeeded", "_save": "Save"}
    )
    assert Payment.objects.get(pk=payment.pk).status == "draft"


def test_transition_form_uses_the_service(admin_client, payment_factory):
    payment = payment_factory(status="processing")
    url = f"/admin/payments/payment/{payment.pk}/transition/"
    page = admin_client.get(url).content.decode()
    assert "cannot be canceled" in page  # blocked moves listed with their reason
    events_before = StreamEvent.objects.count()
    response = admin_client.post(
        url,
        {
            "to": "failed",
            "reason": "Bank confirmed the account is closed",
            "failure_code": "account_closed",
            "expected_version": payment.version,
        },
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "account_closed")
    last = PaymentEvent.objects.filter(payment=payment).last()
    assert (last.actor_name, last.reason) == ("admin-user", "Bank confirmed the account is closed")
    assert StreamEvent.objects.count() == events_before + 1


def test_transition_form_refuses_an_illegal_move(admin_client, payment_factory):
    payment = payment_factory(status="processing")
    response = admin_client.post(
        f"/admin/payments/payment/{payment.pk}/transition/",
        {"to": "canceled", "reason": "try", "expected_version": payment.version},
    )
    assert response.status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == "processing"


def test_bulk_cancel_action_reports_refusals(admin_client, payment_factory):
    draft = payment_factory()
    processing = payment_factory(status="processing")
    response = admin_client.post(
        "/admin/payments/payment/",
        {"action": "move_to_canceled", "_selected_action": [draft.pk, processing.pk]},
        follow=True,
    )
    assert Payment.objects.get(pk=draft.pk).status == "canceled"
    assert Payment.objects.get(pk=processing.pk).status == "processing"
    assert "cannot be canceled" in response.content.decode()


def test_history_rows_cannot_be_changed_or_deleted(payment_factory):
    from payflow.models import AppendOnlyError

    event = PaymentEvent.objects.filter(payment=payment_factory()).first()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def inline_rows(response, model) -> list:
    """The rows an admin change page shows in its inline of ``model``, in page order."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return [form.instance for form in inline.formset.forms]
    raise AssertionError(f"no inline of {model.__name__}")


def test_history_inlines_are_newest_first(admin_client, payment_factory, operator_api):
    payment = payment_factory(status="succeeded")
    response = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/")
    shown = [event.to_status for event in inline_rows(response, PaymentEvent)]
    assert shown == ["succeeded", "processing", "submitted", "draft"]

    created = operator_api.post(
        f"/api/v1/payments/{payment.public_id}/refunds",
        {"amount": 100, "reason": "Goods returned"},
        content_type="application/json",
        headers={"Idempotency-Key": "refund-admin-order"},
    )
    assert created.status_code == 201, created.content
    refund = Refund.objects.get(public_id=created.json()["id"])
    RefundEvent.objects.create(
        refund=refund, from_status="pending", to_status="succeeded", actor_name="processor"
    )
    response = admin_client.get(f"/admin/payments/refund/{refund.pk}/change/")
    assert [event.to_status for event in inline_rows(response, RefundEvent)] == [
        "succeeded",
        "pending",
    ]
