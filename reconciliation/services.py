"""Writes for reconciliation: import a statement (parse, match, record), and work the
exceptions queue (assign, propose a resolution, approve it).

Each is one transaction. Item outcomes go to payouts only through
``payouts.services.payout_item_results_record``, inside that transaction, so an import applies
all of its lines or none, and an approval applies its resolution whole or not at all.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from payflow.accounts.roles import Action, can
from payflow.bulk import insert_rows
from payflow.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from payflow.observability import current_request_id
from payouts.selectors import items_by_ids, open_items_for_matching
from payouts.services import ItemResult, payout_item_results_record
from reconciliation import matching
from reconciliation.calendar import shift_business_days, sla_deadline
from reconciliation.models import (
    Approval,
    BankStatement,
    ExceptionEvent,
    ExceptionReason,
    ExceptionStatus,
    Match,
    MatchedItem,
    MatchOutcome,
    ReconciliationException,
    Resolution,
    ResolutionAction,
    StatementLine,
    new_line_id,
)
from reconciliation.statements import ParsedStatement, parse_statement
from reconciliation.statements import StatementLine as ParsedLine

NOTE_MAX_LENGTH = 2000
BULK = 2000
STREAM_CHUNK = 5000  # statement lines per insert, match and write
WRITE_OFF_CODE = "WRITE_OFF"
SOURCE = "reconciliation"


def _name(user) -> str:
    return user.get_username() if user is not None else "system"


def rules() -> matching.Rules:
    return matching.Rules(
        amount_tolerance=settings.RECONCILIATION_AMOUNT_TOLERANCE,
        value_date_window=settings.RECONCILIATION_VALUE_DATE_WINDOW_DAYS,
    )


@dataclass(frozen=True)
class ImportResult:
    statement: BankStatement
    duplicate: bool


def _existing(parsed: ParsedStatement, digest: str) -> BankStatement | None:
    return (
        BankStatement.objects.filter(sha256=digest).first()
        or BankStatement.objects.filter(
            account=parsed.account[:64], statement_id=parsed.statement_id[:140]
        ).first()
    )


def _matching_items(currency: str) -> list[matching.Item]:
    """Open items (and returnable settled ones) as plain data for the matching rules.

    The interface's ``OpenItem`` may not carry a status; where it does not, an item counts as
    settled when a statement line already settled it (and not returned).
    """
    open_items = list(open_items_for_matching(currency=currency))
    known = {oi.item_id: getattr(oi, "status", None) for oi in open_items}
    unknown = [item_id for item_id, status in known.items() if status is None]
    settled: set[str] = set()
    for chunk in itertools.batched(unknown, BULK):
        settled.update(
            MatchedItem.objects.filter(item_id__in=chunk, outcome=MatchOutcome.SETTLED).values_list(
                "item_id", flat=True
            )
        )
    return [
        matching.Item(
            item_id=oi.item_id,
            batch_id=oi.batch_id,
            currency=oi.currency,
            amount=oi.amount,
            reference=oi.reference or "",
            expected_settlement_date=oi.expected_settlement_date,
            calendar=oi.calendar,
            status=known[oi.item_id] or ("settled" if oi.item_id in settled else "pending"),
        )
        for oi in open_items
    ]


def _matching_line(line: ParsedLine) -> matching.Line:
    return matching.Line(
        key=str(line.index),
        direction=line.direction,
        amount=line.amount,
        currency=line.currency,
        value_date=line.value_date or line.booking_date,
        end_to_end_id=line.end_to_end_id,
        texts=(line.customer_reference, *line.references, line.details),
        return_reason=line.return_reason,
    )


def _open_overdue(item_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in itertools.batched(item_ids, BULK):
        found.update(
            ReconciliationException.objects.filter(
                reason=ExceptionReason.OVERDUE_ITEM, item_id__in=chunk
            )
            .exclude(status=ExceptionStatus.RESOLVED)
            .values_list("item_id", flat=True)
        )
    return found


def _record_in_order(results: list[ItemResult], *, actor, note: str) -> None:
    """Record bank events in statement order. One item can have two (paid out, then back
    again), and the payouts writer takes each item once per call: so each call carries the
    next event of every item that has one, and an item's events land in their order."""
    waves: list[list[ItemResult]] = []
    seen: dict[str, int] = {}
    for result in results:
        position = seen.get(result.item_id, 0)
        seen[result.item_id] = position + 1
        if position == len(waves):
            waves.append([])
        waves[position].append(result)
    for wave in waves:
        payout_item_results_record(results=wave, actor=actor, source=SOURCE, note=note)


