"""What both readers give: one task of one model's log, item by item, in a form the pairing reads.

A reader (``_lm_eval``, ``_inspect``) turns a tool's per-sample log into a :class:`TaskLog`
per task: the items keyed by the tool's own id (lm-eval's ``doc_id``, inspect's sample id),
each with the text a reader of the report checks by eye, the per-item value of every metric,
and a fingerprint of what both models must have been given for the pairing to hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Source = Literal["lm-eval", "inspect"]

MAX_INPUT_CHARS = 2000
"""Longer prompts are kept by their end (a few-shot prompt's question is at its end)."""


def clip(text: str | None, limit: int = MAX_INPUT_CHARS) -> str | None:
    """``text`` cut to its last ``limit`` characters, marked with a leading ellipsis."""
    if text is None or len(text) <= limit:
        return text
    return "\u2026" + text[-(limit - 1) :]


@dataclass
class MetricSpec:
    """One metric of a task as the log records it.

    ``kind`` is ``per_item`` (a value per item, averaged: a paired test on the items) or
    ``corpus`` (a record per item that an aggregation pools, e.g. lm-eval's (reference,
    prediction) pairs for BLEU: the paired bootstrap of the aggregate). ``reported`` is the
    value the tool itself reported for the whole run, when the log holds it."""

    name: str
    label: str
    kind: Literal["per_item", "corpus"]
    aggregation: str = "mean"
    higher_is_better: bool | None = None
    group: str | None = None
    reported: float | None = None
    from_strings: bool = False


@dataclass
class LogItem:
    """One item as one model saw and answered it."""

    key: str
    order: float
    input: str
    expected: str | None
    output: str | None
    values: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskLog:
    """One task of one model's log."""

    task: str
    source: Source
    model: str
    path: Path
    items: dict[str, LogItem]
    metrics: list[MetricSpec]
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> MetricSpec | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class SideLogs:
    """Every task read from one side's path (a file or a folder)."""

    source: Source
    path: Path
    tasks: dict[str, TaskLog]
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        names = sorted({t.model for t in self.tasks.values()})
        return names[0] if names else self.path.name
