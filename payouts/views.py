"""Payout pages: the list with the Needs Attention filter, the batch detail, reconciliation,
"Pay again" with its confirmation, and the CSV batch upload with a preview."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action, can
from payflow.exceptions import DomainError
from payouts import csv_items, selectors
from payouts.forms import BatchUploadForm, PayAgainForm, ReconciliationForm, new_idempotency_key
from payouts.models import RAIL_CALENDARS, PayoutBatch, PayoutItem
from payouts.services import (
    BatchInput,
    NewItem,
    PayoutError,
    payout_batch_create_idempotent,
    payout_item_retry,
)

DETAIL_PARTIALS = {"summary", "items", "history"}


def _render(request, template, context, *, now, status=200):
    response = render(request, template, {**context, "now_iso": now.isoformat()}, status=status)
    response["X-Data-Updated-At"] = now.isoformat()
    return response


def _detail(batch_id: str) -> selectors.BatchDetail:
    try:
        return selectors.payout_batch_detail(public_id=batch_id)
    except PayoutBatch.DoesNotExist:
        raise Http404(f"No payout batch {batch_id}.") from None


def _detail_context(request, detail, form=None) -> dict:
    form = form or ReconciliationForm(
        initial={"seen_reconciliation": detail.latest_reconciliation_id},
        allowed_outcomes=detail.allowed_outcomes,
        items=[view.item for view in detail.items],
    )
    return {"d": detail, "form": form, "can_reconcile": can(request.user, Action.RECONCILE_PAYOUT)}


@requires(Action.VIEW)
@require_GET
def payout_list(request):
    filters, errors = selectors.parse_filters(request.GET)
    sort = None
    if request.GET.get("sort"):
        try:
            sort = selectors.parse_batch_sort(request.GET["sort"])
        except ValueError as exc:
            errors["sort"] = [str(exc).removeprefix("sort: ")]
    try:
        page = selectors.payout_batch_list(
            filters=filters, cursor=request.GET.get("cursor"), sort=sort
        )
    except ValueError as exc:
        errors["cursor"] = [str(exc)]
        page = selectors.payout_batch_list(filters=filters, sort=sort)
    partial = request.htmx and request.GET.get("partial") == "table"
    template = "payouts/list.html#table" if partial else "payouts/list.html"
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "query": filters.as_query(),
        "perms_create": can(request.user, Action.CREATE_PAYOUT),
    }
    return _render(request, template, context, now=page.now)


@requires(Action.VIEW)
@require_GET
def payout_calendar(request):
    """The settlement calendar: a fragment the list page loads as its own live section, so the
    list's first page keeps its fixed query count."""
    errors: dict = {}
    month = _month(request, errors)
    context = {"cal": selectors.settlement_calendar(month=month), "errors": errors}
    return render(request, "payouts/_calendar.html", context)


def _month(request, errors):
    """``?month=YYYY-MM`` for the settlement calendar (this month when absent or invalid)."""
    import datetime as dt

    raw = (request.GET.get("month") or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw + "-01")
    except ValueError:
        errors["month"] = [f"{raw!r} is not a month; use YYYY-MM."]
        return None


@requires(Action.VIEW)
@require_GET
def payout_detail(request, batch_id):
    detail = _detail(batch_id)
    partial = request.GET.get("partial") if request.htmx else None
    template = "payouts/detail.html" + (f"#{partial}" if partial in DETAIL_PARTIALS else "")
    return _render(request, template, _detail_context(request, detail), now=detail.now)


@requires(Action.RECONCILE_PAYOUT)
@require_POST
def payout_reconcile(request, batch_id):
    before = _detail(batch_id)  # 404 before anything else
    form = ReconciliationForm(request.POST, items=[view.item for view in before.items])
    recorded = form.reconcile(batch_id=batch_id, actor=request.user, source="page")
    detail = _detail(batch_id)
    if recorded and not request.htmx:
        messages.success(request, f"Reconciliation recorded: {recorded.get_outcome_display()}.")
        return redirect("payouts:detail", batch_id=batch_id)
    context = _detail_context(request, detail, None if recorded else form)
    if request.htmx:
        context["recorded"] = recorded
        return _render(request, "payouts/detail.html#reconcile_response", context, now=detail.now)
    return _render(request, "payouts/detail.html", context, now=detail.now, status=422)


