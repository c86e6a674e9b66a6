"""The probe registry: one decorated function per probe, every list derived from here.

A probe is a function ``run(ctx, config) -> ProbeResult`` decorated with ``@probe``; the
decorator records its name, title, config type, its config at each item budget (quick,
standard, thorough) and the metrics it emits (``metrics=[MetricDecl(...), ...]``). The
CLI's ``--probes`` choices, the audit's default battery, the report's sections, compare's
columns and the demo's story all come from ``PROBES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.data import TaskSpec
from tunelens.engine import Engine
from tunelens.errors import UsageError
from tunelens.results import MetricDecl, ProbeResult, find_declaration

BUDGETS = ("quick", "standard", "thorough")
"""Item budgets: ``quick`` a smoke test (a handful of items, few verdicts reachable),
``standard`` at least 60 paired items per headline metric (the default on a CPU),
``thorough`` at least 200 (the default on a GPU)."""


def default_budget() -> str:
    """``thorough`` where a GPU is available, ``standard`` on a CPU."""
    import torch

    return "thorough" if torch.cuda.is_available() else "standard"


@dataclass
class ProbeContext:
    """What every probe receives: both engines and the audit's shared inputs."""

    base: Engine
    tuned: Engine
    seed: int = 0
    task: TaskSpec | None = None  # the fine-tune's own task (patterns, held-out prompts, facts)
    suite: Path | None = None  # a user's own regression suite (JSONL)
    progress: Callable[[str], None] = field(default=lambda message: None)
    # Benchmarks on random weights only: skip the filters that keep items a model knows, so every item runs.
    assume_known: bool = False

    def engines(self) -> tuple[tuple[str, Engine], tuple[str, Engine]]:
        return ("base", self.base), ("tuned", self.tuned)


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    title: str
    description: str
    config_type: type
    budgets: dict[str, Any]  # the config at each budget of BUDGETS
    run: Callable[[ProbeContext, Any], ProbeResult]
    metrics: tuple[MetricDecl, ...] = ()
    needs_task: bool = False
    needs_weights: str = ""  # what the probe reads besides outputs ("weights", "attention"); channels have none

    @property
    def quick(self) -> Any:
        return self.budgets["quick"]

    def config_for(self, budget: str) -> Any:
        if budget not in self.budgets:
            raise UsageError(f"unknown budget '{budget}'; choose one of {', '.join(BUDGETS)}")
        return self.budgets[budget]

    @property
    def headline(self) -> list[MetricDecl]:
        """The tested headline metrics (the confirmatory family's members from this probe)."""
        return [d for d in self.metrics if d.headline and not d.descriptive]

    def declaration(self, metric: str) -> MetricDecl | None:
        return find_declaration(self.metrics, metric)

    def items_at_budgets(self, decl: MetricDecl) -> dict[str, int]:
        """The paired items ``decl`` gets at each budget, in BUDGETS order ({} without a count)."""
        if decl.items is None:
            return {}
        return {b: int(decl.items(self.config_for(b))) for b in BUDGETS}


PROBES: dict[str, ProbeSpec] = {}


def probe(
    name: str,
    *,
    title: str,
    config: type,
    quick: Any,
    standard: Any = None,
    thorough: Any = None,
    metrics: Sequence[MetricDecl] = (),
    needs_task: bool = False,
    needs_weights: str = "",
) -> Callable[[Callable[[ProbeContext, Any], ProbeResult]], Callable[[ProbeContext, Any], ProbeResult]]:
    """Register a probe function under ``name``; its docstring becomes the description.

    ``quick``, ``standard`` (default: the config's defaults) and ``thorough`` (default:
    standard) are its configs at each budget. ``metrics`` declares every metric it emits,
    one to three of them headline. ``needs_weights`` names what the probe reads of the model
    itself (its weights, its attention); the audit skips such a probe on a channel (proxy,
    retrieval), which has none of its own."""

    def register(fn: Callable[[ProbeContext, Any], ProbeResult]) -> Callable[[ProbeContext, Any], ProbeResult]:
        if name in PROBES:
            raise ValueError(f"probe '{name}' registered twice")
        description = " ".join((fn.__doc__ or "").split())
        standard_config = standard if standard is not None else config()
        budgets = {
            "quick": quick,
            "standard": standard_config,
            "thorough": thorough if thorough is not None else standard_config,
        }
        PROBES[name] = ProbeSpec(
            name, title, description, config, budgets, fn, tuple(metrics), needs_task, needs_weights
        )
        return fn

    return register


def get_probe(name: str) -> ProbeSpec:
    try:
        return PROBES[name]
    except KeyError:
        raise UsageError(f"unknown probe '{name}'; available: {', '.join(PROBES)}") from None


def headline_counts() -> list[tuple[str, str, dict[str, int]]]:
    """(probe, headline metric, paired items at each budget) for every declared headline
    metric with an item count: the README's budget table is this list."""
    rows = []
    for spec in PROBES.values():
        for decl in spec.headline:
            if decl.items is not None:
                rows.append((spec.name, decl.name, spec.items_at_budgets(decl)))
    return rows


def budget_table() -> str:
    """The budget table as Markdown: one row per headline metric, its items at each budget."""
    lines = ["| probe | headline metric | quick | standard | thorough |", "|---|---|---:|---:|---:|"]
    for probe_name, metric, counts in headline_counts():
        q, s, t = (counts[b] for b in BUDGETS)
        lines.append(f"| `{probe_name}` | `{metric}` | {q} | {s} | {t} |")
    return "\n".join(lines)
