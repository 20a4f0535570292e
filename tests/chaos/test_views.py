import pytest

from chaos.config import get_chaos_settings
from chaos.models import ChaosChange
from chaos.services import chaos_preset_apply

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def fault_form(**overrides) -> dict:
    data = {
        "faults-TOTAL_FORMS": "1",
        "faults-INITIAL_FORMS": "0",
        "faults-MIN_NUM_FORMS": "0",
        "faults-MAX_NUM_FORMS": "20",
        "faults-0-path_prefix": "/payments",
        "faults-0-request_kinds": ["page", "partial"],
        "faults-0-latency_ms": "0",
        "faults-0-jitter_ms": "0",
        "faults-0-error_percent": "100",
        "faults-0-timeout_percent": "0",
        "stream-stream_disconnect_percent": "0",
        "stream-stream_burst_multiplier": "1",
        "stream-stream_burst_seconds": "0",
        "stream-stream_slow_consumer_ms": "0",
    }
    data.update(overrides)
    return data


def test_admin_opens_the_panel_page_with_presets_and_off(admin_client):
    response = admin_client.get("/chaos")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ["Intermittent Failures", "Slow Network", "Stream Flapping", "Event Burst"]:
        assert label in html
    assert "Off: stop all chaos" in html
    assert "Chaos is off" in html


def test_the_dialog_gets_only_the_panel_body(admin_client):
    response = admin_client.get("/chaos", headers=HX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"data-chaos-panel" in response.content


def test_saving_the_form_turns_chaos_on_and_logs_who(admin_client, admin, committing):
    with committing():
        response = admin_client.post("/chaos/settings", fault_form(), headers=HX)
    assert response.status_code == 200
    assert b"Saved as version 1" in response.content
    assert "chaos:changed" in response["HX-Trigger"]
    fault = get_chaos_settings().http_faults[0]
    assert (fault.path_prefix, fault.error_rate) == ("/payments", 1.0)
    assert fault.request_kinds == {"page", "partial"}
    assert ChaosChange.objects.get().actor == admin


def test_a_bad_value_is_shown_beside_its_field_and_nothing_changes(admin_client):
    response = admin_client.post(
        "/chaos/settings",
        fault_form(**{"faults-0-error_percent": "80", "faults-0-timeout_percent": "50"}),
        headers=HX,
    )
    assert response.status_code == 422
    assert b"cannot exceed 100%" in response.content
    assert b'aria-invalid="true"' in response.content
    assert not ChaosChange.objects.exists()


def test_an_out_of_range_field_is_named(admin_client):
    response = admin_client.post(
        "/chaos/settings", fault_form(**{"stream-stream_burst_multiplier": "0"}), headers=HX
    )
    assert response.status_code == 422
    assert b"greater than or equal to 1" in response.content
    assert not ChaosChange.objects.exists()


def test_a_preset_button_applies_the_preset(admin_client, committing):
    with committing():
        response = admin_client.post("/chaos/presets/slow_network", headers=HX)
    assert response.status_code == 200
    assert b"Chaos is on: Slow Network" in response.content
    assert get_chaos_settings().http_faults[0].latency_ms == 800


def test_without_htmx_a_preset_redirects_back_to_the_panel(admin_client, committing):
    with committing():
        response = admin_client.post("/chaos/presets/stream_flapping")
    assert response.status_code == 302
    assert response["Location"] == "/chaos"


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_non_staff_get_403_and_cannot_change_anything(request, who):
    client = request.getfixturevalue(who)
    response = client.get("/chaos")
    assert response.status_code == 403
    assert b"Admin" in response.content
    assert client.post("/chaos/presets/intermittent_failures").status_code == 403
    assert client.post("/chaos/settings", fault_form()).status_code == 403
    assert not ChaosChange.objects.exists()


def test_non_staff_pages_carry_no_panel(viewer_client):
    html = viewer_client.get("/").content.decode()
    assert "chaos-dialog" not in html
    assert "js/chaos.js" not in html


def test_staff_pages_carry_the_panel_and_its_shortcut(admin_client):
    html = admin_client.get("/").content.decode()
    assert 'id="chaos-dialog"' in html
    assert 'aria-keyshortcuts="Control+Shift+D"' in html


def test_with_chaos_disabled_the_panel_is_404_and_nothing_turns_on(admin_client, settings):
    settings.CHAOS_ENABLED = False
    assert admin_client.get("/chaos").status_code == 404
    assert admin_client.post("/chaos/presets/intermittent_failures").status_code == 404
    assert admin_client.post("/chaos/settings", fault_form()).status_code == 404
    assert admin_client.get("/chaos/banner").status_code == 404
    assert not ChaosChange.objects.exists()
    html = admin_client.get("/").content.decode()
    assert "chaos-dialog" not in html
    assert "data-chaos-banner-url" not in html


def test_the_banner_is_hidden_while_chaos_is_off(viewer_client):
    banner = viewer_client.get("/chaos/banner").content.decode()
    assert "hidden" in banner
    assert "Chaos rehearsal on" not in banner


def test_everyone_sees_the_banner_while_chaos_is_on(client, admin, viewer, password, committing):
    with committing():
        chaos_preset_apply(actor=admin, name="stream_flapping")
    client.login(username=viewer.username, password=password)
    page = client.get("/").content.decode()
    assert "Chaos rehearsal on: Stream Flapping" in page
    banner = client.get("/chaos/banner").content.decode()
    assert "Streams cut at 50% of heartbeats" in banner
    assert "Ctrl" not in banner  # the shortcut is offered to staff only
