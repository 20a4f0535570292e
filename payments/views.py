"""Payments pages: the list, the create form, the detail page and its actions (htmx + fallbacks)."""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payflow.accounts.decorators import public, requires
from payflow.accounts.roles import Action, can
from payflow.currencies import format_money
from payflow.exceptions import DomainError
from payflow.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from payflow.idempotency.services import idempotency_record
from payflow.middleware import checks_own_body
from payments import processor, signatures
from payments.diagram import lifecycle_diagram
from payments.errors import (
    PaymentError,
    PaymentInvalid,
    PaymentNotFound,
)
from payments.forms import (
    PaymentFilterForm,
    PaymentForm,
    RefundForm,
    SimulateForm,
    TransitionForm,
)
from payments.models import DeliveryOutcome
from payments.selectors import (
    DeliveryFilters,
    known_payment_refs,
    parse_payment_sort,
    payment_actions,
    payment_attention,
    payment_get,
    payment_history,
    payment_list,
    payment_refunds,
    payment_status_counts,
    status_path,
    webhook_delivery_list,
)
from payments.serializers import refund_summary_json
from payments.services import (
    PaymentInput,
    check_payment_input,
    check_refund_input,
    payment_create_idempotent,
    payment_transition,
    refund_create_idempotent,
)
from payments.transitions import FAILURE_CODES, PaymentStatus
from payments.webhooks import webhook_receive

LIST_PAGE_SIZE = 25
MAX_AWAITING_POLLS = 15


def _render_fresh(request, template: str, context: dict, *, status: int = 200):
    """Render, stamping when the data was read (live sections show its age)."""
    now = timezone.now()
    response = render(request, template, {**context, "now_iso": now.isoformat()}, status=status)
    response["X-Data-Updated-At"] = now.isoformat()
    return response


def _list_context(request) -> dict:
    form = PaymentFilterForm(request.GET)
    form.is_valid()  # errors are shown next to their fields; valid filters still apply
    filters = form.filters()
    sort = parse_payment_sort(request.GET.get("sort")) if request.GET.get("sort") else None
    page = payment_list(
        filters=filters, cursor=request.GET.get("cursor") or None, limit=LIST_PAGE_SIZE, sort=sort
    )
    counts = payment_status_counts(filters=filters)
    query = request.GET.copy()
    for name in ("cursor", "partial"):
        query.pop(name, None)
    other_filters = query.copy()  # for the per-state links, which set their own status
    for name in ("status", "stuck"):
        other_filters.pop(name, None)
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "state_counts": [(value, label, counts[value]) for value, label in PaymentStatus.choices],
        "query": query.urlencode(),
        "other_filters": other_filters.urlencode(),
        "cursor": request.GET.get("cursor", ""),
    }


@requires(Action.VIEW)
def payment_list_page(request):
    try:
        context = _list_context(request)
    except PaymentInvalid:  # a hand-edited cursor: start again from the newest
        messages.info(request, "That page link was not valid; showing the newest payments.")
        return redirect("payments:list")
    context["can_create"] = can(request.user, Action.CREATE_PAYMENT)
    template = "payments/list.html"
    if request.htmx or request.GET.get("partial") == "results":
        template += "#results"
    return _render_fresh(request, template, context)


def _pending_creation(request, key: str):
    """A double submit that arrived while the first was still running waits for its result."""
    record = idempotency_record(user=request.user, key=key)
    if record is not None and record.resource_id:
        return redirect("payments:detail", public_id=record.resource_id)
    if record is None:  # the first attempt failed and released the key: start afresh
        return redirect("payments:new")
    return render(request, "payments/pending.html", {"key": key}, status=202)


def _create_from_form(request, form: PaymentForm):
    """The redirect to the (new or replayed) payment, or None with the errors put on the form."""
    key = form.cleaned_data["idempotency_key"]
    try:
        data: PaymentInput = check_payment_input(**form.payment_input())
        outcome = payment_create_idempotent(user=request.user, idempotency_key=key, data=data)
    except IdempotencyKeyInUse:
        return redirect(f"{reverse('payments:new')}?{urlencode({'pending': key})}")
    except IdempotencyKeyReused:
        form.add_error(
            None,
            "This form was already used to create a different payment. Check the list before "
            "sending again; the form now has a fresh key.",
        )
        form.data = form.data.copy()
        form.data["idempotency_key"] = PaymentForm.new_key()
        return None
    except PaymentInvalid as exc:
        form.add_service_errors(exc.fields)
        return None
    if outcome.replayed:
        messages.info(request, "This form had already been sent; here is that payment.")
    return redirect("payments:detail", public_id=outcome.body["id"])


