"""GET /api/v1/search?q=: payments, payout batches and items, transactions; best first."""

from ninja import Field, Query, Router, Schema

from payflow.accounts.roles import Action
from payflow.api import NON_BLANK_TEXT, needs
from payflow.exceptions import InvalidInput
from search.engine import MAX_QUERY_LENGTH, search_everything

router = Router(tags=["search"])


class SearchQuery(Schema):
    # Stated here; the view's checks below give the messages people read.
    q: str = Field(
        description="What to look for.",
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_QUERY_LENGTH,
            "pattern": NON_BLANK_TEXT,
        },
    )


@router.get(
    "/search",
    summary="Search by id or id prefix, name, amount as typed, account last 4, bank reference",
    auth=needs(Action.VIEW),
)
def search(request, query: Query[SearchQuery]):
    q = query.q
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput.for_fields({"q": [f"At most {MAX_QUERY_LENGTH} characters."]})
    if not q.strip():
        raise InvalidInput.for_fields({"q": ["Type something to search for."]})
    return search_everything(q).as_json()
