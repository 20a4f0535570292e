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