@requires(Action.CREATE_PAYMENT)
def payment_new_page(request):
    if request.method != "POST":
        if request.GET.get("pending"):
            return _pending_creation(request, request.GET["pending"])
        form = PaymentForm(initial={"idempotency_key": PaymentForm.new_key()})
        return render(request, "payments/new.html", {"form": form})
    form = PaymentForm(request.POST)
    if form.is_valid() and (response := _create_from_form(request, form)) is not None:
        return response
    return render(request, "payments/new.html", {"form": form}, status=422)


def _detail_context(
    request,
    payment,
    *,
    error: str = "",
    notice: str = "",
    awaiting: str = "",
    refund_form=None,
    refund_confirm=None,
) -> dict:
    history = payment_history(payment=payment)
    refunds = payment_refunds(payment=payment)
    summary = refund_summary_json(payment)
    actions = [
        a for a in payment_actions(payment=payment, user=request.user) if a.to != payment.status
    ]
    return {
        "payment": payment,
        "history": history,
        "person_actions": [a for a in actions if not a.processor],
        "processor_actions": [a for a in actions if a.processor],
        "attention": payment_attention(payment=payment),
        "diagram": lifecycle_diagram(status=payment.status, path=status_path(history)),
        "failure_codes": FAILURE_CODES,
        "can_transition": can(request.user, Action.TRANSITION_PAYMENT),
        "can_simulate": can(request.user, Action.SIMULATE),
        "can_refund": can(request.user, Action.REFUND_PAYMENT),
        "action_error": error,
        "action_notice": notice,
        "awaiting": awaiting if awaiting and awaiting != payment.status else "",
        "refunds": refunds,
        "refunded_money": format_money(summary["refunded_amount"], payment.currency),
        "refundable_money": format_money(summary["refundable_amount"], payment.currency),
        "refundable_amount": summary["refundable_amount"],
        "refund_form": refund_form
        or RefundForm(currency=payment.currency, initial={"idempotency_key": RefundForm.new_key()}),
        "refund_confirm": refund_confirm,
    }


def _get_or_404(public_id: str):
    try:
        return payment_get(public_id=public_id)
    except PaymentNotFound as exc:
        raise Http404(exc.message) from exc


@requires(Action.VIEW)
def payment_detail_page(request, public_id: str):
    # After a simulation button, poll a few times for the webhook's effect, then stop.
    awaiting = request.GET.get("awaiting", "")
    polls = request.GET.get("polls", "0")
    polls = int(polls) if polls.isdigit() and len(polls) < 3 else MAX_AWAITING_POLLS
    if awaiting not in PaymentStatus.values or polls >= MAX_AWAITING_POLLS:
        awaiting = ""
    context = _detail_context(request, _get_or_404(public_id), awaiting=awaiting)
    context["next_poll"] = polls + 1
    template = "payments/detail.html"
    if request.htmx or request.GET.get("partial") == "body":
        template += "#detail_body"
    return _render_fresh(request, template, context)


@require_POST
@requires(Action.TRANSITION_PAYMENT)
def payment_transition_action(request, public_id: str):
    """Apply one move; htmx gets the re-rendered detail body, others a redirect (PRG)."""
    form = TransitionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
    else:
        try:
            payment_transition(public_id=public_id, actor=request.user, **form.cleaned_data)
        except PaymentNotFound as exc:
            raise Http404(exc.message) from exc
        except PaymentError as exc:
            error = exc.message
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or "Status updated.")
        return redirect("payments:detail", public_id=public_id)
    context = _detail_context(request, _get_or_404(public_id), error=error)
    return _render_fresh(request, "payments/detail.html#detail_body", context)


@requires(Action.VIEW)
def payment_export_page(request):
    """The Export button: every payment the page's filters and sort select, as streamed CSV."""
    from payflow.export import csv_response
    from payments.selectors import PAYMENT_EXPORT_HEADER, payment_export

    form = PaymentFilterForm(request.GET)
    form.is_valid()  # the same filters the list applies (invalid ones ignored, as there)
    try:
        sort = parse_payment_sort(request.GET.get("sort"))
    except PaymentInvalid as exc:
        messages.error(request, exc.message)
        return redirect("payments:list")
    total, rows = payment_export(filters=form.filters(), sort=sort)
    return csv_response(
        filename="payments.csv", header=PAYMENT_EXPORT_HEADER, rows=rows, total=total
    )


@public
@checks_own_body
@csrf_exempt
def processor_webhook(request):
    """The processor's signed answers: public, because the signature is the authentication."""
    if request.method != "POST":
        error = DomainError("Deliver webhooks with POST.", status=405, code="method_not_allowed")
        return JsonResponse(error.body(), status=405, headers={"Allow": "POST"})
    try:
        result = webhook_receive(
            raw_body=request.body, signature_header=request.headers.get(signatures.HEADER)
        )
    except DomainError as exc:
        return JsonResponse(exc.body(), status=exc.status, headers=exc.headers)
    return JsonResponse(result.as_json())