def _item_results(match: matching.Match, line) -> list[ItemResult]:
    results = []
    for position, (item_id, amount) in enumerate(zip(match.item_ids, match.amounts, strict=True)):
        pending = position < len(match.was_pending) and match.was_pending[position]
        if match.outcome == matching.RETURNED and pending:
            # Returned without a settlement on record: the money went out first.
            results.append(
                ItemResult(
                    item_id=item_id,
                    outcome="settled",
                    amount=amount,
                    bank_reference=line.bank_reference[:64],
                    statement_line_id=line.public_id,
                )
            )
        results.append(
            ItemResult(
                item_id=item_id,
                outcome=match.outcome,
                amount=amount,
                bank_reference=line.bank_reference[:64],
                reason_code=match.reason_code,
                statement_line_id=line.public_id,
            )
        )
    return results


def statement_import(*, data: bytes, format: str | None = None, actor) -> ImportResult:
    """Parse, match and record a bank statement; the same statement again changes nothing.

    "The same" is the same bytes or the same (account, statement id). Two imports of one
    statement at once: the second waits on the unique index, then answers as a duplicate.

    The file is checked whole first (a bad one is refused before anything is written); then
    its lines stream through in chunks of ``STREAM_CHUNK``: inserted, matched (debits as they
    come, credits once every debit is decided, as the rules require) and recorded, so memory
    holds the open items and one chunk, not the statement.
    """
    parsed = parse_statement(data, format)
    digest = hashlib.sha256(data).hexdigest()
    existing = _existing(parsed, digest)
    if existing is not None:
        return ImportResult(existing, duplicate=True)

    matcher = matching.Matcher(
        _matching_items(parsed.currency), shift=shift_business_days, rules=rules()
    )
    now = timezone.now()
    recorder = _Recorder(actor=actor, request_id=current_request_id(), now=now)

    with transaction.atomic():
        try:
            with transaction.atomic():
                statement = BankStatement.objects.create(
                    format=parsed.format,
                    account=parsed.account[:64],
                    currency=parsed.currency,
                    statement_id=parsed.statement_id[:140],
                    opening_balance=parsed.opening_balance,
                    closing_balance=parsed.closing_balance,
                    opening_date=parsed.opening_date,
                    closing_date=parsed.closing_date,
                    sha256=digest,
                    line_count=len(parsed.lines),
                    imported_by=actor,
                    imported_by_name=recorder.name,
                    request_id=recorder.request_id,
                    created_at=now,
                )
        except IntegrityError:
            existing = _existing(parsed, digest)
            if existing is None:  # pragma: no cover - the constraint names one of the two
                raise
            return ImportResult(existing, duplicate=True)

        recorder.statement = statement
        credits: list[tuple[_LineRow, matching.Line]] = []
        for chunk in itertools.batched(parsed.lines, STREAM_CHUNK):
            decided = []
            for row, line in zip(_insert_lines(statement, chunk), chunk, strict=True):
                line = _matching_line(line)
                if line.direction == "debit":
                    decided.append((row, matcher.decide(line)))
                else:
                    credits.append((row, line))
            recorder.record(decided)
        for chunk in itertools.batched(credits, STREAM_CHUNK):
            recorder.record([(row, matcher.decide(line)) for row, line in chunk])
        if parsed.as_of is not None:
            overdue = matcher.overdue(parsed.as_of, parsed.currency)
            already = _open_overdue([e.item_id for e in overdue])
            recorder.record([(None, e) for e in overdue if e.item_id not in already])
        # Counted as the lines streamed; set before the commit that creates the row, so no
        # one ever reads other counts.
        BankStatement.objects.filter(pk=statement.pk).update(
            matched_count=recorder.matched, exception_count=recorder.exceptions
        )
        statement.matched_count = recorder.matched
        statement.exception_count = recorder.exceptions
    return ImportResult(statement, duplicate=False)


class _Recorder:
    """Writes one chunk of decisions: matches and their items, exceptions with their history,
    and the item results through payouts' one writer."""

    def __init__(self, *, actor, request_id: str, now):
        self.actor = actor
        self.name = _name(actor)
        self.request_id = request_id
        self.now = now
        self.statement: BankStatement | None = None
        self.matched = 0
        self.exceptions = 0

    def record(self, decided: list[tuple[_LineRow | None, object]]) -> None:
        matches = [(row, d) for row, d in decided if isinstance(d, matching.Match)]
        exceptions = [(row, d) for row, d in decided if not isinstance(d, matching.Match)]
        self.matched += len(matches)
        self.exceptions += len(exceptions)
        results = _record_matches(matches, self.name, self.request_id, self.now)
        _create_exceptions(exceptions, self.statement, self.actor, self.request_id, self.now)
        if not results:
            return
        statement = self.statement
        try:
            with transaction.atomic():
                _record_in_order(
                    results,
                    actor=self.actor,
                    note=f"Bank statement {statement.statement_id} ({statement.public_id})",
                )
        except IntegrityError:
            raise Conflict(
                "Another import or resolution recorded these items at the same time; "
                "nothing was imported. Import the statement again."
            ) from None


