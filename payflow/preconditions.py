"""Entity tags and If-Match: a client writes only over the version it last read.

A GET of a payment or a payout batch carries ``ETag``; a write that sends ``If-Match`` with
that tag is refused with 412 ``precondition_failed`` if the resource changed since. The check
runs in the writing service while it holds the resource's row lock, so no other write can slip
in between the comparison and the change. Comparison is strong (RFC 9110 13.1.1): a weak tag
(``W/"..."``) never matches, and ``*`` matches any current version.
"""

import re
from dataclasses import dataclass

from payflow.exceptions import InvalidInput, PreconditionFailed

MAX_IF_MATCH_LENGTH = 1024
# "*", or a comma-separated list of entity tags, each optionally weak: the header's grammar
# (RFC 9110 8.8.3), with the tag characters printable ASCII other than '"' and ','.
ETAG_CHARS = r"[\x21\x23-\x2b\x2d-\x7e]*"
IF_MATCH_PATTERN = rf'^(\*|(W/)?"{ETAG_CHARS}"( *, *(W/)?"{ETAG_CHARS}")*)$'


def entity_tag(*parts: object) -> str:
    """A strong entity tag from the parts that change whenever the representation does."""
    return '"' + ".".join(str(part) for part in parts) + '"'


@dataclass(frozen=True)
class IfMatch:
    tags: frozenset[str]
    any_version: bool = False

    def matches(self, current: str) -> bool:
        return self.any_version or current in self.tags

    def require(self, current: str, *, what: str) -> None:
        if not self.matches(current):
            raise PreconditionFailed(
                f"The {what} changed since you read it (its ETag is now {current}); "
                "read it again and decide again.",
                fields={"If-Match": [f"Does not match the current ETag {current}."]},
                headers={"ETag": current},
                current_etag=current,
            )


def parse_if_match(value: str | None) -> IfMatch | None:
    """The header's entity tags, or None when it was not sent; malformed is a 422."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_IF_MATCH_LENGTH or not re.fullmatch(IF_MATCH_PATTERN, text):
        raise InvalidInput.for_fields({"If-Match": ['Send the ETag you read, such as "12", or *.']})
    if text == "*":
        return IfMatch(tags=frozenset(), any_version=True)
    # The pattern keeps commas out of tags. Weak tags are dropped: If-Match compares strongly,
    # so they can never match.
    tags = (tag.strip() for tag in text.split(","))
    return IfMatch(tags=frozenset(tag for tag in tags if not tag.startswith("W/")))
