"""Deny by default, as a matrix: every page route (from the URL conf) and every API operation
(from the OpenAPI document) x anonymous / no role / viewer / operator / admin gets the answer its
declaration documents. A new route that declares nothing fails here (and in the system check).
"""

import re
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client
from django.urls import reverse

from payflow.access import ACCESS_CHECKED_IN_VIEW, page_routes, route_access, undeclared_page_routes
from payflow.accounts.decorators import PUBLIC
from payflow.accounts.roles import Role, assign_role, required_role
from payflow.accounts.services import api_token_create
from payflow.api import api

pytestmark = pytest.mark.django_db

# Public routes that authenticate the caller by a signature instead of a login.
SIGNED = {"payments:processor_webhook"}
WHO = ["anonymous", "no_role", "viewer", "operator", "admin"]
RANK = {"no_role": 0, "viewer": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
_PARAM = re.compile(r"<(?:\w+:)?\w+>|\{\w+\}")


def _concrete(route: str) -> str:
    # An int converter only matches digits; a missing object is still what each role asks for.
    route = re.sub(r"<int:\w+>", "0", route)
    return "/" + _PARAM.sub("missing", route).lstrip("/")


def _user(who: str):
    if who == "anonymous":
        return None
    user = get_user_model().objects.create_user(f"matrix-{who}", password="x")
    if who != "no_role":
        assign_role(user, Role[who.upper()])
    return user


def _page_client(who: str) -> Client:
    client = Client()
    user = _user(who)
    if user is not None:
        client.force_login(user)
    return client


def _page_cases():
    for route, name, callback in page_routes():
        for who in WHO:
            # Streams read through channels' database_sync_to_async, which closes connections:
            # harmless outside the test transaction, so stream cases run in real transactions.
            marks = (
                [pytest.mark.django_db(transaction=True)] if name in ACCESS_CHECKED_IN_VIEW else []
            )
            yield pytest.param(route, name, callback, who, id=f"{name or route}-{who}", marks=marks)


def _stream_get(who: str, url: str):
    """Streams are ASGI-only: call them through the async client; never read the stream."""

    async def call():
        client = AsyncClient()
        user = await sync_to_async(_user)(who)
        if user is not None:
            await client.aforce_login(user)
        response = await client.get(url)
        if getattr(response, "streaming", False):
            await sync_to_async(response.close)()
        return response

    return async_to_sync(call)()


def _get_or_post(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    if getattr(response, "streaming", False):
        response.close()
    return response


def test_no_page_route_is_undeclared():
    assert undeclared_page_routes() == []


@pytest.mark.parametrize(("route", "name", "callback", "who"), list(_page_cases()))
def test_page_matrix(route, name, callback, who):
    access = route_access(name, callback)
    assert access is not None, f"{route} declares no access"
    if name in ACCESS_CHECKED_IN_VIEW:
        response = _stream_get(who, _concrete(route))
    else:
        response = _get_or_post(_page_client(who), _concrete(route))
    status, location = response.status_code, response.get("Location", "")
    if access == PUBLIC and name in SIGNED:
        # Open to every role alike: the signature, not a login, decides (unsigned here: 401).
        assert status == 401, (route, who, status)
        assert "?next=" not in location, (route, who)
    elif access == PUBLIC:
        assert status not in (401, 403), (route, who, status)
        assert "?next=" not in location, (route, who)
    elif who == "anonymous" and name in ACCESS_CHECKED_IN_VIEW:
        assert status == 401, (route, status)  # streams answer in JSON, no login page
    elif who == "anonymous":
        assert status == 302, (route, status)
        assert location.startswith("/login/"), (route, location)
    elif RANK[who] < required_role(access):
        assert status == 403, (route, who, status)
    else:
        assert status not in (401, 403), (route, who, status)
        assert not location.startswith("/login/"), (route, who)


def _api_operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method, doc in methods.items():
            yield path, method, doc


def _api_cases():
    for path, method, doc in _api_operations():
        for who in WHO:
            yield pytest.param(path, method, doc, who, id=f"{method.upper()} {path}-{who}")


def test_every_api_operation_documents_its_role():
    undocumented = [
        f"{method.upper()} {path}"
        for path, method, doc in _api_operations()
        if "x-required-role" not in doc
    ]
    assert undocumented == []


@pytest.mark.parametrize(("path", "method", "doc", "who"), list(_api_cases()))
def test_api_matrix(path, method, doc, who):
    role = Role[doc["x-required-role"].upper()]
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    user = _user(who)
    if user is not None:
        headers["Authorization"] = f"Bearer {api_token_create(user=user)[1]}"
    call = getattr(Client(), method)
    kwargs = {"content_type": "application/json"} if method != "get" else {}
    data = "{}" if method != "get" else None
    response = call(_concrete(path), data, headers=headers, **kwargs)
    status = response.status_code
    assert str(status) in doc["responses"] or status in doc["responses"], (path, who, status)
    if who == "anonymous":
        assert status == 401, (path, status)
    elif RANK[who] < role:
        assert status == 403, (path, who, status)
        assert role.label in response.json()["message"]
    else:
        assert status not in (401, 403), (path, who, status, response.content[:300])


def _admin_urls():
    yield reverse("admin:index")
    for model in django_admin.site._registry:
        meta = model._meta
        yield reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


@pytest.mark.parametrize("who", WHO)
def test_admin_matrix(who):
    client = _page_client(who)
    for url in _admin_urls():
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302, url
            assert "/admin/login/" in response["Location"]
        elif who == "admin":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, (url, who)
            assert "Admin role" in response.content.decode()


def test_staff_without_the_admin_role_is_refused_the_admin():
    user = get_user_model().objects.create_user("staff-only", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 403
    assert client.get(reverse("admin:login")).status_code == 403