@dataclass(frozen=True)
class _LineRow:
    """What the import needs of an inserted line, without building a model instance."""

    pk: int
    public_id: str
    index: int
    amount: int
    bank_reference: str


def _insert_lines(statement: BankStatement, lines) -> list[_LineRow]:
    public_ids = [new_line_id() for _ in lines]
    ids = insert_rows(
        StatementLine,
        (
            {
                "public_id": public_id,
                "statement_id": statement.pk,
                "index": line.index,
                "direction": line.direction,
                "amount": line.amount,
                "currency": line.currency,
                "booking_date": line.booking_date,
                "value_date": line.value_date,
                "end_to_end_id": line.end_to_end_id[:140],
                "customer_reference": line.customer_reference[:140],
                "bank_reference": line.bank_reference[:140],
                "references": list(line.references),
                "details": line.details,
                "return_reason": line.return_reason[:35],
                "location": line.location[:80],
            }
            for public_id, line in zip(public_ids, lines, strict=True)
        ),
        returning_ids=True,
    )
    return [
        _LineRow(pk, public_id, line.index, line.amount, line.bank_reference[:64])
        for pk, public_id, line in zip(ids, public_ids, lines, strict=True)
    ]


def _record_matches(matches, actor_name, request_id, now) -> list[ItemResult]:
    """``matches``: (line row, match) pairs."""
    if not matches:
        return []
    match_ids = insert_rows(
        Match,
        (
            {
                "line_id": row.pk,
                "outcome": m.outcome,
                "reason_code": m.reason_code[:35],
                "source": Match.Source.AUTOMATIC.value,
                "resolution_id": None,
                "actor_name": actor_name,
                "request_id": request_id,
                "created_at": now,
            }
            for row, m in matches
        ),
        returning_ids=True,
    )
    try:
        with transaction.atomic():
            insert_rows(
                MatchedItem,
                (
                    {"match_id": mid, "item_id": item_id, "outcome": m.outcome, "amount": amount}
                    for (_row, m), mid in zip(matches, match_ids, strict=True)
                    for item_id, amount in zip(m.item_ids, m.amounts, strict=True)
                ),
            )
    except IntegrityError:
        raise Conflict(
            "A statement line already settled one of these items; nothing was imported. "
            "Import the statement again to see it as an exception."
        ) from None
    results = []
    for row, m in matches:
        results.extend(_item_results(m, row))
    return results


def _create_exceptions(exceptions, statement, actor, request_id, now) -> None:
    """``exceptions``: (line row, or None for an overdue item; exception) pairs."""
    if not exceptions:
        return
    amounts = {}
    if any(e.item_id for _row, e in exceptions):
        items = {}
        for chunk in itertools.batched([e.item_id for _row, e in exceptions if e.item_id], BULK):
            items.update(items_by_ids(item_ids=chunk))
        amounts = {item_id: item.amount for item_id, item in items.items()}
    deadline = sla_deadline(now)
    rows = [
        {
            "reason": e.reason,
            "statement_id": statement.pk,
            "line_id": row.pk if row is not None else None,
            "item_id": e.item_id or "",
            "currency": statement.currency,
            "amount": row.amount if row is not None else amounts.get(e.item_id, 0),
            "message": e.message[:500],
            "candidates": list(e.candidates),
            "sla_deadline": deadline,
            "created_at": now,
        }
        for row, e in exceptions
    ]
    ids = insert_rows(ReconciliationException, rows, returning_ids=True)
    insert_rows(
        ExceptionEvent,
        [
            {
                "exception_id": exception_id,
                "kind": ExceptionEvent.Kind.CREATED.value,
                "detail": f"From statement {statement.public_id}: {row['message']}"[:500],
                "actor_id": actor.pk if actor is not None else None,
                "actor_name": _name(actor),
                "request_id": request_id,
                "created_at": now,
            }
            for exception_id, row in zip(ids, rows, strict=True)
        ],
    )


# The exceptions queue.


