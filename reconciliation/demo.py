"""Demo bank statements for ``seed_demo`` and ``simulate payouts``: what the bank would report
for the payout items still in flight, written as camt.053.001.08 and MT940 files to upload.

One statement per currency, written in both formats (same account and statement id, so
importing one makes the other a duplicate). Each pays most items exactly and, so that the
exceptions queue has work, adds a few realistic differences:

- the second item arrives short by a bank fee (an amount mismatch);
- the third item is paid, then returned by the beneficiary's bank with a reason code
  (R03 on US ACH, AC04 elsewhere);
- a fee debit that names no item (an unmatched line).

Items are reached only through ``payouts.selectors.open_items_for_matching``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from payflow.currencies import parse_major_amount
from payouts.selectors import OpenItem, open_items_for_matching
from reconciliation.statements import CREDIT, DEBIT, ParsedStatement, StatementLine, writers

DEMO_STATEMENTS_DIR = Path(settings.BASE_DIR) / "artifacts" / "demo-statements"
OPENING_MAJOR_UNITS = 250_000
FEE_MAJOR_UNITS = 15
RETURN_REASON = {"USD": "R03"}  # an ACH return code for US dollars, ISO 20022 elsewhere
DEFAULT_RETURN_REASON = "AC04"
STALE_PATTERN = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[A-Z][A-Z][A-Z]"  # <day>-<currency>
ACCOUNTS = {
    "EUR": "DE89370400440532013000",
    "GBP": "GB33BUKB20201555555555",
}


@dataclass(frozen=True)
class DemoStatement:
    currency: str
    statement: ParsedStatement
    files: dict[str, bytes]  # file name -> content

    @property
    def summary(self) -> str:
        return (
            f"{self.currency}: {len(self.statement.lines)} lines "
            f"(statement {self.statement.statement_id})"
        )


def _account(currency: str) -> str:
    return ACCOUNTS.get(currency, f"PAYFLOW-DEMO-{currency}-0001")


def _statement_lines(items: list[OpenItem], currency: str) -> list[StatementLine]:
    fee = parse_major_amount(str(FEE_MAJOR_UNITS), currency)
    reason = RETURN_REASON.get(currency, DEFAULT_RETURN_REASON)
    lines: list[tuple[str, int, str, dt.date, str, str]] = []
    for position, item in enumerate(items):
        day = item.expected_settlement_date
        amount = item.amount
        note = "Payout"
        if position == 1:
            # Charged a fee on the way: the bank debited less than the item.
            amount = amount - fee if amount > fee else amount + fee
            note = "Payout, correspondent fee deducted"
        lines.append((DEBIT, amount, item.item_id, day, "", note))
        if position == 2:
            lines.append((CREDIT, item.amount, item.item_id, day, reason, "Returned payment"))
    fee_day = max(item.expected_settlement_date for item in items)
    lines.append((DEBIT, fee, "", fee_day, "", "Account maintenance fee"))
    return [
        StatementLine(
            index=index,
            direction=direction,
            amount=amount,
            currency=currency,
            booking_date=day,
            value_date=day,
            end_to_end_id=end_to_end_id,
            bank_reference=f"BNK{index:05d}",
            details=details,
            return_reason=return_reason,
        )
        for index, (direction, amount, end_to_end_id, day, return_reason, details) in enumerate(
            lines, start=1
        )
    ]


def demo_statements(
    *, batch_ids: set[str] | None = None, now: dt.datetime | None = None
) -> list[DemoStatement]:
    """The statements the bank would send for the pending items of submitted batches (only
    those of ``batch_ids`` when given), one per currency."""
    now = now or timezone.now()
    by_currency: dict[str, list[OpenItem]] = defaultdict(list)
    for item in open_items_for_matching():
        if item.status == "pending" and (batch_ids is None or item.batch_id in batch_ids):
            by_currency[item.currency].append(item)
    made = []
    for currency, items in sorted(by_currency.items()):
        items.sort(key=lambda i: (i.batch_id, i.item_id))
        lines = _statement_lines(items, currency)
        opening = parse_major_amount(str(OPENING_MAJOR_UNITS), currency)
        closing = opening + sum(line.signed_amount for line in lines)
        day = max(now.date(), *(line.value_date for line in lines))
        # Seconds in the reference, so a statement written later is not a duplicate on import.
        reference = f"D{now:%y%m%d%H%M%S}{currency}"
        statement = ParsedStatement(
            format="",
            account=_account(currency),
            currency=currency,
            statement_id=f"{reference}/00001",
            opening_balance=opening,
            closing_balance=closing,
            opening_date=day,
            closing_date=day,
            lines=lines,
        )
        stem = f"{day.isoformat()}-{currency}"
        made.append(
            DemoStatement(
                currency,
                statement,
                {
                    f"{stem}.camt053.xml": writers.camt053(statement, created_at=now),
                    f"{stem}.mt940": writers.mt940(statement),
                },
            )
        )
    return made


def write_demo_statements(
    *, directory: Path | None = None, batch_ids: set[str] | None = None
) -> list[Path]:
    """Write the demo statements; returns the paths written (none when nothing is in flight)."""
    directory = Path(directory or DEMO_STATEMENTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    # Statements of an earlier run would report items since settled: only the latest are kept.
    for stale in (
        *directory.glob(STALE_PATTERN + ".camt053.xml"),
        *directory.glob(STALE_PATTERN + ".mt940"),
    ):
        stale.unlink()
    paths = []
    for made in demo_statements(batch_ids=batch_ids):
        for name, content in made.files.items():
            path = directory / name
            path.write_bytes(content)
            paths.append(path)
    return paths


def seed_demo_data(*, users, rng, stdout) -> None:
    paths = write_demo_statements()
    if not paths:
        stdout.write("Reconciliation: no payout items in flight, no demo statements written.")
        return
    stdout.write(
        f"Reconciliation: demo bank statements in {paths[0].parent} "
        "(upload one at /reconciliation, or POST it to /api/v1/bank-statements):"
    )
    for path in paths:
        stdout.write(f"  {path.name}")
