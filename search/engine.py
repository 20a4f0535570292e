"""One search across the apps: each app's ``<app>/search.py`` answers for its own objects
(the same discovery as the API routers), and results come back best first, grouped by kind.

On PostgreSQL every query is served by an index (trigram GIN indexes for names, references,
ids and account endings; btree for amounts: search/migrations/0001). SQLite runs the same
queries without those indexes: correct, slower.
"""

import importlib
from dataclasses import dataclass

from payflow.search import MAX_QUERY_LENGTH, PER_KIND_LIMIT, Hit, parse_query

SEARCH_APPS = ["payments", "payouts", "transactions"]
KIND_ORDER = ["payment", "payout_batch", "payout_item", "transaction"]
KIND_LABELS = {
    "payment": "Payments",
    "payout_batch": "Payout batches",
    "payout_item": "Payout items",
    "transaction": "Transactions",
}


@dataclass(frozen=True)
class SearchResults:
    q: str
    groups: list[tuple[str, str, list[Hit]]]  # (kind, label, hits)

    @property
    def best(self) -> Hit | None:
        hits = [hit for _, _, group in self.groups for hit in group]
        return max(hits, key=lambda hit: hit.score) if hits else None

    @property
    def count(self) -> int:
        return sum(len(group) for _, _, group in self.groups)

    def as_json(self) -> dict:
        best = self.best
        return {
            "q": self.q,
            "best": best.as_json() if best else None,
            "groups": [
                {"kind": kind, "label": label, "items": [hit.as_json() for hit in hits]}
                for kind, label, hits in self.groups
            ],
        }


def _providers():
    for app in SEARCH_APPS:
        try:
            yield importlib.import_module(f"{app}.search")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.search":
                raise


def search_everything(raw: str, *, per_kind: int = PER_KIND_LIMIT) -> SearchResults:
    query = parse_query(raw)
    if not query.text:
        return SearchResults(q="", groups=[])
    best: dict[tuple[str, str], Hit] = {}
    for provider in _providers():
        for hit in provider.search(query, limit=per_kind):
            key = (hit.kind, hit.id)
            if key not in best or hit.score > best[key].score:
                best[key] = hit
    groups = []
    for kind in KIND_ORDER:
        hits = sorted(
            (hit for (k, _), hit in best.items() if k == kind), key=lambda h: (-h.score, h.id)
        )[:per_kind]
        if hits:
            groups.append((kind, KIND_LABELS[kind], hits))
    return SearchResults(q=query.text, groups=groups)


__all__ = ["MAX_QUERY_LENGTH", "SearchResults", "search_everything"]
