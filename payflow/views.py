"""The overview at / (where login lands): what needs a human now, one live section per concern.

Each section is loaded on its own; a section whose source fails (or is not installed) renders a
short degraded notice while the others keep working, and its refresh (``?partial=<name>``)
answers 503 so the browser keeps the last data and marks it stale.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action

logger = logging.getLogger(__name__)

QUIET_STREAM_SECONDS = 5 * 60  # no event for this long: the feed may be broken


def _payments() -> dict:
    from payflow.currencies import format_money
    from payments.selectors import janitor_summary, payment_attention_summary

    stuck_after = settings.PAYMENT_STUCK_AFTER_SECONDS  # processing longer needs a person
    summary = payment_attention_summary(stuck_after_seconds=stuck_after)
    for example in summary["examples"]:
        example["since"] = datetime.fromisoformat(example["since"])
        example["money"] = format_money(example["amount"], example["currency"])
        example["status_label"] = example["status"].replace("_", " ")
    return {
        **summary,
        "stuck_after_minutes": max(1, stuck_after // 60),
        "janitor": janitor_summary(),
    }


def _payouts() -> dict:
    from payouts.selectors import payout_attention_summary
    from reconciliation.selectors import open_exceptions_summary

    summary = payout_attention_summary(limit=5)
    summary["exceptions"] = open_exceptions_summary()
    for batch in summary["batches"]:
        batch["status_label"] = batch["status"].replace("_", " ")
    return summary


def _stream() -> dict:
    from transactions.selectors import stream_health

    health = stream_health()
    last = health["last_event_at"]
    last_at = datetime.fromisoformat(last) if last else None
    quiet_for = (timezone.now() - last_at).total_seconds() if last_at else None
    quiet = quiet_for is None or quiet_for > QUIET_STREAM_SECONDS
    return {**health, "last_event_at": last_at, "quiet": quiet}


def _chaos() -> dict:
    from chaos.config import chaos_enabled
    from chaos.selectors import chaos_status

    return {"enabled": chaos_enabled(), "status": chaos_status() if chaos_enabled() else None}


@dataclass(frozen=True)
class OverviewSection:
    name: str
    label: str
    data: dict | None
    read_at: datetime
    failed: bool = False


SECTIONS = {
    "payments": ("payments needing a person", _payments),
    "payouts": ("payout batches needing attention", _payouts),
    "stream": ("the stream's health", _stream),
    "chaos": ("the chaos status", _chaos),
}


def load_section(name: str) -> OverviewSection:
    label, loader = SECTIONS[name]
    try:
        data = loader()
    except Exception:  # noqa: BLE001 - one broken source must not take the overview down
        logger.exception("overview section %s failed", name)
        return OverviewSection(name, label, None, timezone.now(), failed=True)
    return OverviewSection(name, label, data, timezone.now())


@requires(Action.VIEW)
def home(request):
    partial = request.GET.get("partial")
    if request.htmx and partial in SECTIONS:
        section = load_section(partial)
        if section.failed:
            return HttpResponse(f"Could not load {section.label}.", status=503)
        response = render(request, f"home.html#{partial}_body", {"section": section})
        response["X-Data-Updated-At"] = section.read_at.isoformat()
        return response
    sections = {name: load_section(name) for name in SECTIONS}
    return render(request, "home.html", {"sections": sections})