def _locked_exception(exception_id: str) -> ReconciliationException:
    """Call inside ``transaction.atomic()``: the exception row, locked until the commit."""
    try:
        return ReconciliationException.objects.select_for_update(of=("self",)).get(
            public_id=exception_id
        )
    except ReconciliationException.DoesNotExist:
        raise NotFound(f"No reconciliation exception {exception_id}.") from None


def _event(exception, kind, actor, detail, now) -> None:
    ExceptionEvent.objects.create(
        exception=exception,
        kind=kind,
        detail=detail[:500],
        actor=actor,
        actor_name=_name(actor),
        request_id=current_request_id(),
        created_at=now,
    )


def _reconciler(username: str):
    # Well-formed but naming nobody who may own it: that depends on the users, not the input.
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not can(user, Action.RECONCILE_PAYOUT):
        raise Conflict(
            f"{username!r} is not an active operator who can reconcile.",
            fields={"owner": ["Name an active operator who can reconcile, or 'me'."]},
            code="unknown_owner",
        )
    return user


def exception_assign(*, exception_id: str, owner: str, actor) -> ReconciliationException:
    """Give the exception an owner: ``"me"`` (the actor) or a username."""
    owner = (owner or "").strip()
    if not owner:
        raise InvalidInput.for_fields({"owner": ["Send 'me' or a username."]})
    with transaction.atomic():
        exception = _locked_exception(exception_id)
        if exception.status == ExceptionStatus.RESOLVED:
            raise Conflict("This exception is resolved; it needs no owner.")
        user = actor if owner == "me" else _reconciler(owner)
        if exception.owner_id != user.pk:
            exception.owner = user
            exception.save(update_fields=["owner"])
            _event(
                exception,
                ExceptionEvent.Kind.ASSIGNED,
                actor,
                f"Owner: {user.get_username()}.",
                timezone.now(),
            )
    return exception


def _check_note(note: str | None, field: str = "note", required: bool = True) -> str:
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput.for_fields({field: ["Write what was checked and why; it is required."]})
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput.for_fields({field: [f"At most {NOTE_MAX_LENGTH} characters."]})
    return note


