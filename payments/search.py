"""Payments in the shell's search: id or id prefix, beneficiary name, amount as typed, account
last 4. Each condition is its own bounded query (see payflow/search.py)."""

from django.urls import reverse

from payflow import search as s
from payflow.formatting import format_money
from payments.models import Payment


def _hit(payment: Payment, score: int) -> s.Hit:
    return s.Hit(
        kind="payment",
        id=payment.public_id,
        title=f"{format_money(payment.amount, payment.currency)} to {payment.beneficiary_name}",
        detail=f"{payment.get_method_display()} · account …{payment.beneficiary_account[-4:]}",
        url=reverse("payments:detail", args=[payment.public_id]),
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        score=score,
    )


def search(query: s.SearchQuery, *, limit: int = s.PER_KIND_LIMIT) -> list[s.Hit]:
    rows = Payment.objects.only(
        "public_id",
        "amount",
        "currency",
        "beneficiary_name",
        "beneficiary_account",
        "method",
        "status",
    ).order_by("-id")
    hits: list[s.Hit] = []
    for prefix in query.id_prefixes:
        for p in rows.filter(public_id__startswith=prefix)[:limit]:
            hits.append(_hit(p, s.SCORE_EXACT_ID if p.public_id == prefix else s.SCORE_ID_PREFIX))
    if query.amounts:
        cond = s.amount_q(query, amount_field="amount", currency_field="currency")
        hits += [_hit(p, s.SCORE_AMOUNT) for p in rows.filter(cond)[:limit]]
    if query.last4:
        found = rows.filter(beneficiary_account__endswith=query.last4)[:limit]
        hits += [_hit(p, s.SCORE_LAST4) for p in found]
    if query.has_text:
        found = rows.filter(beneficiary_name__icontains=query.words)[:limit]
        hits += [_hit(p, s.SCORE_NAME) for p in found]
    return hits
