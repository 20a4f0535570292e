"""Saved views: per user, name + filters + sort, a shareable URL, and the defaults."""

import pytest

from search.models import SavedView

pytestmark = pytest.mark.django_db


def test_save_open_share_and_delete_a_view(client, viewer, operator):
    client.force_login(viewer)
    response = client.post(
        "/views",
        {"name": "Big EUR", "page": "payments", "query": "currency=EUR&sort=-amount&cursor=abc"},
    )
    view = SavedView.objects.get(owner=viewer)
    assert view.query == "currency=EUR&sort=-amount"  # the cursor is a position, not a view
    assert response["Location"] == "/payments?currency=EUR&sort=-amount"
    html = client.get("/payments").content.decode()
    assert f'href="/views/{view.pk}"' in html
    assert "Big EUR" in html
    # Shareable: another person opens the same link and gets the same filters.
    client.force_login(operator)
    opened = client.get(f"/views/{view.pk}")
    assert opened["Location"] == "/payments?currency=EUR&sort=-amount"
    assert "Big EUR" not in client.get("/payments").content.decode()  # not in their list
    client.post(f"/views/{view.pk}/delete", {"page": "payments"})
    assert SavedView.objects.filter(pk=view.pk).exists()  # only the owner deletes
    client.force_login(viewer)
    client.post(f"/views/{view.pk}/delete", {"page": "payments"})
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bad_views_are_refused_with_a_reason(client, viewer):
    client.force_login(viewer)
    client.post("/views", {"name": "", "page": "payments", "query": ""})
    client.post("/views", {"name": "x", "page": "nowhere", "query": ""})
    assert not SavedView.objects.exists()
    client.post("/views", {"name": "Mine", "page": "payouts", "query": "status=failed"})
    response = client.post("/views", {"name": "Mine", "page": "payouts", "query": ""}, follow=True)
    assert "already have a payouts view named" in response.content.decode()
    assert SavedView.objects.count() == 1
    assert client.get("/views/99999").status_code == 404


def test_every_list_offers_the_default_views(client, viewer):
    client.force_login(viewer)
    payments = client.get("/payments").content.decode()
    assert 'href="/payments?status=requires_action"' in payments
    assert "Failed today" in payments
    assert "/payments?status=failed&amp;created_from=" in payments
    assert 'href="/payouts?needs_attention=1"' in client.get("/payouts").content.decode()
    assert "Failed or declined" in client.get("/transactions").content.decode()
