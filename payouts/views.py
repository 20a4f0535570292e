"""Payout pages: the list with the Needs Attention filter, the batch detail, reconciliation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from payflow.accounts.decorators import requires
from payflow.accounts.roles import Action, can
from payouts import selectors
from payouts.forms import ReconciliationForm
from payouts.models import PayoutBatch, PayoutItem
from payouts.services import PayoutError, payout_item_retry

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
    context = {"page": page, "filters": filters, "errors": errors, "query": filters.as_query()}
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
    _detail(batch_id)  # 404 before anything else
    form = ReconciliationForm(request.POST)
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
@require_POST
def payout_item_pay_again(request, item_id):
    try:
        new_item = payout_item_retry(item_id=item_id, actor=request.user, source="page")
    except PayoutItem.DoesNotExist:
        raise Http404(f"No payout item {item_id}.") from None
    except PayoutError as error:
        messages.error(request, error.message)
        batch_id = PayoutItem.objects.values_list("batch__public_id", flat=True).get(
            public_id=item_id
        )
        return redirect("payouts:detail", batch_id=batch_id)
    messages.success(request, f"Item {item_id} is paid again as {new_item.public_id}.")
    return redirect("payouts:detail", batch_id=new_item.batch.public_id)


@requires(Action.VIEW)
@require_GET
def payout_item_redirect(request, item_id):
    """An item's address: its batch's page, scrolled to the item (retries link here)."""
    item = PayoutItem.objects.select_related("batch").filter(public_id=item_id).first()
    if item is None:
        raise Http404(f"No payout item {item_id}.")
    return redirect(reverse("payouts:detail", args=[item.batch.public_id]) + f"#item-{item_id}")
