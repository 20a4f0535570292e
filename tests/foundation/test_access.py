import pytest
from django.core.management import call_command
from django.utils import timezone

from payflow.accounts.models import ApiToken
from payflow.accounts.roles import Action, Role, can, denial_message, role_of
from payflow.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def test_anonymous_page_request_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_anonymous_api_request_gets_401_json(client):
    response = client.get("/api/v1/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) >= {"code", "message", "fields"}


def test_bearer_token_authenticates(viewer_api):
    response = viewer_api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "viewer-user"
    assert response.json()["role"] == "viewer"


def test_wrong_token_gets_401(client, viewer):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer pf_not-a-real-token"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert "Authorization" in response.json()["fields"]


def test_malformed_authorization_header_gets_401(client, viewer):
    response = client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 401


def test_revoked_token_gets_401(client, viewer):
    token, raw = api_token_create(user=viewer)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    api_token_revoke(token=token)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_token_of_inactive_user_gets_401(client, viewer):
    _, raw = api_token_create(user=viewer)
    viewer.is_active = False
    viewer.save()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_tokens_are_stored_hashed(viewer):
    token, raw = api_token_create(user=viewer)
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in {stored.token_hash, stored.display_prefix}
    assert len(stored.token_hash) == 64


@pytest.mark.urls("tests.foundation.urls")
def test_viewer_gets_403_page_naming_operator_role(client, viewer, password):
    client.login(username=viewer.username, password=password)
    response = client.get("/operator-only/")
    assert response.status_code == 403
    assert b"Operator" in response.content
    assert denial_message(Action.CREATE_PAYMENT).encode() in response.content


@pytest.mark.urls("tests.foundation.urls")
def test_operator_reaches_operator_page(client, operator, password):
    client.login(username=operator.username, password=password)
    assert client.get("/operator-only/").content == b"operator content"


@pytest.mark.urls("tests.foundation.urls")
def test_anonymous_operator_page_redirects_to_login(client):
    response = client.get("/operator-only/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_roles_are_ordered(viewer, operator, admin):
    assert role_of(viewer) is Role.VIEWER
    assert role_of(operator) is Role.OPERATOR
    assert role_of(admin) is Role.ADMIN
    assert can(viewer, Action.VIEW)
    assert not can(viewer, Action.CREATE_PAYMENT)
    assert can(operator, Action.RECONCILE_PAYOUT)
    assert not can(operator, Action.USE_CHAOS)
    assert can(admin, Action.USE_CHAOS)


def test_user_without_group_has_no_role(db):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody")
    assert role_of(nobody) is None
    assert not can(nobody, Action.VIEW)


def test_role_groups_exist_after_migrations():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}


def test_create_api_token_prints_a_working_token(client, viewer, capsys):
    call_command("create_api_token", viewer.username)
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("pf_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_create_api_token_for_unknown_user_names_the_field():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="username"):
        call_command("create_api_token", "ghost")
    assert ApiToken.objects.count() == 0


def test_seed_demo_creates_the_three_role_users(client, settings):
    settings.DEBUG = True  # the default demo password is a development convenience only
    settings.PAYFLOW_DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only")
    from django.contrib.auth import get_user_model

    users = {user.username: user for user in get_user_model().objects.all()}
    assert role_of(users["admin"]) is Role.ADMIN
    assert role_of(users["operator"]) is Role.OPERATOR
    assert role_of(users["viewer"]) is Role.VIEWER
    assert client.login(username="operator", password="payflow-demo")


def test_seed_demo_refuses_default_password_with_debug_off(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    settings.PAYFLOW_DEMO_PASSWORD = ""
    with pytest.raises(CommandError, match="PAYFLOW_DEMO_PASSWORD"):
        call_command("seed_demo", "--users-only")


def test_last_used_is_recorded(viewer_api, viewer):
    before = timezone.now()
    viewer_api.get("/api/v1/me")
    assert ApiToken.objects.get(user=viewer).last_used_at >= before


def test_viewer_post_to_operator_only_api_route_gets_403_json(viewer_api):
    response = viewer_api.post(
        "/api/v1/payments",
        {
            "amount": 1250,
            "currency": "USD",
            "beneficiary": {"name": "A", "account": "B"},
            "method": "ach",
        },
        content_type="application/json",
        headers={"Idempotency-Key": "viewer-try-1"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "Operator" in response.json()["message"]


def test_seed_demo_twice_creates_the_demo_data_once(settings):
    from payments.models import Payment
    from payouts.models import PayoutBatch
    from transactions.models import StreamEvent

    settings.DEBUG = True
    settings.PAYFLOW_DEMO_PASSWORD = ""
    call_command("seed_demo")
    counts = (Payment.objects.count(), PayoutBatch.objects.count(), StreamEvent.objects.count())
    assert all(counts)
    call_command("seed_demo")
    assert (Payment.objects.count(), PayoutBatch.objects.count(), StreamEvent.objects.count()) == (
        counts
    )
