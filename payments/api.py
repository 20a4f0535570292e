"""The payments JSON API: list, read, create (idempotent) and transition."""

from typing import Annotated, Literal

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Header, Query, Router, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr

from payflow.accounts.roles import Action
from payflow.api import (
    CURRENCY_ENUM,
    CURSOR_DOC,
    NON_BLANK_TEXT,
    IfMatchHeader,
    UtcDatetime,
    idempotent_response,
    needs,
    sort_choices,
    sort_doc,
)
from payflow.currencies import CURRENCIES, MAX_MINOR_AMOUNT
from payflow.export import csv_response
from payflow.preconditions import parse_if_match
from payments.errors import PaymentInvalid
from payments.models import DeliveryOutcome, SignatureVerdict
from payments.selectors import (
    DEFAULT_PAYMENT_SORT,
    MAX_PAGE_SIZE,
    PAYMENT_EXPORT_HEADER,
    PAYMENT_SORTS,
    DeliveryFilters,
    PaymentFilters,
    known_payment_refs,
    parse_payment_sort,
    payment_etag,
    payment_export,
    payment_get,
    payment_history,
    payment_list,
    webhook_delivery_list,
)
from payments.serializers import delivery_as_json, payment_as_json
from payments.services import (
    MAX_REASON_LENGTH,
    PaymentInput,
    check_payment_input,
    check_refund_input,
    payment_create_idempotent,
    payment_transition,
    refund_create_idempotent,
)
from payments.transitions import ALL_STATES, FAILURE_CODES, PaymentStatus

router = Router(tags=["payments"])

StatusName = Literal[ALL_STATES]  # type: ignore[valid-type]
PaymentSort = Literal[sort_choices(PAYMENT_SORTS)]  # type: ignore[valid-type]


class BeneficiaryIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(max_length=120, json_schema_extra={"pattern": NON_BLANK_TEXT})
    account: StrictStr = Field(max_length=64, json_schema_extra={"pattern": NON_BLANK_TEXT})


class PaymentCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(
        description="Minor units of the currency: 1250 USD is 12.50.",
        json_schema_extra={
            "exclusiveMinimum": 0,
            "exclusiveMaximum": settings.PAYMENT_AMOUNT_CEILING_MINOR,
        },
    )
    currency: StrictStr = Field(
        description="ISO 4217 code, e.g. USD, EUR, JPY, KWD.",
        json_schema_extra={"enum": sorted(CURRENCIES)},
    )
    beneficiary: BeneficiaryIn
    method: Literal["card", "ach", "sepa", "wire"]
    description: StrictStr = Field("", max_length=500)
    submit: StrictBool = Field(False, description="Submit in the same transaction.")

    def to_input(self) -> PaymentInput:
        return check_payment_input(
            amount=self.amount,
            currency=self.currency,
            beneficiary_name=self.beneficiary.name,
            beneficiary_account=self.beneficiary.account,
            method=self.method,
            description=self.description,
            submit=self.submit,
        )


def _failure_code_only_when_failed(schema: dict) -> None:
    # A failure code (other than empty) goes with to=failed alone: one branch per target.
    others = [state for state in ALL_STATES if state != PaymentStatus.FAILED]
    schema["oneOf"] = [
        {"properties": {"to": {"const": PaymentStatus.FAILED}}},
        {
            "properties": {
                "to": {"enum": others},
                "failure_code": {"anyOf": [{"const": ""}, {"type": "null"}]},
            }
        },
    ]


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_failure_code_only_when_failed)
    to: StatusName = Field(description="The target state.")
    reason: StrictStr = Field("", max_length=MAX_REASON_LENGTH)
    failure_code: StrictStr | None = Field(
        None,
        description="Only with to=failed (default unspecified).",
        json_schema_extra={"enum": [*FAILURE_CODES, "", None]},
    )
    expected_version: StrictInt | None = Field(
        None, description="The version you last saw; a changed payment answers 409 conflict."
    )


class PaymentFilterQuery(Schema):
    """The list's filters and sort; the export takes these and nothing else."""

    status: StatusName | None = None
    currency: str | None = Field(None, max_length=3, json_schema_extra=CURRENCY_ENUM)
    created_from: UtcDatetime | None = None
    created_to: UtcDatetime | None = None
    amount_min: int | None = Field(None, ge=0, le=MAX_MINOR_AMOUNT)
    amount_max: int | None = Field(None, ge=0, le=MAX_MINOR_AMOUNT)
    q: str = Field("", max_length=100, description="Payment id prefix or beneficiary name.")
    stuck: bool = Field(False, description="Only payments processing for too long.")
    refunded: bool | None = Field(
        None, description="true: payments with a succeeded refund; false: payments without."
    )
    sort: PaymentSort | None = Field(
        None, description=sort_doc(PAYMENT_SORTS, DEFAULT_PAYMENT_SORT)
    )


class PaymentListQuery(PaymentFilterQuery):
    cursor: str | None = Field(None, max_length=200, json_schema_extra=CURSOR_DOC)
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


LIST_RULES = (
    "A crossed range (amount_min above amount_max, created_from after created_to) is "
    "accepted and matches nothing."
)


def _filters(query: PaymentFilterQuery) -> PaymentFilters:
    currency = query.currency.upper() if query.currency else None
    if currency and currency not in CURRENCIES:
        raise PaymentInvalid(
            f"Unknown currency {query.currency!r}.",
            fields={"currency": ["Use an ISO 4217 code such as USD, EUR, JPY or KWD."]},
        )
    return PaymentFilters(
        status=query.status,
        currency=currency,
        created_from=query.created_from,
        created_to=query.created_to,
        amount_min=query.amount_min,
        amount_max=query.amount_max,
        q=query.q,
        stuck=query.stuck,
        refunded=query.refunded,
    )


