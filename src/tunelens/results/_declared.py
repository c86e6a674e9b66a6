"""What a probe declares it emits: one :class:`MetricDecl` per metric or family of metrics.

A probe lists its declarations where it registers (``@probe(..., metrics=[...])``), as
inspect_ai's scorers name their metrics; the audit fills each emitted metric's label, unit,
direction, margin and headline flag from the declaration it matches, and every reader
(the report, ``compare``, the demo's story) reads declarations instead of repeating names.

Margins of practical equivalence default by unit (``DEFAULT_MARGINS``): a change smaller
than the margin is one a user would not act on, so a paired 90% interval inside
(-margin, +margin) shows the metric *equivalent* (two one-sided tests at 5%, Schuirmann
1987). A declaration may set its own margin; an audit may override any (``margins=``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_MARGINS: dict[str, float] = {
    "rate": 0.05,  # five percentage points of a share or an accuracy
    "accuracy": 0.05,
    "rate difference": 0.05,  # a difference of two rates, in [-1, 1] (shown in percentage points)
    "nats/token": 0.03,  # a few hundredths of a nat per token
    "nats": 0.1,
    "log10": 0.25,  # a factor of about 1.8 in a probability
    "score": 0.05,  # a score in [0, 1] (an area over a curve, a retrieval score)
    "distinct": 0.03,  # distinct-n, self-BLEU, cosine distance
    "bits": 0.15,  # an entropy
    "layer": 1.0,
    "tokens": 10.0,
    "words": 10.0,  # a reply ten words longer or shorter on average
    "ratio": 0.1,
}
"""The margin of practical equivalence of a unit, when a declaration sets none."""

PERCENT_UNITS = frozenset({"accuracy", "rate", "rate difference"})
"""Units whose values are fractions, shown as percentages (changes in percentage points)."""

BOUNDED_UNITS: dict[str, tuple[float, float]] = {
    "rate": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "score": (0.0, 1.0),
    "distinct": (0.0, 1.0),
}
"""Units whose values cannot leave a range: a base value near an end has no room to move there."""


@dataclass(frozen=True)
class MetricDecl:
    """One metric a probe emits, or a family of them (``name`` a glob pattern such as
    ``pattern_*`` whose members are found at run time).

    ``headline`` metrics (one to three per probe) form the confirmatory family of an audit;
    the rest are exploratory. ``items`` says how many paired items the metric gets under a
    config (the probe's pool at a budget), for the budget tables and the reachability check;
    None where the count is found only at run time. ``descriptive`` metrics describe the
    pair without a test (a distance between the two models) and take no verdict."""

    name: str
    label: str
    unit: str = "rate"
    higher_is_better: bool | None = True
    margin: float | None = None
    headline: bool = False
    descriptive: bool = False
    items: Callable[[Any], int] | None = None

    @property
    def is_family(self) -> bool:
        return any(c in self.name for c in "*?[")

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.name) if self.is_family else name == self.name

    @property
    def equivalence_margin(self) -> float:
        if self.margin is not None:
            return self.margin
        return DEFAULT_MARGINS.get(self.unit, 0.05)

    @property
    def bounds(self) -> tuple[float, float] | None:
        return BOUNDED_UNITS.get(self.unit)


def find_declaration(declared: Sequence[MetricDecl], name: str) -> MetricDecl | None:
    """The declaration ``name`` matches: an exact name first, then the first matching family."""
    for decl in declared:
        if not decl.is_family and decl.matches(name):
            return decl
    for decl in declared:
        if decl.is_family and decl.matches(name):
            return decl
    return None
