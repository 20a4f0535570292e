"""The API's one access layer: every operation declares the role it needs; none is open."""

import pytest
from django.contrib.auth import get_user_model

from payflow.accounts.services import api_token_create
from payflow.api import RoleRequired, api

pytestmark = pytest.mark.django_db


def _operations():
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield f"{prefix}{path}", operation


def test_every_api_operation_declares_a_role():
    undeclared = [
        f"{','.join(operation.methods)} {path}"
        for path, operation in _operations()
        if not any(isinstance(callback, RoleRequired) for callback in operation.auth_callbacks)
    ]
    assert undeclared == []


@pytest.mark.parametrize(
    "path", ["/api/v1/payments", "/api/v1/payments/pay_missing", "/api/v1/me", "/api/v1/"]
)
def test_a_user_with_no_role_is_refused_by_the_payments_api(client, path):
    user = get_user_model().objects.create_user("nobody", password="x")
    _, raw = api_token_create(user=user)
    response = client.get(path, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "viewer" in response.json()["message"].lower()
