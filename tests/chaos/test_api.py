import pytest

from chaos.config import get_chaos_settings, published_chaos_settings
from chaos.models import ChaosChange

pytestmark = pytest.mark.django_db

VALID = {
    "http_faults": [
        {
            "path_prefix": "/payments",
            "request_kinds": ["page", "partial"],
            "latency_ms": 200,
            "jitter_ms": 100,
            "error_rate": 0.5,
            "timeout_rate": 0.1,
        }
    ],
    "stream_disconnect_rate": 0.2,
    "stream_burst_multiplier": 1,
    "stream_burst_seconds": 0,
    "stream_slow_consumer_ms": 30,
}


def test_admin_reads_the_settings_and_the_process_view(admin_api):
    response = admin_api.get("/api/v1/chaos")
    assert response.status_code == 200
    body = response.json()
    assert body["enabled"] is True
    assert body["active"] is False
    assert body["version"] == 0
    assert body["settings"]["http_faults"] == []
    assert isinstance(body["processes"], list)


def test_admin_replaces_the_settings_and_every_reader_sees_them(admin_api, admin, committing):
    with committing():
        response = admin_api.put("/api/v1/chaos", VALID, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 1
    assert body["active"] is True
    assert body["settings"]["http_faults"][0]["error_rate"] == 0.5
    assert body["changes"][0]["actor"] == admin.username
    assert published_chaos_settings().version == 1
    assert get_chaos_settings().stream_slow_consumer_ms == 30


def test_bad_values_get_422_naming_each_field_and_change_nothing(admin_api):
    fault = {**VALID["http_faults"][0], "error_rate": 1.5, "timeout_rate": 0}
    bad = {**VALID, "http_faults": [fault]}
    bad["stream_burst_multiplier"] = 0
    response = admin_api.put("/api/v1/chaos", bad, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"http_faults.0.error_rate", "stream_burst_multiplier"}
    assert not ChaosChange.objects.exists()


def test_wrong_types_get_422_not_500(admin_api):
    response = admin_api.put(
        "/api/v1/chaos", {"stream_burst_multiplier": "lots"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "stream_burst_multiplier" in response.json()["fields"]


def test_a_preset_applies_and_off_clears_it(admin_api, committing):
    with committing():
        response = admin_api.post("/api/v1/chaos/presets/intermittent_failures")
    assert response.status_code == 200
    assert response.json()["preset"] == "intermittent_failures"
    assert get_chaos_settings().active
    with committing():
        response = admin_api.post("/api/v1/chaos/presets/off")
    assert response.json()["active"] is False
    assert not get_chaos_settings().active
    assert [change["preset"] for change in response.json()["changes"]] == [
        "off",
        "intermittent_failures",
    ]


def test_an_unknown_preset_is_404_naming_the_choices(admin_api):
    response = admin_api.post("/api/v1/chaos/presets/meltdown")
    assert response.status_code == 404
    assert "slow_network" in response.json()["message"]


@pytest.mark.parametrize("who", ["viewer_api", "operator_api"])
def test_non_staff_cannot_read_or_change_chaos(request, who):
    api = request.getfixturevalue(who)
    assert api.get("/api/v1/chaos").status_code == 403
    response = api.put("/api/v1/chaos", VALID, content_type="application/json")
    assert response.status_code == 403
    assert "Admin role" in response.json()["message"]
    assert api.post("/api/v1/chaos/presets/slow_network").status_code == 403
    assert not ChaosChange.objects.exists()


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/chaos").status_code == 401


def test_with_chaos_disabled_the_api_is_404_and_nothing_can_be_turned_on(admin_api, settings):
    settings.CHAOS_ENABLED = False
    assert admin_api.get("/api/v1/chaos").status_code == 404
    assert admin_api.put("/api/v1/chaos", VALID, content_type="application/json").status_code == 404
    assert admin_api.post("/api/v1/chaos/presets/intermittent_failures").status_code == 404
    assert not ChaosChange.objects.exists()
    assert published_chaos_settings() is None