def _detail_answer(request, public_id: str, *, error: str = "", notice: str = "", **context):
    """htmx: the re-rendered detail body; otherwise a message and a redirect (PRG)."""
    form = context.get("refund_form")
    stays = context.get("refund_confirm") or (form is not None and form.errors)
    if not request.htmx and not stays:
        if error or notice:
            (messages.error if error else messages.success)(request, error or notice)
        return redirect("payments:detail", public_id=public_id)
    payment = _get_or_404(public_id)
    body = _detail_context(request, payment, error=error, notice=notice, **context)
    template = "payments/detail.html#detail_body" if request.htmx else "payments/detail.html"
    return _render_fresh(request, template, body, status=422 if form and form.errors else 200)


@require_POST
@requires(Action.SIMULATE)
def payment_simulate_action(request, public_id: str):
    """Play a processor answer: the simulated processor sends it to us as a signed webhook."""
    payment = _get_or_404(public_id)
    form = SimulateForm(request.POST)
    if not form.is_valid():
        error = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return _detail_answer(request, public_id, error=error)
    url = processor.webhook_url() or request.build_absolute_uri(
        reverse("payments:processor_webhook")
    )
    target = form.cleaned_data["to"]
    event = processor.answer_payment(
        payment_ref=payment.public_id,
        target=target,
        failure_code=form.cleaned_data["failure_code"] or "",
        transport=processor.HttpTransport(url),
        plan=processor.DeliveryPlan(delay=SIMULATED_WEBHOOK_DELAY_SECONDS),
        background=True,
    )
    notice = (
        f"The simulated processor is sending {event['type']} ({event['id']}) as a signed "
        "webhook; this page updates when PayFlow has applied it."
    )
    return _detail_answer(request, public_id, notice=notice, awaiting=target)


SIMULATED_WEBHOOK_DELAY_SECONDS = 0.5


@require_POST
@requires(Action.REFUND_PAYMENT)
def payment_refund_action(request, public_id: str):
    """Two steps: the first POST shows what will happen; the confirmed one creates the refund."""
    payment = _get_or_404(public_id)
    form = RefundForm(request.POST, currency=payment.currency)
    if not form.is_valid():
        return _detail_answer(request, public_id, refund_form=form, error="Check the refund form.")
    if not form.cleaned_data["confirmed"]:
        confirm = {
            "money": format_money(form.cleaned_data["amount"], payment.currency),
            "amount": request.POST.get("amount", ""),
            "reason": form.cleaned_data["reason"],
            "key": form.cleaned_data["idempotency_key"],
        }
        return _detail_answer(request, public_id, refund_form=form, refund_confirm=confirm)
    try:
        data = check_refund_input(
            amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"]
        )
        outcome = refund_create_idempotent(
            user=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"],
            payment_id=public_id,
            data=data,
        )
    except PaymentInvalid as exc:
        for name, errors in exc.fields.items():
            if name in form.fields:
                form.add_error(name, errors)
        return _detail_answer(request, public_id, refund_form=form, error=exc.message)
    except DomainError as exc:
        return _detail_answer(request, public_id, refund_form=form, error=exc.message)
    money = format_money(outcome.body["amount"], payment.currency)
    return _detail_answer(
        request,
        public_id,
        notice=f"Refund {outcome.body['id']} of {money} is pending; the processor confirms it.",
    )


WEBHOOK_LOG_PAGE_SIZE = 50
_ID_PARAM = re.compile(r"^[A-Za-z0-9_]*$")


def _id_param(value: str, length: int) -> str:
    """An id filter as typed, or nothing when it cannot be an id (a hand-edited URL)."""
    return value if len(value) <= length and _ID_PARAM.match(value) else ""


@requires(Action.VIEW_WEBHOOKS)
def webhook_log_page(request):
    """Every processor delivery: signature verdict, event, outcome, payment, redacted body."""
    outcome = request.GET.get("outcome") or None
    outcome = outcome if outcome in DeliveryOutcome.values else None
    filters = DeliveryFilters(
        outcome=outcome,
        event_id=_id_param(request.GET.get("event_id", ""), 64),
        payment_id=_id_param(request.GET.get("payment_id", ""), 32),
    )
    try:
        page = webhook_delivery_list(
            filters=filters, cursor=request.GET.get("cursor") or None, limit=WEBHOOK_LOG_PAGE_SIZE
        )
    except PaymentInvalid:
        return redirect("payments:webhooks")
    known = known_payment_refs(d.payment_ref for d in page.items if d.payment_ref)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "known": known,
        "outcomes": DeliveryOutcome.choices,
        "query": query.urlencode(),
    }
    return _render_fresh(request, "payments/webhooks.html", context)
