"""The JSON shapes of statements and exceptions, shared by the API and the pages' data."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reconciliation.models import BankStatement, ReconciliationException, Resolution


def _iso(value):
    return value.isoformat() if value is not None else None


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
    }


def exception_json(exception: ReconciliationException, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
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
    exception: ReconciliationException, *, resolution: Resolution | None = None
) -> dict:
    resolutions = list(exception.resolutions.all())
    body = {
        **exception_json(exception),
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
