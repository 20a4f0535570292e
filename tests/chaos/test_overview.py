import pytest

from payments.transitions import PaymentStatus
from payouts.transitions import BatchStatus
from tests.payments.factories import make_payment
from tests.payouts.factories import make_batch

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_login_lands_on_the_overview(client, viewer, password):
    response = client.post(
        "/login/", {"username": viewer.username, "password": password}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"What needs a human now" in response.content


def test_a_quiet_day_says_no_action_required_for_payments_and_payouts(viewer_client):
    html = viewer_client.get("/").content.decode()
    assert "No action required: no payment is waiting for a person." in html
    assert "No action required: every payout batch is on track." in html
    assert "No action required: chaos is off, nothing is injected." in html
    for section in ["overview-payments", "overview-payouts", "overview-stream", "overview-chaos"]:
        assert f'data-section="{section}"' in html


def test_payments_and_payouts_needing_a_person_are_counted_and_linked(viewer_client, operator):
    make_payment(user=operator, status=PaymentStatus.REQUIRES_ACTION, beneficiary_name="Globex")
    make_batch(status=BatchStatus.REQUIRES_RECONCILIATION, actor=operator)

    html = viewer_client.get("/").content.decode()

    # A viewer cannot act on them: the overview says who can.
    assert "Needs an operator: 1 payment waiting for action." in html
    assert 'href="/payments?status=requires_action"' in html
    assert 'href="/payments?stuck=1"' in html
    assert "to Globex" in html
    assert "Needs an operator: 1 payout batch needs a person." in html
    assert 'href="/payouts?needs_attention=1"' in html


def test_each_section_refreshes_alone_with_its_data_time(viewer_client):
    for name in ["payments", "payouts", "stream", "chaos"]:
        response = viewer_client.get(f"/?partial={name}", headers=HX)
        assert response.status_code == 200, name
        assert b"<html" not in response.content
        assert response.has_header("X-Data-Updated-At")


def test_a_failing_source_degrades_its_section_only(viewer_client, monkeypatch):
    import payments.selectors

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(payments.selectors, "payment_attention_summary", broken)

    page = viewer_client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-section="overview-payments"' in html
    assert "Payments needing a person cannot be shown right now" in html
    assert html.count('data-state="degraded"') == 1
    assert "No action required: every payout batch is on track." in html

    refresh = viewer_client.get("/?partial=payments", headers=HX)
    assert refresh.status_code == 503  # the browser keeps its last data and marks it stale
    assert viewer_client.get("/?partial=payouts", headers=HX).status_code == 200


def test_staff_are_told_to_turn_chaos_off_after_the_rehearsal(admin_client, admin, committing):
    from chaos.services import chaos_preset_apply

    with committing():
        chaos_preset_apply(actor=admin, name="intermittent_failures")
    # The full page: this preset fails a share of section refreshes, never the page at /.
    html = admin_client.get("/").content.decode()
    assert "Action required when the rehearsal ends: turn chaos off." in html
    assert "Intermittent Failures" in html
