"""Transactions in the shell's search: id or prefix, merchant, amount as typed, and the payment
or payout batch they belong to."""

from django.urls import reverse

from payflow import search as s
from payflow.formatting import format_money
from transactions.models import Transaction


def _hit(t: Transaction, score: int) -> s.Hit:
    return s.Hit(
        kind="transaction",
        id=t.public_id,
        title=f"{t.get_kind_display()} {format_money(t.amount, t.currency)} · {t.merchant}",
        detail=t.payment_ref or t.payout_ref or "no linked payment or payout",
        url=reverse("transactions:detail", args=[t.public_id]),
        amount=t.amount,
        currency=t.currency,
        status=t.status,
        score=score,
    )


def search(query: s.SearchQuery, *, limit: int = s.PER_KIND_LIMIT) -> list[s.Hit]:
    rows = Transaction.objects.order_by("-id")
    hits: list[s.Hit] = []
    for prefix in query.id_prefixes:
        for t in rows.filter(public_id__startswith=prefix)[:limit]:
            hits.append(_hit(t, s.SCORE_EXACT_ID if t.public_id == prefix else s.SCORE_ID_PREFIX))
        # A payment or payout batch id finds its transactions too.
        if len(prefix) >= 8:
            for t in rows.filter(payment_ref=prefix)[:limit]:
                hits.append(_hit(t, s.SCORE_REFERENCE))
            for t in rows.filter(payout_ref=prefix)[:limit]:
                hits.append(_hit(t, s.SCORE_REFERENCE))
    if query.amounts:
        cond = s.amount_q(query, amount_field="amount", currency_field="currency")
        hits += [_hit(t, s.SCORE_AMOUNT) for t in rows.filter(cond)[:limit]]
    if query.has_text:
        hits += [
            _hit(t, s.SCORE_NAME) for t in rows.filter(merchant__icontains=query.words)[:limit]
        ]
    return hits
