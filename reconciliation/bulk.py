"""Multi-row INSERT ... RETURNING id for the import's large tables.

``bulk_create`` builds a model instance and prepares every field of every row in Python; for a
100,000-line statement that was a third of the import's CPU. Here rows are plain tuples in
``columns`` order (values the database driver takes as they are: str, int, date, datetime,
bool, None; JSON columns are given as text). Works on PostgreSQL and SQLite (3.35+).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

CHUNK = 500


def insert_returning_ids(
    table: str, columns: Sequence[str], rows: Sequence[tuple], *, json_columns: Sequence[str] = ()
) -> list[int]:
    if not rows:
        return []
    quote = connection.ops.quote_name
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    holder = (
        "(" + ", ".join(f"%s{cast}" if column in json_columns else "%s" for column in columns) + ")"
    )
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            sql = head + ", ".join([holder] * len(chunk)) + f" RETURNING {quote('id')}"
            cursor.execute(sql, [value for row in chunk for value in row])
            ids.extend(row[0] for row in cursor.fetchall())
    return ids
