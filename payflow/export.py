"""CSV exports streamed from the server: every filtered row, memory flat however many.

Rows come from ``QuerySet.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL) and are
written one at a time into a ``StreamingHttpResponse``; nothing holds the whole result. Money is
a decimal string beside its currency code ("1234.50", "USD"), times are ISO 8601 in UTC, and any
cell a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is
prefixed with an apostrophe so it is shown as text (OWASP's CSV-injection rule); a plain
number such as "-12.50" cannot be a formula and stays a number.
"""

import csv
import re
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

CHUNK_ROWS = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def safe_cell(value) -> str:
    """A value as CSV text a spreadsheet will not evaluate."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # BOM: spreadsheets then read UTF-8 correctly
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(
    *, filename: str, header: list[str], rows: Iterable[list], total: int
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Total-Count"] = str(total)
    response["Cache-Control"] = "no-store"
    return response
