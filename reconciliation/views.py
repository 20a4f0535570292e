"""Reconciliation pages: statements (upload, detail with what each line matched) and the
exceptions queue (filters, assign to me, resolve with a note, approve as a second operator)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action, can
from payflow.exceptions import DomainError, InvalidInput
from reconciliation import selectors, services
from reconciliation.models import (
    BankStatement,
    ExceptionReason,
    ReconciliationException,
    StatementFormat,
    StatementLine,
)
from reconciliation.presenters import exception_json, resolution_json
from reconciliation.statements import MAX_BYTES


def _statements_context(request, error=None) -> dict:
    return {
        "statements": selectors.statement_list(),
        "formats": StatementFormat.choices,
        "can_reconcile": can(request.user, Action.RECONCILE_PAYOUT),
        "error": error,
        "summary": selectors.open_exceptions_summary(),
    }


@requires(Action.VIEW)
@require_GET
def statements_page(request):
    return render(request, "reconciliation/statements.html", _statements_context(request))


@requires(Action.RECONCILE_PAYOUT)
@require_POST
def statement_upload(request):
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput.for_fields({"file": ["Choose a statement file."]})
        if upload.size > MAX_BYTES:
            raise InvalidInput.for_fields({"file": ["The file is too large."]})
        result = services.statement_import(
            data=upload.read(), format=request.POST.get("format") or None, actor=request.user
        )
    except DomainError as exc:
        context = _statements_context(request, error=exc)
        return render(request, "reconciliation/statements.html", context, status=exc.status)
    statement = result.statement
    if result.duplicate:
        messages.info(
            request,
            f"Already imported as {statement.public_id}: nothing changed.",
        )
    else:
        messages.success(
            request,
            f"Imported {statement.line_count} lines: {statement.matched_count} matched, "
            f"{statement.exception_count} exceptions.",
        )
    return redirect("reconciliation:statement", statement_id=statement.public_id)


@requires(Action.VIEW)
@require_GET
def statement_page(request, statement_id):
    try:
        statement = selectors.statement_get(public_id=statement_id)
    except BankStatement.DoesNotExist:
        raise Http404(f"No bank statement {statement_id}.") from None
    lines = selectors.statement_lines(statement=statement)
    batches = selectors.batches_of_items(selectors.matched_item_ids(lines))
    rows = []
    for line in lines:
        match = selectors.line_match(line)
        matched = [(mi, batches.get(mi.item_id)) for mi in match.items.all()] if match else []
        rows.append((line, match, matched, line.exceptions.all()))
    return render(
        request,
        "reconciliation/statement.html",
        {"s": statement, "rows": rows, "shown": len(lines)},
    )


@requires(Action.VIEW)
@require_GET
def statement_line_redirect(request, line_id):
    """A line's address: its statement's page, scrolled to the line (payout items link here)."""
    try:
        line = selectors.line_get(public_id=line_id)
    except StatementLine.DoesNotExist:
        raise Http404(f"No statement line {line_id}.") from None
    page = reverse("reconciliation:statement", args=[line.statement.public_id])
    return redirect(f"{page}#line-{line.public_id}")


@requires(Action.VIEW)
@require_GET
def exceptions_page(request):
    filters, errors = selectors.parse_filters(request.GET, user=request.user)
    try:
        page = selectors.exception_list(filters=filters, cursor=request.GET.get("cursor"))
    except ValueError as exc:
        errors["cursor"] = [str(exc)]
        page = selectors.exception_list(filters=filters)
    query = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    batches = selectors.batches_of_items(selectors.exception_item_ids(page.rows))
    return render(
        request,
        "reconciliation/exceptions.html",
        {
            "rows": [(row, exception_json(row, page.now, batches)) for row in page.rows],
            "page": page,
            "filters": filters,
            "raw": request.GET,
            "query": query,
            "errors": errors,
            "reasons": ExceptionReason.choices,
            "summary": selectors.open_exceptions_summary(now=page.now),
        },
    )


def _exception_or_404(exception_id):
    try:
        return selectors.exception_get(public_id=exception_id)
    except ReconciliationException.DoesNotExist:
        raise Http404(f"No reconciliation exception {exception_id}.") from None


@requires(Action.VIEW)
@require_GET
def exception_page(request, exception_id):
    exception = _exception_or_404(exception_id)
    return _exception_render(request, exception)


def _exception_render(request, exception, *, error=None, status=200, form=None):
    resolutions = [(r, resolution_json(r)) for r in exception.resolutions.all()]
    pending = next((r for r, data in resolutions if data["status"] == "pending_approval"), None)
    return render(
        request,
        "reconciliation/exception.html",
        {
            "e": exception,
            "data": exception_json(
                exception,
                batches=selectors.batches_of_items(selectors.exception_item_ids([exception])),
            ),
            "resolutions": resolutions,
            "pending": pending,
            "can_reconcile": can(request.user, Action.RECONCILE_PAYOUT),
            "is_maker": pending is not None and pending.maker_id == request.user.pk,
            "operators": selectors.operators(),
            "error": error,
            "form": form or {},
        },
        status=status,
    )


def _act(request, exception_id, action, success: str):
    _exception_or_404(exception_id)
    try:
        action()
    except DomainError as exc:
        exception = _exception_or_404(exception_id)
        return _exception_render(
            request, exception, error=exc, status=exc.status, form=request.POST
        )
    messages.success(request, success)
    return redirect("reconciliation:exception", exception_id=exception_id)


@requires(Action.RECONCILE_PAYOUT)
@require_POST
def exception_assign(request, exception_id):
    owner = request.POST.get("owner", "me")
    return _act(
        request,
        exception_id,
        lambda: services.exception_assign(
            exception_id=exception_id, owner=owner, actor=request.user
        ),
        "Owner changed.",
    )


@requires(Action.RECONCILE_PAYOUT)
@require_POST
def exception_resolve(request, exception_id):
    items = [i for i in request.POST.get("items", "").replace(",", " ").split() if i]
    action = request.POST.get("action", "")
    return _act(
        request,
        exception_id,
        lambda: services.resolution_propose(
            exception_id=exception_id,
            action=action,
            items=items or None,
            note=request.POST.get("note", ""),
            actor=request.user,
        ),
        "Resolved."
        if action == "ignore"
        else "Resolution proposed: a second operator approves it.",
    )


@requires(Action.RECONCILE_PAYOUT)
@require_POST
def exception_approve(request, exception_id):
    def approve():
        if request.POST.get("confirm") != "yes":
            raise InvalidInput.for_fields(
                {"confirm": ["Tick the box to confirm you checked this resolution."]}
            )
        services.resolution_approve(
            exception_id=exception_id,
            resolution_id=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )

    return _act(request, exception_id, approve, "Approved and applied.")
