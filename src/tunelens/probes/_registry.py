"""The probe registry: one decorated function per probe, every list derived from here.

A probe is a function ``run(ctx, config) -> ProbeResult`` decorated with ``@probe``; the
decorator records its name, title, config type and quick preset. The CLI's ``--probes``
choices, the audit's default battery and the report's sections all come from ``PROBES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens.data import TaskSpec
from tunelens.engine import Engine
from tunelens.errors import TunelensError
from tunelens.results import ProbeResult


@dataclass
class ProbeContext:
    """What every probe receives: both engines and the audit's shared inputs."""

    base: Engine
    tuned: Engine
    seed: int = 0
    task: TaskSpec | None = None  # the fine-tune's own task (patterns, held-out prompts, facts)
    suite: Path | None = None  # a user's own regression suite (JSONL)
    progress: Callable[[str], None] = field(default=lambda message: None)

    def engines(self) -> tuple[tuple[str, Engine], tuple[str, Engine]]:
        return ("base", self.base), ("tuned", self.tuned)


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    title: str
    description: str
    config_type: type
    quick: Any  # the config used by --quick
    run: Callable[[ProbeContext, Any], ProbeResult]
    needs_task: bool = False
    needs_weights: str = ""  # what the probe reads besides outputs ("weights", "attention"); channels have none


PROBES: dict[str, ProbeSpec] = {}


def probe(
    name: str, *, title: str, config: type, quick: Any, needs_task: bool = False, needs_weights: str = ""
) -> Callable[[Callable[[ProbeContext, Any], ProbeResult]], Callable[[ProbeContext, Any], ProbeResult]]:
    """Register a probe function under ``name``; its docstring becomes the description.

    ``needs_weights`` names what the probe reads of the model itself (its weights, its
    attention); the audit skips such a probe on a channel (proxy, retrieval), which has none
    of its own."""

    def register(fn: Callable[[ProbeContext, Any], ProbeResult]) -> Callable[[ProbeContext, Any], ProbeResult]:
        if name in PROBES:
            raise ValueError(f"probe '{name}' registered twice")
        description = " ".join((fn.__doc__ or "").split())
        PROBES[name] = ProbeSpec(name, title, description, config, quick, fn, needs_task, needs_weights)
        return fn

    return register


def get_probe(name: str) -> ProbeSpec:
    try:
        return PROBES[name]
    except KeyError:
        raise TunelensError(f"unknown probe '{name}'; available: {', '.join(PROBES)}") from None
