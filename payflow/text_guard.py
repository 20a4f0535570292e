"""Model-level backstop for text: no record of PayFlow's apps is saved with a NUL byte or a
lone surrogate in a text field, whichever path wrote it (a page, the API, a command, a
service called from a shell). PostgreSQL refuses NUL in text outright; SQLite would keep it.
The request edge refuses such input first (payflow.middleware); this catches the rest."""

from django.db import models
from django.db.models.signals import pre_save

from payflow.exceptions import InvalidInput
from payflow.middleware import bad_character_problem

GUARDED_APPS = {"payments", "payouts", "transactions", "chaos", "accounts"}


def refuse_bad_text(sender, instance, raw=False, **kwargs):
    if raw or sender._meta.app_label not in GUARDED_APPS:
        return
    problems = {}
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(instance, field.attname, None)
            if isinstance(value, str):
                problem = bad_character_problem(value)
                if problem:
                    problems[field.name] = [problem]
    if problems:
        raise InvalidInput.for_fields(problems)


def _row_value(row: dict, attname: str):
    return row.get(attname)


def refuse_bad_values(model, fields, rows, value_of=_row_value) -> None:
    """The same check for rows written set-based (``payflow.bulk``), one pass per column;
    ``value_of(row, attname)`` reads a row (a dict by default, ``getattr`` for instances)."""
    if model._meta.app_label not in GUARDED_APPS:
        return
    problems = {}
    for field in fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        values = (value_of(row, field.attname) for row in rows)
        texts = [value for value in values if isinstance(value, str)]
        problem = bad_character_problem("".join(texts))
        if problem:
            problems[field.name] = [problem]
    if problems:
        raise InvalidInput.for_fields(problems)


def connect() -> None:
    pre_save.connect(refuse_bad_text, dispatch_uid="payflow-refuse-bad-text")