@requires(Action.RECONCILE_PAYOUT)
@require_http_methods(["GET", "POST"])
def payout_item_pay_again(request, item_id):
    """GET (or a POST without ``confirm``): the confirmation, showing why the item failed and
    the account, which may be corrected. POST with ``confirm``: pay it again, once."""
    try:
        item = selectors.payout_item_get(item_id=item_id)
    except PayoutItem.DoesNotExist:
        raise Http404(f"No payout item {item_id}.") from None
    refusal = selectors.retry_refusal(item, item.batch)
    form = PayAgainForm(
        request.POST if request.method == "POST" else None,
        initial={"account": item.account_reference},
    )
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    if confirmed and not refusal and form.is_valid():
        try:
            new_item = payout_item_retry(
                item_id=item_id,
                actor=request.user,
                source="page",
                account_reference=form.cleaned_data["account"],
            )
        except PayoutError as error:
            refusal = error.message
        else:
            messages.success(
                request,
                f"Item {item_id} is paid again as {new_item.public_id} "
                f"(to {new_item.account_reference}).",
            )
            return redirect("payouts:detail", batch_id=new_item.batch.public_id)
    if request.method == "POST" and not confirmed:
        form = PayAgainForm(
            initial={"account": request.POST.get("account") or item.account_reference}
        )
    context = {"item": item, "batch": item.batch, "form": form, "refusal": refusal}
    status = 409 if refusal and request.method == "POST" else 200
    return render(request, "payouts/pay_again.html", context, status=status)


def _upload_context(form, preview=None, file_error=""):
    return {"form": form, "preview": preview, "file_error": file_error, "columns": csv_items}


@requires(Action.CREATE_PAYOUT)
@require_http_methods(["GET", "POST"])
def payout_new(request):
    """Upload a CSV of items: first a preview with every row's errors, then create (once per
    key minted when the form was first shown)."""
    if request.method == "GET":
        form = BatchUploadForm(initial={"idempotency_key": new_idempotency_key()})
        return render(request, "payouts/new.html", _upload_context(form))
    form = BatchUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "payouts/new.html", _upload_context(form), status=422)
    data = form.cleaned_data
    upload = data.get("file")
    text = data.get("csv_text") or ""
    try:
        if upload is not None:
            if upload.size > csv_items.MAX_BYTES:
                raise ValueError(f"The file is larger than {csv_items.MAX_BYTES // 2**20} MB.")
            text = csv_items.decode(upload.read())
    except ValueError as exc:
        return render(
            request, "payouts/new.html", _upload_context(form, file_error=str(exc)), status=422
        )
    if not text.strip():
        return render(
            request,
            "payouts/new.html",
            _upload_context(form, file_error="Choose a CSV file of items."),
            status=422,
        )
    preview = csv_items.parse_items_csv(text, data["currency"])
    # Carry the text to the create step, so the preview is exactly what gets created.
    form.data = form.data.copy()
    form.data["csv_text"] = text
    if not preview.ok or request.POST.get("action") != "create":
        status = 200 if preview.ok else 422
        return render(request, "payouts/new.html", _upload_context(form, preview), status=status)
    batch_input = BatchInput(
        name=data["name"],
        currency=data["currency"],
        rail=data["rail"],
        business_days=data["business_days"],
        calendar=data["calendar"] or RAIL_CALENDARS.get(data["rail"]),
        submit=data["submit_now"],
        items=[
            NewItem(row.recipient_name, row.account, row.amount, row.reference)
            for row in preview.rows
        ],
    )
    try:
        outcome = payout_batch_create_idempotent(
            user=request.user,
            idempotency_key=data["idempotency_key"],
            data=batch_input,
            source="page",
            render=lambda batch: {"id": batch.public_id},
        )
    except DomainError as error:
        if error.fields:
            for name, problems in error.fields.items():
                form.add_error(name if name in form.fields else None, problems)
        else:
            form.add_error(None, error.message)
        return render(request, "payouts/new.html", _upload_context(form, preview), status=422)
    batch_id = outcome.body["id"]
    messages.success(request, f"Batch {batch_id} created with {len(preview.rows)} items.")
    return redirect("payouts:detail", batch_id=batch_id)


@requires(Action.VIEW)
@require_GET
def payout_item_redirect(request, item_id):
    """An item's address: its batch's page, scrolled to the item (retries link here)."""
    item = PayoutItem.objects.select_related("batch").filter(public_id=item_id).first()
    if item is None:
        raise Http404(f"No payout item {item_id}.")
    return redirect(reverse("payouts:detail", args=[item.batch.public_id]) + f"#item-{item_id}")