def _check_match_items(exception: ReconciliationException, item_ids: list[str]) -> list[str]:
    if exception.line_id is None:
        raise InvalidInput.for_fields(
            {
                "action": [
                    "An overdue item has no statement line to match; write it off or "
                    "ignore it, or match the line's own exception."
                ]
            }
        )
    ids = list(dict.fromkeys(i.strip() for i in item_ids or [] if i and i.strip()))
    if not ids:
        raise InvalidInput.for_fields({"items": ["Name the item ids (poi_...) the line pays."]})
    line = exception.line
    if Match.objects.filter(line=line).exists():
        raise Conflict("This statement line has already matched.")
    found = items_by_ids(item_ids=ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput.for_fields({"items": [f"Unknown item(s): {', '.join(missing)}."]})
    wrong = [i for i in ids if found[i].currency != line.currency]
    if wrong:
        raise InvalidInput.for_fields(
            {"items": [f"{', '.join(wrong)} not in the line's currency {line.currency}."]}
        )
    if line.direction == "credit" and len(ids) != 1:
        raise InvalidInput.for_fields({"items": ["A return credit matches exactly one item."]})
    if len(ids) > 1:
        total = sum(found[i].amount for i in ids)
        if abs(total - line.amount) > settings.RECONCILIATION_AMOUNT_TOLERANCE:
            raise InvalidInput.for_fields(
                {
                    "items": [
                        f"These items add up to {total}, the line is {line.amount} (minor units)."
                    ]
                }
            )
    return ids


def resolution_propose(
    *, exception_id: str, action: str, note: str, items: list[str] | None = None, actor
) -> Resolution:
    """A maker proposes how an exception ends. ``ignore`` resolves it at once; ``match`` and
    ``write_off`` move money state, so they wait for a second operator's approval."""
    if action not in ResolutionAction.values:
        raise InvalidInput.for_fields({"action": ["Use match, write_off or ignore."]})
    note = _check_note(note)
    with transaction.atomic():
        exception = _locked_exception(exception_id)
        if exception.status == ExceptionStatus.RESOLVED:
            raise Conflict("This exception is already resolved.")
        if exception.status == ExceptionStatus.PENDING_APPROVAL:
            raise Conflict("A resolution of this exception is waiting for approval.")
        ids: list[str] = []
        if action == ResolutionAction.MATCH:
            ids = _check_match_items(exception, items or [])
        elif items:
            raise InvalidInput.for_fields({"items": ["Only a match names items."]})
        needs_approval = action != ResolutionAction.IGNORE
        now = timezone.now()
        resolution = Resolution.objects.create(
            exception=exception,
            action=action,
            items=ids,
            note=note,
            needs_approval=needs_approval,
            maker=actor,
            maker_name=_name(actor),
            request_id=current_request_id(),
            created_at=now,
        )
        _event(exception, ExceptionEvent.Kind.PROPOSED, actor, f"{action}: {note}", now)
        if needs_approval:
            exception.status = ExceptionStatus.PENDING_APPROVAL
            exception.save(update_fields=["status"])
        else:
            _resolve(exception, actor, f"Ignored: {note}", now)
    return resolution


def _resolve(exception, actor, detail, now) -> None:
    exception.status = ExceptionStatus.RESOLVED
    exception.resolved_at = now
    exception.save(update_fields=["status", "resolved_at"])
    _event(exception, ExceptionEvent.Kind.RESOLVED, actor, detail, now)


def resolution_approve(*, exception_id: str, resolution_id: str, note: str = "", actor) -> Approval:
    """A second operator approves a pending resolution, which is then applied once.

    The exception row is locked first, so two approvals at once are applied once: the second
    finds the approval made and is refused (409); the unique approval per resolution backs it.
    """
    note = _check_note(note, required=False)
    with transaction.atomic():
        exception = _locked_exception(exception_id)
        resolution = Resolution.objects.filter(public_id=resolution_id, exception=exception).first()
        if resolution is None:
            raise InvalidInput.for_fields(
                {"resolution": [f"No resolution {resolution_id} of this exception."]}
            )
        if Approval.objects.filter(resolution=resolution).exists():
            raise Conflict("This resolution is already approved.")
        if not resolution.needs_approval or exception.status != ExceptionStatus.PENDING_APPROVAL:
            raise Conflict("This resolution is not waiting for approval.")
        if resolution.maker_id is not None and resolution.maker_id == getattr(actor, "pk", None):
            raise Forbidden(
                "You proposed this resolution; a second operator must approve it.",
                code="four_eyes",
            )
        now = timezone.now()
        approval = Approval.objects.create(
            resolution=resolution,
            approver=actor,
            approver_name=_name(actor),
            note=note,
            request_id=current_request_id(),
            created_at=now,
        )
        _apply(exception, resolution, actor, now)
        _event(
            exception,
            ExceptionEvent.Kind.APPROVED,
            actor,
            f"Approved {resolution.public_id}. {note}",
            now,
        )
        _resolve(exception, actor, f"{resolution.action}: {resolution.note}", now)
    return approval


def _apply(exception, resolution, actor, now) -> None:
    results: list[ItemResult] = []
    if resolution.action == ResolutionAction.MATCH:
        line = exception.line
        found = items_by_ids(item_ids=resolution.items)
        outcome = matching.RETURNED if line.direction == "credit" else matching.SETTLED
        amounts = (
            (line.amount,)
            if len(resolution.items) == 1
            else tuple(found[i].amount for i in resolution.items)
        )
        decided = matching.Match(
            line_key=str(line.index),
            outcome=outcome,
            item_ids=tuple(resolution.items),
            amounts=amounts,
            reason_code=(line.return_reason or "RTN") if outcome == matching.RETURNED else "",
            was_pending=tuple(
                not MatchedItem.objects.filter(item_id=i, outcome=MatchOutcome.SETTLED).exists()
                for i in resolution.items
            )
            if outcome == matching.RETURNED
            else (),
        )
        try:
            with transaction.atomic():
                match = Match.objects.create(
                    line=line,
                    outcome=outcome,
                    reason_code=decided.reason_code,
                    source=Match.Source.RESOLUTION,
                    resolution=resolution,
                    actor_name=_name(actor),
                    request_id=current_request_id(),
                    created_at=now,
                )
                MatchedItem.objects.bulk_create(
                    [
                        MatchedItem(match=match, item_id=i, outcome=outcome, amount=a)
                        for i, a in zip(decided.item_ids, amounts, strict=True)
                    ]
                )
        except IntegrityError:
            raise Conflict("The line or one of these items has already matched.") from None
        results = _item_results(decided, line)
    elif resolution.action == ResolutionAction.WRITE_OFF and exception.item_id:
        results = [
            ItemResult(item_id=exception.item_id, outcome="failed", reason_code=WRITE_OFF_CODE)
        ]
    if results:
        _record_in_order(
            results,
            actor=actor,
            note=f"Resolution {resolution.public_id} of {exception.public_id}: {resolution.note}",
        )


__all__ = [
    "ImportResult",
    "exception_assign",
    "resolution_approve",
    "resolution_propose",
    "shift_business_days",
    "statement_import",
]
