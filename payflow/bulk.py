"""Set-based writes for the services that write thousands of rows in one call: a bank statement
of 100,000 lines is 100,000 lines, matches, item results and history entries.

On PostgreSQL both writes go through COPY, the fastest way in: rows stream in PostgreSQL's copy
format, with no SQL text to build or parse per row (a 1,000-row ``INSERT ... VALUES`` costs
psycopg more CPU to prepare than the database takes to run it). ``insert_rows`` takes the new
ids from the table's own sequence first when the caller needs them; ``update_rows`` copies into
a temporary table and updates from it in one statement. Elsewhere (SQLite, the embedded
default) multi-row ``INSERT ... RETURNING`` and Django's ``bulk_update``.

Rows are dicts keyed by field attname (``batch_id``, not ``batch``) holding plain values: str,
int, bool, date, aware datetime, None, or Python data for a JSON field. A field a row leaves out
takes the model's default. Text is checked as every save is (payflow.text_guard), for inserts
and updates alike: no NUL byte and no lone surrogate.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction

from payflow.text_guard import refuse_bad_values

CHUNK = 1000
STREAM_CHUNK = 5000

# Values of these fields go to psycopg as they are; the rest through the field's own preparation.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateField,
    models.ForeignKey,
)


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _preparer(field: models.Field):
    if _postgresql() and isinstance(field, _PLAIN_FIELDS):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _columns(model: type[models.Model], rows: Sequence[dict]):
    """The fields an insert writes (all concrete ones but the automatic id), in table order."""
    given = rows[0].keys()
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.attname not in given)
    ]
    unknown = set(given) - {field.attname for field in fields}
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    return fields


def _dict_value(row: dict, field: models.Field):
    return row[field.attname] if field.attname in row else field.get_default()


def _instance_value(row: models.Model, field: models.Field):
    return getattr(row, field.attname)


def _table_values(fields, rows: Iterable, value_of=_dict_value) -> list[tuple]:
    """Each row's values for ``fields``, prepared for the database."""
    preparers = [_preparer(field) for field in fields]
    values = []
    for row in rows:
        record = []
        for field, prepare in zip(fields, preparers, strict=True):
            value = value_of(row, field)
            record.append(value if prepare is None else prepare(value))
        values.append(tuple(record))
    return values


def insert_rows(
    model: type[models.Model], rows: Iterable[dict], *, returning_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (all or none); with ``returning_ids``, their new primary keys in row
    order. ``rows`` may be a generator: it is read and written ``STREAM_CHUNK`` rows at a time,
    so the values of a large write are never all held at once."""
    ids: list[int] = []
    fields = None
    with transaction.atomic(), connection.cursor() as cursor:
        for chunk in itertools.batched(rows, STREAM_CHUNK):
            if fields is None:
                fields = _columns(model, chunk)
            refuse_bad_values(model, fields, chunk)
            values = _table_values(fields, chunk)
            ids.extend(_write_chunk(cursor, model, fields, values, returning_ids=returning_ids))
    return ids


def _write_chunk(cursor, model, fields, values: list[tuple], *, returning_ids: bool) -> list[int]:
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk
    if not _postgresql():
        ids = _insert_returning(cursor, table, fields, values, pk)
        return ids if returning_ids else []
    ids: list[int] = []
    if returning_ids:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(values)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        fields = [pk, *fields]
        values = [(new_id, *record) for new_id, record in zip(ids, values, strict=True)]
    _copy(cursor, table, [field.column for field in fields], values)
    return ids


def _insert_returning(cursor, table, fields, values, pk) -> list[int]:
    quote = connection.ops.quote_name
    holder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    ids: list[int] = []
    for start in range(0, len(values), CHUNK // 2):
        chunk = values[start : start + CHUNK // 2]
        sql = head + ", ".join([holder] * len(chunk)) + f" RETURNING {quote(pk.column)}"
        cursor.execute(sql, [value for record in chunk for value in record])
        ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _copy(cursor, table: str, columns: Sequence[str], values: Iterable[tuple]) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {table} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for record in values:
            copy.write_row(record)


def update_rows(model: type[models.Model], rows: Sequence[models.Model], fields: list[str]) -> None:
    """Write ``fields`` of every row (by primary key), as ``bulk_update`` would, after the text
    check every save runs (updates skip pre_save)."""
    if not rows:
        return
    pk = model._meta.pk
    concrete = [pk] + [model._meta.get_field(name) for name in fields]
    refuse_bad_values(model, concrete, rows, getattr)
    if not _postgresql():
        model.objects.bulk_update(rows, fields, batch_size=CHUNK)
        return
    quote = connection.ops.quote_name
    columns = [field.column for field in concrete]
    # One temporary table per (table, columns), dropped at commit.
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:8]
    temp = quote(f"pf_update_{model._meta.db_table}_{digest}"[:63])
    definition = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in concrete)
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns[1:])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} ({definition}) ON COMMIT DROP")
        cursor.execute(f"TRUNCATE {temp}")
        _copy(cursor, temp, columns, _table_values(concrete, rows, _instance_value))
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} FROM {temp} AS v "
            f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
        )
