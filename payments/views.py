"""Payments pages: the list, the create form, the detail page and its actions (htmx + fallbacks)."""

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
from payflow.exceptions import DomainError
from payflow.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from payflow.idempotency.services import idempotency_record
from payments import signatures
from payments.diagram import lifecycle_diagram
from payments.errors import (
    PaymentError,
    PaymentInvalid,
    PaymentNotFound,
)
from payments.forms import PaymentFilterForm, PaymentForm, TransitionForm
from payments.selectors import (
    payment_actions,
    payment_attention,
    payment_get,
    payment_history,
    payment_list,
    payment_status_counts,
    status_path,
)
from payments.services import (
    PaymentInput,
    check_payment_input,
    payment_create_idempotent,
    payment_transition,
)
from payments.transitions import FAILURE_CODES, PaymentStatus
from payments.webhooks import webhook_receive

LIST_PAGE_SIZE = 25


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
    page = payment_list(
        filters=filters, cursor=request.GET.get("cursor") or None, limit=LIST_PAGE_SIZE
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


def _detail_context(request, payment, *, error: str = "") -> dict:
    history = payment_history(payment=payment)
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
        "action_error": error,
    }


def _get_or_404(public_id: str):
    try:
        return payment_get(public_id=public_id)
    except PaymentNotFound as exc:
        raise Http404(exc.message) from exc


@requires(Action.VIEW)
def payment_detail_page(request, public_id: str):
    context = _detail_context(request, _get_or_404(public_id))
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


@public
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
