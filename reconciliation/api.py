"""The reconciliation JSON API: import bank statements, work the exceptions queue."""

from __future__ import annotations

from typing import Literal

from django.http import Http404
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, Field

from payflow.accounts.roles import Action
from payflow.api import CURSOR_DOC, NON_BLANK_TEXT, needs
from payflow.currencies import CURRENCIES
from payflow.exceptions import InvalidInput
from reconciliation import selectors, services
from reconciliation.models import (
    BankStatement,
    ExceptionReason,
    ReconciliationException,
    StatementLine,
)
from reconciliation.presenters import (
    exception_detail_json,
    exception_json,
    line_detail_json,
    statement_json,
)
from reconciliation.statements import FORMATS, MAX_BYTES

router = Router(tags=["reconciliation"])


# A century of hours: older than anything in the queue, and still a valid instant to subtract.
MAX_AGE_HOURS = 100 * 366 * 24
ID_PATTERN = "^[A-Za-z0-9_]+$"
StatementFormat = Literal[FORMATS]  # type: ignore[valid-type]


class ExceptionQuery(Schema):
    status: Literal[selectors.STATUS_FILTERS] | None = None  # type: ignore[valid-type]
    reason: Literal[tuple(ExceptionReason.values)] | None = None  # type: ignore[valid-type]
    owner: str | None = Field(None, max_length=150, description="'me', 'none' or a username.")
    currency: Literal[tuple(sorted(CURRENCIES))] | None = None  # type: ignore[valid-type]
    min_age_hours: int | None = Field(None, ge=0, le=MAX_AGE_HOURS)
    max_age_hours: int | None = Field(None, ge=0, le=MAX_AGE_HOURS)
    cursor: str | None = Field(None, json_schema_extra=CURSOR_DOC)
    limit: int = Field(selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE)


def _items_only_with_match(schema: dict) -> None:
    # A match names the items the line pays; the other actions name none.
    schema["oneOf"] = [
        {
            "required": ["items"],
            "properties": {"action": {"const": "match"}, "items": {"minItems": 1}},
        },
        {
            "properties": {
                "action": {"enum": ["write_off", "ignore"]},
                "items": {"anyOf": [{"type": "null"}, {"maxItems": 0}]},
            }
        },
    ]


class ResolutionIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_items_only_with_match)
    action: Literal["match", "write_off", "ignore"]
    note: str = Field(
        max_length=services.NOTE_MAX_LENGTH, json_schema_extra={"pattern": NON_BLANK_TEXT}
    )
    items: list[str] | None = Field(
        None, description="Payout item ids (poi_...); with action=match only."
    )


class ApprovalIn(Schema):
    model_config = ConfigDict(extra="forbid")
    resolution: str = Field(max_length=40, json_schema_extra={"pattern": ID_PATTERN})
    note: str = Field("", max_length=services.NOTE_MAX_LENGTH)


class AssignmentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    owner: str = Field(
        max_length=150,
        description="'me' or the username of an active operator who can reconcile.",
        json_schema_extra={"pattern": NON_BLANK_TEXT},
    )


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
    description="The file must parse as the named format (detected when left out) and its "
    "balances must add up; otherwise 422 (statement_invalid) names the line at fault.",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def import_statement(
    request, file: File[UploadedFile], format: Form[StatementFormat | None] = None
):
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
    description="items go with action=match only, and a match names at least one (the "
    "schema's oneOf). Refused with 409: an exception already resolved or waiting for "
    "approval, a line already matched. Refused with 422 after reading the exception: a match "
    "of an exception without a line, unknown items, items in another currency or that do "
    "not add up to the line, more than one item for a return credit.",
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
    description="A username that names no active operator who can reconcile depends on the "
    "users, not the input: refused with 409 (unknown_owner), as is a resolved exception.",
    auth=needs(Action.RECONCILE_PAYOUT),
)
def assign_exception(request, exception_id: str, payload: AssignmentIn):
    services.exception_assign(exception_id=exception_id, owner=payload.owner, actor=request.auth)
    return _detail(exception_id)
