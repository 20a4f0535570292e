"""Reads for reconciliation: statements with their lines and matches, the exceptions queue
(filters, cursor pages), one exception with its history, and the overview summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Prefetch, Q
from django.utils import timezone

from payflow.currencies import CURRENCIES
from payflow.models import HISTORY_ORDER
from payflow.pagination import newest_first_page
from payouts.selectors import items_by_ids
from reconciliation.models import (
    BankStatement,
    ExceptionEvent,
    ExceptionReason,
    ExceptionStatus,
    Match,
    ReconciliationException,
    StatementLine,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
STATUS_FILTERS = ("open", "pending_approval", "resolved", "unresolved")


@dataclass(frozen=True)
class ExceptionFilters:
    status: str | None = None
    reason: str | None = None
    owner: str | None = None  # a username, "me" resolved by the caller, or "none"
    currency: str | None = None
    min_age_hours: int | None = None
    max_age_hours: int | None = None


def parse_filters(params: dict, *, user=None) -> tuple[ExceptionFilters, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    status = (params.get("status") or "").strip() or None
    if status and status not in STATUS_FILTERS:
        errors["status"] = [f"Use one of {', '.join(STATUS_FILTERS)}."]
    reason = (params.get("reason") or "").strip() or None
    if reason and reason not in ExceptionReason.values:
        errors["reason"] = [f"Use one of {', '.join(ExceptionReason.values)}."]
    currency = (params.get("currency") or "").strip().upper() or None
    if currency and currency not in CURRENCIES:
        errors["currency"] = [f"{currency!r} is not an ISO 4217 currency PayFlow knows."]
    owner = (params.get("owner") or "").strip() or None
    if owner == "me":
        owner = user.get_username() if user is not None else None
    ages = {}
    for name in ("min_age_hours", "max_age_hours"):
        raw = params.get(name)
        if raw in (None, ""):
            ages[name] = None
            continue
        try:
            ages[name] = int(raw)
            if ages[name] < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = ["Use a whole number of hours, 0 or more."]
            ages[name] = None
    return ExceptionFilters(status, reason, owner, currency, **ages), errors


def _filtered(filters: ExceptionFilters, now: dt.datetime):
    rows = ReconciliationException.objects.all()
    if filters.status == "unresolved":
        rows = rows.exclude(status=ExceptionStatus.RESOLVED)
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.reason:
        rows = rows.filter(reason=filters.reason)
    if filters.currency:
        rows = rows.filter(currency=filters.currency)
    if filters.owner == "none":
        rows = rows.filter(owner__isnull=True)
    elif filters.owner:
        rows = rows.filter(owner__username=filters.owner)
    if filters.min_age_hours is not None:
        rows = rows.filter(created_at__lte=now - dt.timedelta(hours=filters.min_age_hours))
    if filters.max_age_hours is not None:
        rows = rows.filter(created_at__gte=now - dt.timedelta(hours=filters.max_age_hours))
    return rows


@dataclass(frozen=True)
class ExceptionPage:
    rows: list[ReconciliationException]
    next_cursor: str | None
    now: dt.datetime


def exception_list(
    *, filters: ExceptionFilters, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> ExceptionPage:
    """One page of exceptions, newest first. Raises ValueError for a bad cursor."""
    now = timezone.now()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = _filtered(filters, now).select_related("owner", "line", "statement")
    page, next_cursor = newest_first_page(rows, time_field="created_at", cursor=cursor, limit=limit)
    return ExceptionPage(page, next_cursor, now)


def exception_get(*, public_id: str) -> ReconciliationException:
    """Raises ReconciliationException.DoesNotExist."""
    return (
        ReconciliationException.objects.select_related("owner", "line", "statement")
        .prefetch_related(
            "resolutions__approval",
            Prefetch("events", queryset=ExceptionEvent.objects.order_by(*HISTORY_ORDER)),
        )
        .get(public_id=public_id)
    )


def statement_list(*, limit: int = 50) -> list[BankStatement]:
    return list(BankStatement.objects.order_by("-created_at", "-id")[:limit])


def statement_get(*, public_id: str) -> BankStatement:
    """Raises BankStatement.DoesNotExist."""
    return BankStatement.objects.get(public_id=public_id)


def statement_lines(*, statement: BankStatement, limit: int = 500) -> list[StatementLine]:
    """The first ``limit`` lines with what each matched and its exception."""
    return list(
        StatementLine.objects.filter(statement=statement)
        .select_related("match")
        .prefetch_related(
            Prefetch("match__items"),
            Prefetch("exceptions", queryset=ReconciliationException.objects.order_by("id")),
        )
        .order_by("index")[:limit]
    )


def line_get(*, public_id: str) -> StatementLine:
    """One line with its statement, match and exceptions. Raises StatementLine.DoesNotExist."""
    return (
        StatementLine.objects.select_related("statement", "match")
        .prefetch_related("match__items", "exceptions")
        .get(public_id=public_id)
    )


def batches_of_items(item_ids) -> dict[str, str]:
    """Item id -> batch id (po_...) for the items payouts knows, through its interface."""
    ids = sorted({i for i in item_ids if i and i.startswith("poi_")})
    return {item_id: item.batch_id for item_id, item in items_by_ids(item_ids=ids).items()}


def matched_item_ids(lines) -> list[str]:
    return [mi.item_id for line in lines if (m := line_match(line)) for mi in m.items.all()]


def exception_item_ids(exceptions) -> list[str]:
    return [i for e in exceptions for i in (e.item_id, *e.candidates)]


def line_match(line: StatementLine) -> Match | None:
    try:
        return line.match
    except Match.DoesNotExist:
        return None


def operators() -> list[str]:
    """Usernames an exception can be assigned to."""
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=["operator", "admin"]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
        .values_list("username", flat=True)
    )


def open_exceptions_summary(*, now: dt.datetime | None = None) -> dict:
    """For the overview: unresolved exceptions, how many passed their SLA (escalated), how many
    wait for approval, and the oldest one's age."""
    now = now or timezone.now()
    unresolved = ReconciliationException.objects.exclude(status=ExceptionStatus.RESOLVED)
    totals = unresolved.aggregate(
        open=Count("id"),
        escalated=Count("id", filter=Q(sla_deadline__lt=now)),
        pending_approval=Count("id", filter=Q(status=ExceptionStatus.PENDING_APPROVAL)),
        unowned=Count("id", filter=Q(owner__isnull=True)),
        oldest=Min("created_at"),
    )
    oldest = totals.pop("oldest")
    totals["oldest_age_hours"] = int((now - oldest).total_seconds() // 3600) if oldest else None
    return totals
