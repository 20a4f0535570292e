"""Geometry of the lifecycle diagram (inline SVG on the detail page): every state and legal move,
with the current state and the path the payment took marked. The template only draws.
"""

from dataclasses import dataclass

from payments.transitions import LEGAL_TRANSITIONS, TERMINAL_STATES, PaymentStatus

S = PaymentStatus
BOX_WIDTH, BOX_HEIGHT = 130, 44
VIEWBOX = "0 0 850 290"

# Top-left corner of each state's box: the happy path runs left to right through the middle.
_POSITIONS: dict[str, tuple[int, int]] = {
    S.DRAFT: (10, 123),
    S.SUBMITTED: (190, 123),
    S.PROCESSING: (370, 123),
    S.REQUIRES_ACTION: (520, 18),
    S.SUCCEEDED: (710, 18),
    S.FAILED: (710, 123),
    S.CANCELED: (370, 228),
}

# (start, end, optional control point of a quadratic curve) for each legal move.
_EDGES: dict[tuple[str, str], tuple[tuple[int, int], tuple[int, int], tuple[int, int] | None]] = {
    (S.DRAFT, S.SUBMITTED): ((140, 145), (188, 145), None),
    (S.DRAFT, S.CANCELED): ((75, 167), (368, 250), (75, 250)),
    (S.SUBMITTED, S.PROCESSING): ((320, 145), (368, 145), None),
    (S.SUBMITTED, S.FAILED): ((255, 123), (708, 133), (500, 78)),
    (S.SUBMITTED, S.CANCELED): ((270, 167), (380, 226), None),
    (S.PROCESSING, S.REQUIRES_ACTION): ((465, 123), (540, 64), None),
    (S.REQUIRES_ACTION, S.PROCESSING): ((565, 62), (490, 125), None),
    (S.PROCESSING, S.SUCCEEDED): ((500, 136), (708, 54), None),
    (S.PROCESSING, S.FAILED): ((500, 150), (708, 150), None),
    (S.REQUIRES_ACTION, S.SUCCEEDED): ((650, 40), (708, 40), None),
    (S.REQUIRES_ACTION, S.FAILED): ((640, 62), (735, 121), None),
    (S.REQUIRES_ACTION, S.CANCELED): ((590, 62), (492, 228), None),
}


@dataclass(frozen=True)
class Node:
    state: str
    label: str
    x: int
    y: int
    width: int
    height: int
    current: bool
    visited: bool
    terminal: bool

    @property
    def text_x(self) -> int:
        return self.x + self.width // 2

    @property
    def text_y(self) -> int:
        return self.y + self.height // 2 + 5


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str
    taken: bool


@dataclass(frozen=True)
class Diagram:
    viewbox: str
    nodes: list[Node]
    edges: list[Edge]
    description: str


def lifecycle_diagram(*, status: str, path: list[str]) -> Diagram:
    """``path`` is the states in the order the payment went through them (from its history)."""
    taken = set(zip(path, path[1:], strict=False))
    visited = set(path) | {status}
    nodes = [
        Node(
            state=state,
            label=S(state).label,
            x=x,
            y=y,
            width=BOX_WIDTH,
            height=BOX_HEIGHT,
            current=state == status,
            visited=state in visited,
            terminal=state in TERMINAL_STATES,
        )
        for state, (x, y) in _POSITIONS.items()
    ]
    edges = []
    for (source, target), (start, end, control) in _EDGES.items():
        if control is None:
            d = f"M{start[0]},{start[1]} L{end[0]},{end[1]}"
        else:
            d = f"M{start[0]},{start[1]} Q{control[0]},{control[1]} {end[0]},{end[1]}"
        edges.append(Edge(source, target, d, (source, target) in taken))
    # Taken edges last so they are drawn on top of the others.
    edges.sort(key=lambda edge: edge.taken)
    steps = " → ".join(S(state).label for state in path) or S(status).label
    description = (
        f"Payment lifecycle. Path taken: {steps}. Current state: {S(status).label}. "
        "Legal moves: "
        + "; ".join(
            f"{S(source).label} to {', '.join(S(t).label for t in targets)}"
            for source, targets in LEGAL_TRANSITIONS.items()
            if targets
        )
        + ". Succeeded, Failed and Canceled are final."
    )
    return Diagram(VIEWBOX, nodes, edges, description)


def _check_geometry() -> None:
    missing = {
        (source, target) for source, targets in LEGAL_TRANSITIONS.items() for target in targets
    } ^ set(_EDGES)
    if missing:
        raise AssertionError(f"diagram edges differ from the transition table: {missing}")


_check_geometry()
