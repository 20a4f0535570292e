"""Payout batches and items in the shell's search: ids and prefixes, batch and recipient names,
item amounts as typed, account last 4, bank references (items' and reconciliations')."""

from django.urls import reverse

from payflow import search as s
from payflow.formatting import format_money
from payouts.models import PayoutBatch, PayoutItem, PayoutReconciliation


def _batch_hit(batch: PayoutBatch, score: int) -> s.Hit:
    return s.Hit(
        kind="payout_batch",
        id=batch.public_id,
        title=batch.name,
        detail=f"{batch.get_rail_display()} · {batch.currency} · settles "
        f"{batch.expected_settlement_date:%Y-%m-%d} (bank date)",
        url=reverse("payouts:detail", args=[batch.public_id]),
        amount=None,
        currency=batch.currency,
        status=batch.status,
        score=score,
    )


def _item_hit(item: PayoutItem, score: int) -> s.Hit:
    reference = f" · bank ref {item.bank_reference}" if item.bank_reference else ""
    return s.Hit(
        kind="payout_item",
        id=item.public_id,
        title=f"{format_money(item.amount, item.batch.currency)} to {item.recipient_name}",
        detail=f"in {item.batch.public_id} · account {item.account_reference}{reference}",
        url=reverse("payouts:detail", args=[item.batch.public_id]) + f"#item-{item.public_id}",
        amount=item.amount,
        currency=item.batch.currency,
        status=item.status,
        score=score,
    )


def search(query: s.SearchQuery, *, limit: int = s.PER_KIND_LIMIT) -> list[s.Hit]:
    batches = PayoutBatch.objects.order_by("-id")
    items = PayoutItem.objects.select_related("batch").order_by("-id")
    hits: list[s.Hit] = []
    for prefix in query.id_prefixes:
        for b in batches.filter(public_id__startswith=prefix)[:limit]:
            exact = b.public_id == prefix
            hits.append(_batch_hit(b, s.SCORE_EXACT_ID if exact else s.SCORE_ID_PREFIX))
        for i in items.filter(public_id__startswith=prefix)[:limit]:
            exact = i.public_id == prefix
            hits.append(_item_hit(i, s.SCORE_EXACT_ID if exact else s.SCORE_ID_PREFIX))
    if query.amounts:
        cond = s.amount_q(query, amount_field="amount", currency_field="batch__currency")
        hits += [_item_hit(i, s.SCORE_AMOUNT) for i in items.filter(cond)[:limit]]
    if query.last4:
        found = items.filter(account_reference__endswith=query.last4)[:limit]
        hits += [_item_hit(i, s.SCORE_LAST4) for i in found]
    # A bank reference may look like an id ("ACH_123"): try the typed text as one as well.
    reference = (query.words or " ".join(query.id_prefixes)).strip()
    if reference and " " not in reference:
        found = items.filter(bank_reference__iexact=reference)[:limit]
        hits += [_item_hit(i, s.SCORE_REFERENCE) for i in found]
        recs = PayoutReconciliation.objects.select_related("batch").filter(
            bank_reference__iexact=reference
        )
        hits += [_batch_hit(r.batch, s.SCORE_REFERENCE) for r in recs.order_by("-id")[:limit]]
    if query.has_text:
        hits += [
            _batch_hit(b, s.SCORE_NAME) for b in batches.filter(name__icontains=query.words)[:limit]
        ]
        found = items.filter(recipient_name__icontains=query.words)[:limit]
        hits += [_item_hit(i, s.SCORE_NAME) for i in found]
        if reference and " " not in reference:
            found = items.filter(bank_reference__icontains=reference).exclude(
                bank_reference__iexact=reference
            )[:limit]
            hits += [_item_hit(i, s.SCORE_NAME) for i in found]
    return hits
