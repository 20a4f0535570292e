"""One status -> tone map: every tone has its CSS class, every status the apps use has a tone,
and pages render badges from it (no page-local colour rules left)."""

import re
from pathlib import Path

from django.conf import settings

from payflow.formatting import STATUS_TONES, TONES, tone_of
from payments.transitions import PaymentStatus
from payouts.transitions import BatchStatus, ItemStatus

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "payflow.css").read_text()
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_every_tone_has_a_badge_class_in_the_stylesheet():
    for tone in TONES:
        assert re.search(rf"\.badge-{tone}\s*\{{", CSS), tone


def test_every_status_of_every_app_has_a_deliberate_tone():
    for status in [*PaymentStatus.values, *BatchStatus.values, *ItemStatus.values]:
        assert status in STATUS_TONES, status
    assert tone_of("in_transit") == "info"
    assert tone_of("overdue") == "danger"  # never a calm blue
    assert tone_of("requires_action") == "warn"
    assert tone_of("something_new") == "muted"


def test_no_template_picks_badge_colours_for_a_status_by_itself():
    # The chaos panel's process badges ("in sync", "behind") are not statuses of any object.
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.parent.name == "chaos":
            continue
        text = path.read_text()
        if re.search(r"badge-(ok|warn|danger|info|muted)", text) or "badge-{{" in text:
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []
