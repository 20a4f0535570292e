"""Reads for payments: the list with its filters and cursor, one payment, and what may be done.

``payment_actions`` is the one answer to "which moves can this user make on this payment, and
why not the others"; pages, the API and the admin all use it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from payflow.accounts.roles import can, denial_message
from payflow.models import HISTORY_ORDER
from payflow.pagination import SortSpec, newest_first_page, parse_sort, sorted_page
from payflow.preconditions import entity_tag
from payments.errors import PaymentInvalid, PaymentNotFound
from payments.models import (
    TRANSITION_METHODS,
    Payment,
    PaymentEvent,
    Refund,
    RefundEvent,
    action_for_target,
)
from payments.transitions import (
    ACTION_LABELS,
    ALL_STATES,
    LEGAL_TRANSITIONS,
    PROCESSOR_TARGETS,
    TERMINAL_STATES,
    PaymentStatus,
    blocked_reason,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def stuck_after_seconds_default() -> int:
    return int(settings.PAYMENT_STUCK_AFTER_SECONDS)


# --- what may be done ------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentAction:
    to: str
    allowed: bool
    reason: str | None
    label: str
    processor: bool  # an answer the processor gives (a simulation button), not a person's move

    def as_json(self) -> dict:
        return {"to": self.to, "allowed": self.allowed, "reason": self.reason}


def transition_blocked_reason(*, payment: Payment, target: str) -> str | None:
    """Why ``payment`` cannot move to ``target`` now (table, then the model's conditions)."""
    reason = blocked_reason(payment.status, target)
    if reason is not None:
        return reason
    method = getattr(Payment, TRANSITION_METHODS[target])
    fsm_transition = method._django_fsm.get_transition(payment.status)
    for condition in fsm_transition.conditions:
        if not condition(payment):
            return condition.reason
    return None


def legal_targets(*, payment: Payment) -> list[str]:
    return [
        target
        for target in LEGAL_TRANSITIONS[payment.status]
        if transition_blocked_reason(payment=payment, target=target) is None
    ]


def payment_actions(*, payment: Payment, user) -> list[PaymentAction]:
    """Every state as a possible move, with allowed yes/no and the reason when not."""
    actions = []
    for target in ALL_STATES:
        reason = transition_blocked_reason(payment=payment, target=target)
        if reason is None and user is not None and not can(user, action_for_target(target)):
            reason = denial_message(action_for_target(target))
        actions.append(
            PaymentAction(
                to=target,
                allowed=reason is None,
                reason=reason,
                label=ACTION_LABELS[target],
                processor=target in PROCESSOR_TARGETS,
            )
        )
    return actions


# --- attention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    required: bool
    level: str  # "none", "warning" or "action_required"
    message: str


def payment_attention(*, payment: Payment, now: datetime | None = None) -> Attention:
    """Whether a person needs to do something about this payment, said in one sentence."""
    now = now or timezone.now()
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return Attention(
            True,
            "action_required",
            "The processor needs action on this payment (for example customer "
            "authentication). Once it is done, mark it processing again, or cancel it.",
        )
    waited = now - payment.status_changed_at
    if payment.status == PaymentStatus.PROCESSING and waited.total_seconds() > (
        stuck_after_seconds_default()
    ):
        minutes = int(waited.total_seconds() // 60)
        return Attention(
            True,
            "warning",
            f"Processing for {minutes} min, longer than expected; check with the processor.",
        )
    if payment.status in TERMINAL_STATES:
        return Attention(False, "none", "This payment is final.")
    return Attention(False, "none", "The payment is moving normally.")


def payment_attention_summary(*, stuck_after_seconds: int = 900) -> dict:
    """For the overview: payments needing action, processing too long, and a few examples."""
    threshold = timezone.now() - timedelta(seconds=stuck_after_seconds)
    needs_action = Q(status=PaymentStatus.REQUIRES_ACTION)
    stuck = Q(status=PaymentStatus.PROCESSING, status_changed_at__lt=threshold)
    counts = Payment.objects.aggregate(
        requires_action=Count("id", filter=needs_action),
        stuck_processing=Count("id", filter=stuck),
    )
    examples = Payment.objects.filter(needs_action | stuck).order_by("status_changed_at", "id")[:5]
    return {
        "requires_action": counts["requires_action"],
        "stuck_processing": counts["stuck_processing"],
        "examples": [
            {
                "id": payment.public_id,
                "status": payment.status,
                "amount": payment.amount,
                "currency": payment.currency,
                "beneficiary": payment.beneficiary_name,
                "since": payment.status_changed_at.isoformat(),
            }
            for payment in examples
        ],
    }


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilters:
    status: str | None = None
    currency: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    q: str = ""
    stuck: bool = False
    refunded: bool | None = None  # True: at least one succeeded refund; False: none
    stuck_after_seconds: int = field(default_factory=stuck_after_seconds_default)

    def is_empty(self) -> bool:
        return self == PaymentFilters(stuck_after_seconds=self.stuck_after_seconds)


@dataclass(frozen=True)
class PaymentPage:
    items: list[Payment]
    next_cursor: str | None


def _filtered(filters: PaymentFilters, *, with_status: bool = True) -> QuerySet[Payment]:
    qs = Payment.objects.all()
    if with_status and filters.status:
        qs = qs.filter(status=filters.status)
    if with_status and filters.stuck:
        threshold = timezone.now() - timedelta(seconds=filters.stuck_after_seconds)
        qs = qs.filter(status=PaymentStatus.PROCESSING, status_changed_at__lt=threshold)
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    if filters.created_from:
        qs = qs.filter(created_at__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__lt=filters.created_to)
    if filters.amount_min is not None:
        qs = qs.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        qs = qs.filter(amount__lte=filters.amount_max)
    if filters.refunded is not None:
        has_refund = Exists(Refund.objects.filter(payment=OuterRef("pk"), status="succeeded"))
        qs = qs.filter(has_refund) if filters.refunded else qs.exclude(has_refund)
    text = filters.q.strip()
    if text:
        qs = qs.filter(Q(public_id__istartswith=text) | Q(beneficiary_name__icontains=text))
    return qs


PAYMENT_SORTS = {
    "created_at": "created_at",
    "amount": "amount",
    "status": "status",
    "beneficiary": "beneficiary_name",
    "method": "method",
    "currency": "currency",
}
DEFAULT_PAYMENT_SORT = "-created_at"


def parse_payment_sort(value: str | None) -> SortSpec:
    """``?sort=amount`` / ``?sort=-created_at``; PaymentInvalid naming ``sort`` otherwise."""
    try:
        return parse_sort(value, allowed=PAYMENT_SORTS, default=DEFAULT_PAYMENT_SORT)
    except ValueError as exc:
        message = str(exc).removeprefix("sort: ")
        raise PaymentInvalid(message, fields={"sort": [message]}) from None


def payment_list(
    *,
    filters: PaymentFilters,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    sort: SortSpec | None = None,
) -> PaymentPage:
    """Newest first (or ``sort``), keyset-paginated on (column, id): one query whatever the page."""
    if sort is not None:
        try:
            items, next_cursor = sorted_page(
                _filtered(filters).select_related("created_by").prefetch_related("refunds"),
                sort=sort,
                cursor=cursor,
                limit=limit,
            )
        except ValueError as exc:
            message = str(exc).removeprefix("cursor: ")
            raise PaymentInvalid(message, fields={"cursor": [message]}) from None
        return PaymentPage(items=items, next_cursor=next_cursor)
    qs = _filtered(filters).select_related("created_by").prefetch_related("refunds")
    items, next_cursor = _newest_first(qs, "created_at", cursor, limit)
    return PaymentPage(items=items, next_cursor=next_cursor)


def _newest_first(qs: QuerySet, time_field: str, cursor: str | None, limit: int):
    try:
        return newest_first_page(qs, time_field=time_field, cursor=cursor, limit=limit)
    except ValueError:
        raise PaymentInvalid(
            "The cursor is not one this API gave out.",
            fields={"cursor": ["Use the next_cursor value of a previous page, unchanged."]},
        ) from None


PAYMENT_EXPORT_HEADER = [
    "id",
    "created_at",
    "status",
    "amount",
    "currency",
    "amount_minor",
    "beneficiary",
    "account_last4",
    "method",
    "description",
    "failure_code",
    "status_changed_at",
]


def payment_export(*, filters: PaymentFilters, sort: SortSpec):
    """(total, rows): every filtered payment as CSV cells, read in chunks (memory flat)."""
    from payflow.export import CHUNK_ROWS
    from payflow.formatting import decimal_string, utc_iso

    qs = _filtered(filters).order_by(*sort.order_by())
    total = qs.count()
    fields = ["public_id", "created_at", "status", "amount", "currency", "beneficiary_name"]
    fields += ["beneficiary_account", "method", "description", "failure_code"]
    fields += ["status_changed_at"]

    def cells():
        for row in qs.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
            public_id, created, status, amount, currency, name, account, *rest = row
            method, description, failure_code, changed = rest
            yield [
                public_id,
                utc_iso(created),
                status,
                decimal_string(amount, currency),
                currency,
                amount,
                name,
                account[-4:],
                method,
                description,
                failure_code,
                utc_iso(changed),
            ]

    return total, cells()


def payment_status_counts(*, filters: PaymentFilters) -> dict[str, int]:
    """How many payments in each state under the other filters (the status filter ignored)."""
    rows = _filtered(filters, with_status=False).order_by().values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(ALL_STATES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


# --- one payment -----------------------------------------------------------------------------


def payment_get(*, public_id: str) -> Payment:
    payment = Payment.objects.select_related("created_by").filter(public_id=public_id).first()
    if payment is None:
        raise PaymentNotFound(
            f"No payment with id {public_id!r}.",
            fields={"payment_id": ["No payment has this id."]},
        )
    return payment


def payment_etag(*, payment: Payment) -> str:
    """Changes whenever the payment's representation does: its version moves with every
    transition, and its refunds' append-only history grows with every refund change."""
    refund_changes = RefundEvent.objects.filter(refund__payment=payment).count()
    return entity_tag(payment.version, refund_changes)


def _refund_history() -> Prefetch:
    return Prefetch("events", queryset=RefundEvent.objects.order_by(*HISTORY_ORDER))


def payment_refunds(*, payment: Payment) -> list[Refund]:
    return list(
        Refund.objects.filter(payment=payment)
        .select_related("created_by")
        .prefetch_related(_refund_history())
        .order_by("created_at", "id")
    )


def refund_get(*, public_id: str) -> Refund:
    refund = Refund.objects.select_related("payment", "created_by").filter(public_id=public_id)
    found = refund.prefetch_related(_refund_history()).first()
    if found is None:
        raise PaymentNotFound(
            f"No refund with id {public_id!r}.", fields={"refund_id": ["No refund has this id."]}
        )
    return found


def payment_history(*, payment: Payment) -> list[PaymentEvent]:
    """Newest first, like every history."""
    return list(PaymentEvent.objects.filter(payment=payment).order_by(*HISTORY_ORDER))


def status_path(events: list[PaymentEvent]) -> list[str]:
    """The states a payment went through, oldest first, from its history in any order."""
    in_time = sorted(events, key=lambda event: (event.created_at, event.pk))
    return [event.to_status for event in in_time]


# --- the janitor -----------------------------------------------------------------------------


def janitor_summary() -> dict:
    """The last janitor run and the payments it could not resolve that are still stuck."""
    from payments.models import JanitorRun

    run = JanitorRun.objects.filter(finished_at__isnull=False).first()
    if run is None:
        return {"last_run": None, "unresolved": []}
    reasons = {note["payment_id"]: note.get("reason", "") for note in run.notes}
    still = Payment.objects.filter(
        public_id__in=run.unresolved_refs[:50],
        status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION],
    ).order_by("status_changed_at", "id")[:10]
    return {
        "last_run": {
            "finished_at": run.finished_at,
            "examined": run.examined,
            "resolved": run.resolved,
            "unresolved": run.unresolved,
            "errors": run.errors,
        },
        "unresolved": [
            {
                "id": payment.public_id,
                "money": payment.money,
                "beneficiary": payment.beneficiary_name,
                "status": payment.status,
                "reason": reasons.get(payment.public_id, ""),
            }
            for payment in still
        ],
    }


# --- the webhook log -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilters:
    outcome: str | None = None
    verdict: str | None = None
    event_id: str = ""
    payment_id: str = ""


@dataclass(frozen=True)
class DeliveryPage:
    items: list
    next_cursor: str | None


def webhook_delivery_list(
    *, filters: DeliveryFilters, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> DeliveryPage:
    """Every delivery, newest first, keyset-paginated on (received_at, id)."""
    from payments.models import WebhookDelivery

    qs = WebhookDelivery.objects.all()
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.verdict:
        qs = qs.filter(verdict=filters.verdict)
    if filters.event_id:
        qs = qs.filter(event_id=filters.event_id)
    if filters.payment_id:
        qs = qs.filter(payment_ref=filters.payment_id)
    items, next_cursor = _newest_first(qs, "received_at", cursor, limit)
    return DeliveryPage(items=items, next_cursor=next_cursor)


def known_payment_refs(refs) -> set[str]:
    return set(Payment.objects.filter(public_id__in=set(refs)).values_list("public_id", flat=True))
