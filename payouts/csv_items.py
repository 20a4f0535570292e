"""Reading a CSV of payout items (the upload page): a preview with per-row errors, pure.

Columns (a header row is required; names are case-insensitive, order is free):

| column | required | meaning |
|---|---|---|
| recipient_name | yes | who is paid (up to 120 characters) |
| account | yes | the recipient's account (IBAN, account number; up to 64 characters) |
| amount | yes | in major units of the batch currency: 12.50 USD, 7756 JPY, 1.250 KWD |
| reference | no | the payer's reference sent with the item (up to 140 characters) |

Nothing is created from a file with any bad row: every row's errors are shown first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from payflow.currencies import UnknownCurrency, parse_major_amount

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
REQUIRED = ("recipient_name", "account", "amount")
OPTIONAL = ("reference",)
LIMITS = {"recipient_name": 120, "account": 64, "reference": 140}


@dataclass
class CsvRow:
    line: int
    recipient_name: str
    account: str
    amount_text: str
    reference: str
    amount: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class CsvPreview:
    rows: list[CsvRow]
    errors: list[str]  # errors about the whole file

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not any(row.errors for row in self.rows)

    @property
    def bad_rows(self) -> list[CsvRow]:
        return [row for row in self.rows if row.errors]

    @property
    def total(self) -> int:
        return sum(row.amount or 0 for row in self.rows)


def decode(data: bytes) -> str:
    """The file's text (UTF-8, with or without a byte-order mark); ValueError otherwise."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"The file is not UTF-8 text (byte {exc.start}).") from None
    if "\x00" in text:
        raise ValueError("The file contains NUL bytes; upload a CSV text file.")
    return text


def parse_items_csv(text: str, currency: str) -> CsvPreview:
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
    except csv.Error as exc:
        return CsvPreview([], [f"Line 1: {exc}."])
    if header is None or not any(cell.strip() for cell in header):
        return CsvPreview([], ["The file is empty: give a header row and one row per item."])
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return CsvPreview(
            [],
            [
                f"Line 1: the header lacks {', '.join(missing)}; the columns are "
                f"{', '.join(REQUIRED + OPTIONAL)}."
            ],
        )
    unknown = [name for name in names if name and name not in REQUIRED + OPTIONAL]
    if unknown:
        return CsvPreview([], [f"Line 1: unknown column(s) {', '.join(unknown)}."])
    position = {name: names.index(name) for name in REQUIRED + OPTIONAL if name in names}
    rows: list[CsvRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                return CsvPreview(rows, [f"More than {MAX_ROWS} items; split the file."])
            values = {
                name: cells[index].strip() if index < len(cells) else ""
                for name, index in position.items()
            }
            value = lambda name, values=values: values.get(name, "")  # noqa: E731
            row = CsvRow(
                line, value("recipient_name"), value("account"), value("amount"), value("reference")
            )
            for name in ("recipient_name", "account"):
                if not getattr(row, name):
                    row.errors[name] = "Required."
            for name, limit in LIMITS.items():
                if len(getattr(row, name)) > limit:
                    row.errors[name] = f"At most {limit} characters."
            if len(cells) > len(names):
                row.errors["row"] = f"{len(cells)} cells but the header has {len(names)}."
            try:
                row.amount = parse_major_amount(row.amount_text, currency)
                if row.amount <= 0:
                    row.errors["amount"] = "Must be more than zero."
                    row.amount = None
            except (ValueError, UnknownCurrency) as exc:
                row.errors["amount"] = str(exc) if row.amount_text else "Required."
            rows.append(row)
    except csv.Error as exc:
        return CsvPreview(rows, [f"Line {reader.line_num}: {exc}."])
    if not rows:
        return CsvPreview([], ["The file has a header but no items."])
    return CsvPreview(rows, [])
