"""Writes for saved views."""

from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction

from payflow.exceptions import Forbidden, InvalidInput, NotFound
from search.models import PAGES, SavedView

# Page-position parameters are not part of a view: a view is what to show, not where you were.
_DROPPED = {"cursor", "partial", "since", "go", "csrfmiddlewaretoken"}


def clean_query(query: str) -> str:
    pairs = [
        (k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k not in _DROPPED
    ]
    return urlencode(pairs)


def saved_view_create(*, owner, name: str, page: str, query: str) -> SavedView:
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = ["Give the view a name."]
    elif len(name) > 80:
        errors["name"] = ["At most 80 characters."]
    if page not in PAGES:
        errors["page"] = [f"One of {', '.join(PAGES)}."]
    cleaned = clean_query(query)
    if len(cleaned) > 1000:
        errors["query"] = ["Too many filters to save (at most 1000 characters)."]
    if errors:
        raise InvalidInput.for_fields(errors)
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=owner, name=name, page=page, query=cleaned)
    except IntegrityError:
        raise InvalidInput.for_fields(
            {"name": [f"You already have a {page} view named {name!r}."]}
        ) from None


def saved_view_delete(*, owner, view_id: int) -> None:
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None:
        raise NotFound(f"No saved view {view_id}.")
    if view.owner_id != owner.pk:
        raise Forbidden("Only the person who saved a view can delete it.")
    view.delete()
