"""The reconciliation JSON API: import bank statements, work the exceptions queue."""

from __future__ import annotations

from typing import Literal

from django.http import Http404
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from payflow.accounts.roles import Action
from payflow.api import needs
from payflow.exceptions import InvalidInput
from reconciliation import selectors, services
from reconciliation.models import BankStatement, ReconciliationException, StatementLine
from reconciliation.presenters import (
    exception_detail_json,
    exception_json,
    line_detail_json,
    statement_json,
)
from reconciliation.statements import MAX_BYTES

router = Router(tags=["reconciliation"])


class ExceptionQuery(Schema):
    status: str | None = None
    reason: str | None = None
    owner: str | None = None
    currency: str | None = None
    min_age_hours: str | None = None
    max_age_hours: str | None = None
    cursor: str | None = None
    limit: int = Field(selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE)


class ResolutionIn(Schema):
    action: Literal["match", "write_off", "ignore"]
    note: str = Field(max_length=services.NOTE_MAX_LENGTH)
    items: list[str] | None = None


class ApprovalIn(Schema):
    resolution: str = Field(max_length=40)
    note: str = Field("", max_length=services.NOTE_MAX_LENGTH)


class AssignmentIn(Schema):
    owner: str = Field(max_length=150)


def read_upload(file: UploadedFile | None) -> bytes:
    if file is None:
        raise InvalidInput.for_fields({"file": ["Attach the statement file."]})
    if file.size is not None and file.size > MAX_BYTES:
        raise InvalidInput.for_fields({"file": [f"At most {MAX_BYTES // (1024 * 1024)} MiB."]})
    return file.read()


@router.post(
    "/bank-statements",
    response={200: dict, 201: dict},
    summary="Import a bank statement (camt.053, MT940, BAI2 or CSV) and match it",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def import_statement(request, file: File[UploadedFile] = None, format: Form[str | None] = None):
    result = services.statement_import(
        data=read_upload(file), format=format or None, actor=request.auth
    )
    body = statement_json(result.statement)
    if result.duplicate:
        return Status(200, {**body, "duplicate": True})
    return Status(201, body)


@router.get(
    "/bank-statements/{statement_id}",
    summary="One imported bank statement",
    auth=needs(Action.VIEW),
)
def get_statement(request, statement_id: str):
    try:
        return statement_json(selectors.statement_get(public_id=statement_id))
    except BankStatement.DoesNotExist:
        raise Http404(f"No bank statement {statement_id}.") from None


@router.get(
    "/bank-statement-lines/{line_id}",
    summary="One statement line with what it matched (items and their batches) and its exceptions",
    auth=needs(Action.VIEW),
)
def get_statement_line(request, line_id: str):
    try:
        line = selectors.line_get(public_id=line_id)
    except StatementLine.DoesNotExist:
        raise Http404(f"No statement line {line_id}.") from None
    batches = selectors.batches_of_items(selectors.matched_item_ids([line]))
    return line_detail_json(line, selectors.line_match(line), batches)


def _detail(exception_id: str, **kwargs) -> dict:
    exception = selectors.exception_get(public_id=exception_id)
    batches = selectors.batches_of_items(selectors.exception_item_ids([exception]))
    return exception_detail_json(exception, batches=batches, **kwargs)


@router.get(
    "/reconciliation/exceptions",
    summary="The reconciliation exceptions queue, newest first (cursor pages)",
    auth=needs(Action.VIEW),
)
def list_exceptions(request, query: Query[ExceptionQuery]):
    filters, errors = selectors.parse_filters(query.dict(), user=request.auth)
    if errors:
        raise InvalidInput.for_fields(errors)
    try:
        page = selectors.exception_list(filters=filters, cursor=query.cursor, limit=query.limit)
    except ValueError as exc:
        raise InvalidInput(str(exc), fields={"cursor": [str(exc)]}) from exc
    batches = selectors.batches_of_items(selectors.exception_item_ids(page.rows))
    return {
        "items": [exception_json(row, page.now, batches) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/reconciliation/exceptions/{exception_id}",
    summary="One exception with its line or item, resolutions, approvals and history",
    auth=needs(Action.VIEW),
)
def get_exception(request, exception_id: str):
    try:
        return _detail(exception_id)
    except ReconciliationException.DoesNotExist:
        raise Http404(f"No reconciliation exception {exception_id}.") from None


@router.post(
    "/reconciliation/exceptions/{exception_id}/resolutions",
    response={201: dict},
    summary="Propose a resolution (note required); match and write_off wait for approval",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def propose_resolution(request, exception_id: str, payload: ResolutionIn):
    resolution = services.resolution_propose(
        exception_id=exception_id, actor=request.auth, **payload.dict()
    )
    return Status(201, _detail(exception_id, resolution=resolution))


@router.post(
    "/reconciliation/exceptions/{exception_id}/approvals",
    response={201: dict},
    summary="Approve another operator's resolution; it is then applied",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def approve_resolution(request, exception_id: str, payload: ApprovalIn):
    approval = services.resolution_approve(
        exception_id=exception_id,
        resolution_id=payload.resolution,
        note=payload.note,
        actor=request.auth,
    )
    return Status(201, {**_detail(exception_id), "approval": approval.public_id})


@router.post(
    "/reconciliation/exceptions/{exception_id}/assignment",
    response={200: dict},
    summary="Give the exception an owner: 'me' or a username",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def assign_exception(request, exception_id: str, payload: AssignmentIn):
    services.exception_assign(exception_id=exception_id, owner=payload.owner, actor=request.auth)
    return _detail(exception_id)
