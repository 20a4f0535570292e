"""Keyset (cursor) pagination shared by every list API: newest first on (time, id).

A cursor is opaque to clients: the (time, id) of the last row of the previous page. Keyset
pages cost one indexed query wherever they are, unlike OFFSET.
"""

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q, QuerySet


def encode_cursor(moment: datetime, pk: int) -> str:
    raw = json.dumps([moment.isoformat(), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (time, id) a cursor points after; ValueError for anything this API did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValueError(
            "cursor: not a cursor from a previous page; start again without it."
        ) from None
    return moment, pk


def after_cursor(queryset: QuerySet, cursor: str, *, time_field: str) -> QuerySet:
    """Rows strictly after the cursor in (time_field DESC, id DESC) order."""
    moment, pk = decode_cursor(cursor)
    return queryset.filter(
        Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "id__lt": pk})
    )


def newest_first_page(queryset: QuerySet, *, time_field: str, cursor: str | None, limit: int):
    """One page in (time_field DESC, id DESC) order after ``cursor``: (rows, next_cursor or
    None). ValueError for a cursor this API did not issue."""
    rows = queryset.order_by(f"-{time_field}", "-id")
    if cursor:
        rows = after_cursor(rows, cursor, time_field=time_field)
    items = list(rows[: limit + 1])
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_cursor(getattr(items[-1], time_field), items[-1].pk)


# --- Sorted keyset pages: any column, then id, in one direction -------------------------------
#
# ``?sort=amount`` / ``?sort=-created_at``: the list orders by (column, id), both ascending or
# both descending, and a cursor carries the sort it belongs to plus the last row's (value, id).
# A cursor from another sort is refused rather than silently skipping rows. Ties on the column
# are broken by id, so every row appears exactly once however many share a value.


class SortSpec:
    def __init__(self, name: str, field: str, descending: bool):
        self.name, self.field, self.descending = name, field, descending

    @property
    def param(self) -> str:
        return ("-" if self.descending else "") + self.name

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.field}", f"{sign}id"]

    def __repr__(self) -> str:
        return f"SortSpec({self.param})"


def parse_sort(value: str | None, *, allowed: dict[str, str], default: str) -> SortSpec:
    """``value`` like "amount" or "-created_at" -> a SortSpec; ValueError naming the choices."""
    text = (value or "").strip() or default
    descending = text.startswith("-")
    name = text.lstrip("-")
    if name not in allowed:
        choices = ", ".join(f"{n}, -{n}" for n in allowed)
        raise ValueError(f"sort: unknown sort {text!r}; use one of {choices}.")
    return SortSpec(name, allowed[name], descending)


def _encode_value(value) -> list:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, bool) or value is None:
        raise TypeError("cannot page on an empty or boolean column")
    if isinstance(value, int):
        return ["i", value]
    return ["s", str(value)]


def _decode_value(tagged):
    kind, raw = tagged
    if kind == "t":
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError
        return moment
    if kind == "i" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "s" and isinstance(raw, str):
        return raw
    raise ValueError


def encode_sort_cursor(sort: SortSpec, value, pk: int) -> str:
    raw = json.dumps([sort.param, _encode_value(value), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_sort_cursor(cursor: str, sort: SortSpec):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        param, tagged, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value = _decode_value(tagged)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValueError(
            "cursor: not a cursor from a previous page; start again without it."
        ) from None
    if param != sort.param:
        raise ValueError(
            f"cursor: this cursor belongs to sort={param}, not sort={sort.param}; "
            "start again without it."
        )
    return value, pk


def sorted_page(queryset: QuerySet, *, sort: SortSpec, cursor: str | None, limit: int):
    """One page of ``queryset`` in ``sort`` order after ``cursor``: (rows, next_cursor or None)."""
    rows = queryset.order_by(*sort.order_by())
    if cursor:
        value, pk = decode_sort_cursor(cursor, sort)
        op = "lt" if sort.descending else "gt"
        rows = rows.filter(
            Q(**{f"{sort.field}__{op}": value}) | Q(**{sort.field: value, f"id__{op}": pk})
        )
    items = list(rows[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_sort_cursor(sort, getattr(last, sort.field), last.pk)
    return items, next_cursor