@router.get(
    "/payments",
    summary="List payments, newest first (cursor pagination)",
    description=LIST_RULES,
    auth=needs(Action.VIEW),
)
def list_payments(request, query: Query[PaymentListQuery]):
    sort = parse_payment_sort(query.sort) if query.sort else None
    page = payment_list(filters=_filters(query), cursor=query.cursor, limit=query.limit, sort=sort)
    items = [payment_as_json(payment, user=request.auth) for payment in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get(
    "/payments/export.csv",
    summary="Every filtered payment as CSV (the list's filters and sort; streamed)",
    description=LIST_RULES,
    auth=needs(Action.VIEW),
)
def export_payments(request, query: Query[PaymentFilterQuery]):
    total, rows = payment_export(filters=_filters(query), sort=parse_payment_sort(query.sort))
    return csv_response(
        filename="payments.csv", header=PAYMENT_EXPORT_HEADER, rows=rows, total=total
    )


@router.get(
    "/payments/{payment_id}",
    summary="One payment with its history and actions",
    auth=needs(Action.VIEW),
)
def get_payment(request, response: HttpResponse, payment_id: str):
    payment = payment_get(public_id=payment_id)
    history = payment_history(payment=payment)
    response["ETag"] = payment_etag(payment=payment)
    return payment_as_json(payment, user=request.auth, history=history)


@router.post(
    "/payments",
    summary="Create a payment (draft, or submitted with submit=true); needs Idempotency-Key",
    response={201: dict},
    auth=needs(Action.CREATE_PAYMENT),
)
def create_payment(
    request,
    payload: PaymentCreateIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    outcome = payment_create_idempotent(
        user=request.auth, idempotency_key=idempotency_key, data=payload.to_input()
    )
    return idempotent_response(outcome)


@router.post(
    "/payments/{payment_id}/transitions",
    summary="Move a payment to another state",
    description="failure_code goes only with to=failed (the schema's oneOf). Whether the move "
    "is legal from the payment's current state, and whether expected_version is still the "
    "payment's version, depend on the payment: refused with 409.",
    auth=needs(Action.TRANSITION_PAYMENT),
)
def transition_payment(
    request,
    response: HttpResponse,
    payment_id: str,
    payload: TransitionIn,
    if_match: IfMatchHeader = None,
):
    payment = payment_transition(
        public_id=payment_id,
        to=payload.to,
        actor=request.auth,
        reason=payload.reason,
        failure_code=payload.failure_code,
        expected_version=payload.expected_version,
        if_match=parse_if_match(if_match),
    )
    response["ETag"] = payment_etag(payment=payment)
    return payment_as_json(payment, user=request.auth, history=payment_history(payment=payment))


class RefundIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(
        gt=0,
        lt=settings.PAYMENT_AMOUNT_CEILING_MINOR,
        description="Minor units of the payment's currency; at most the refundable amount.",
    )
    reason: StrictStr = Field(
        max_length=MAX_REASON_LENGTH,
        description="Why the money goes back.",
        json_schema_extra={"pattern": NON_BLANK_TEXT},
    )


@router.post(
    "/payments/{payment_id}/refunds",
    summary="Refund part or all of a succeeded payment; needs Idempotency-Key",
    description="Depends on the payment, so refused with 409: a payment that has not "
    "succeeded (refund_not_allowed), and an amount above what pending and succeeded refunds "
    "leave refundable (refund_exceeds_refundable).",
    response={201: dict},
    auth=needs(Action.REFUND_PAYMENT),
)
def create_refund(
    request,
    payment_id: str,
    payload: RefundIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    if_match: IfMatchHeader = None,
):
    outcome = refund_create_idempotent(
        user=request.auth,
        idempotency_key=idempotency_key,
        payment_id=payment_id,
        data=check_refund_input(amount=payload.amount, reason=payload.reason),
        if_match=parse_if_match(if_match),
    )
    return idempotent_response(outcome)


class DeliveryListQuery(Schema):
    outcome: Literal[tuple(DeliveryOutcome.values)] | None = None  # type: ignore[valid-type]
    signature: Literal[tuple(SignatureVerdict.values)] | None = None  # type: ignore[valid-type]
    event_id: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_]*$")
    payment_id: str = Field("", max_length=32, pattern=r"^[A-Za-z0-9_]*$")
    cursor: str | None = Field(None, max_length=200, json_schema_extra=CURSOR_DOC)
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@router.get(
    "/webhooks/deliveries",
    summary="The processor webhook log: every delivery, newest first (cursor pagination)",
    tags=["webhooks"],
    auth=needs(Action.VIEW_WEBHOOKS),
)
def list_webhook_deliveries(request, query: Query[DeliveryListQuery]):
    filters = DeliveryFilters(
        outcome=query.outcome,
        verdict=query.signature,
        event_id=query.event_id,
        payment_id=query.payment_id,
    )
    page = webhook_delivery_list(filters=filters, cursor=query.cursor, limit=query.limit)
    known = known_payment_refs(d.payment_ref for d in page.items if d.payment_ref)
    items = [delivery_as_json(d, payment_exists=d.payment_ref in known) for d in page.items]
    return {"items": items, "next_cursor": page.next_cursor}
