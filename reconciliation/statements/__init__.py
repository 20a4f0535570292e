"""Bank statement parsers: one module per format, each returning a ``ParsedStatement``.

``parse_statement(data, format=None)`` detects the format when it is not named and refuses a
file whole (``StatementInvalid``, 422) naming the line or element that is wrong.
"""

from __future__ import annotations

from reconciliation.statements import bai2, camt053, csv, mt940
from reconciliation.statements.base import (
    CREDIT,
    DEBIT,
    FORMATS,
    ParsedStatement,
    StatementInvalid,
    StatementLine,
)

PARSERS = {"camt053": camt053, "mt940": mt940, "bai2": bai2, "csv": csv}
MAX_BYTES = 100 * 1024 * 1024

__all__ = [
    "CREDIT",
    "DEBIT",
    "FORMATS",
    "ParsedStatement",
    "StatementInvalid",
    "StatementLine",
    "detect_format",
    "parse_statement",
]


def detect_format(data: bytes) -> str:
    for name in ("camt053", "bai2", "mt940", "csv"):
        if PARSERS[name].looks_like(data):
            return name
    raise StatementInvalid(
        "the format could not be detected; send camt.053, MT940, BAI2 or PayFlow CSV, "
        "or name it with the field 'format'.",
        location="",
        field_name="format",
    )


def parse_statement(data: bytes, format: str | None = None) -> ParsedStatement:
    if not data or not data.strip():
        raise StatementInvalid("the file is empty.")
    if len(data) > MAX_BYTES:
        raise StatementInvalid(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB.")
    nul = data.find(b"\x00")
    if nul >= 0:  # no statement format has one, and PostgreSQL keeps no NUL in text
        line = data.count(b"\n", 0, nul) + 1
        raise StatementInvalid("contains a NUL byte (\\u0000).", location=f"line {line}")
    name = (format or "").strip().lower().replace(".", "").replace("-", "") or detect_format(data)
    if name not in PARSERS:
        raise StatementInvalid(
            f"format {format!r} is not one of {', '.join(FORMATS)}.", field_name="format"
        )
    return PARSERS[name].parse(data)
