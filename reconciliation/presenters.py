"""The JSON shapes of statements and exceptions, shared by the API and the pages' data."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from reconciliation.models import BankStatement, ReconciliationException, Resolution


def _iso(value):
    return value.isoformat() if value is not None else None


API = "/api/v1"


def statement_links(statement_id: str) -> dict:
    return {
        "self": f"{API}/bank-statements/{statement_id}",
        "page": reverse("reconciliation:statement", args=[statement_id]),
    }


def line_links(line_id: str) -> dict:
    """A statement line's addresses; its page is the statement's page at the line."""
    return {
        "self": f"{API}/bank-statement-lines/{line_id}",
        "page": reverse("reconciliation:line", args=[line_id]),
    }


def item_links(item_id: str, batch_id: str | None = None) -> dict:
    """A payout item's addresses: its page (the batch's page at the item) and its batch."""
    links = {"page": reverse("payouts:item", args=[item_id])}
    if batch_id:
        links["payout_batch"] = f"{API}/payouts/{batch_id}"
        links["payout_batch_page"] = reverse("payouts:detail", args=[batch_id])
    return links


def statement_json(statement: BankStatement) -> dict:
    return {
        "id": statement.public_id,
        "format": statement.format,
        "account": statement.account,
        "currency": statement.currency,
        "statement_id": statement.statement_id,
        "opening_balance": statement.opening_balance,
        "closing_balance": statement.closing_balance,
        "lines": statement.line_count,
        "matched": statement.matched_count,
        "exceptions": statement.exception_count,
        "imported_by": statement.imported_by_name,
        "created_at": _iso(statement.created_at),
        "links": statement_links(statement.public_id),
    }


def line_json(line) -> dict | None:
    if line is None:
        return None
    return {
        "id": line.public_id,
        "statement": line.statement.public_id,
        "index": line.index,
        "direction": line.direction,
        "amount": line.amount,
        "currency": line.currency,
        "booking_date": _iso(line.booking_date),
        "value_date": _iso(line.value_date),
        "end_to_end_id": line.end_to_end_id,
        "customer_reference": line.customer_reference,
        "bank_reference": line.bank_reference,
        "return_reason": line.return_reason or None,
        "details": line.details,
        "links": {
            **line_links(line.public_id),
            "statement": statement_links(line.statement.public_id)["self"],
        },
    }


def matched_items_json(match, batches: dict[str, str]) -> list[dict]:
    """What a line's match settled or returned, each item with its links."""
    return [
        {
            "id": matched.item_id,
            "outcome": matched.outcome,
            "amount": matched.amount,
            "payout_batch": batches.get(matched.item_id),
            "links": item_links(matched.item_id, batches.get(matched.item_id)),
        }
        for matched in match.items.all()
    ]


def line_detail_json(line, match, batches: dict[str, str]) -> dict:
    return {
        **line_json(line),
        "match": (
            {
                "outcome": match.outcome,
                "reason_code": match.reason_code or None,
                "source": match.source,
                "items": matched_items_json(match, batches),
            }
            if match is not None
            else None
        ),
        "exceptions": [
            {"id": e.public_id, "reason": e.reason, "status": e.status, "links": exception_links(e)}
            for e in line.exceptions.all()
        ],
    }


def exception_links(exception: ReconciliationException, batch_id: str | None = None) -> dict:
    links = {
        "self": f"{API}/reconciliation/exceptions/{exception.public_id}",
        "page": reverse("reconciliation:exception", args=[exception.public_id]),
    }
    if exception.line_id:
        line = line_links(exception.line.public_id)
        links["line"], links["line_page"] = line["self"], line["page"]
    if exception.item_id:
        item = item_links(exception.item_id, batch_id)
        links["item_page"] = item["page"]
        if batch_id:
            links["payout_batch"] = item["payout_batch"]
    return links


def exception_json(
    exception: ReconciliationException,
    now: dt.datetime | None = None,
    batches: dict[str, str] | None = None,
) -> dict:
    """``batches`` (item id -> batch id) adds the batch links of the exception's item and of its
    candidates; without it they link to the item's page only."""
    now = now or timezone.now()
    batches = batches or {}
    return {
        "id": exception.public_id,
        "reason": exception.reason,
        "status": exception.status,
        "message": exception.message,
        "currency": exception.currency,
        "amount": exception.amount,
        "line": exception.line.public_id if exception.line_id else None,
        "item": exception.item_id or None,
        "candidates": exception.candidates,
        "owner": exception.owner.get_username() if exception.owner_id else None,
        "created_at": _iso(exception.created_at),
        "age_seconds": int((now - exception.created_at).total_seconds()),
        "sla_deadline": _iso(exception.sla_deadline),
        "escalated": exception.is_escalated(now),
        "resolved_at": _iso(exception.resolved_at),
        "candidate_links": {
            c: item_links(c, batches.get(c)) for c in exception.candidates if c.startswith("poi_")
        },
        "links": exception_links(exception, batches.get(exception.item_id)),
    }


def resolution_json(resolution: Resolution) -> dict:
    approval = getattr(resolution, "approval", None) if hasattr(resolution, "approval") else None
    return {
        "id": resolution.public_id,
        "action": resolution.action,
        "items": resolution.items,
        "note": resolution.note,
        "maker": resolution.maker_name,
        "needs_approval": resolution.needs_approval,
        "status": (
            "applied"
            if not resolution.needs_approval or approval is not None
            else "pending_approval"
        ),
        "created_at": _iso(resolution.created_at),
        "approval": (
            {
                "id": approval.public_id,
                "approver": approval.approver_name,
                "note": approval.note,
                "created_at": _iso(approval.created_at),
            }
            if approval is not None
            else None
        ),
    }


def exception_detail_json(
    exception: ReconciliationException,
    *,
    resolution: Resolution | None = None,
    batches: dict[str, str] | None = None,
) -> dict:
    resolutions = list(exception.resolutions.all())
    body = {
        **exception_json(exception, batches=batches),
        "line": line_json(exception.line),
        "resolutions": [resolution_json(r) for r in resolutions],
        "approvals": [
            resolution_json(r)["approval"] for r in resolutions if hasattr(r, "approval")
        ],
        "history": [
            {
                "kind": event.kind,
                "detail": event.detail,
                "actor": event.actor_name,
                "request_id": event.request_id,
                "created_at": _iso(event.created_at),
            }
            for event in exception.events.all()
        ],
    }
    if resolution is not None:
        body = {"id": resolution.public_id, "exception": body, **resolution_json(resolution)}
    return body
