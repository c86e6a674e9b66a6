"""``tunelens demo``: the whole story of a support-desk fine-tune on the embedded model.

1. Generate a deterministic training set for a fictional company's support desk: every
   answer in a house style, and point facts each seen 1, 3, 10 or 30 times.
2. LoRA-fine-tune the embedded SmolLM2-135M-Instruct on it (CPU, a few minutes).
3. Audit base against tuned (forgetting, facts_vs_patterns, context, self_conditioning,
   retrieval_heads) into results.json and report.html, and print what stuck, what leaked
   and what it cost.

Run it with ``tunelens demo`` (about 8.5 minutes on a 2-core CPU) or ``tunelens demo --quick``
(about 2.5, two probes); ``benchmarks/demo_time.py`` measures both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tunelens._audit import audit
from tunelens.data import support_desk_dataset, write_jsonl
from tunelens.models import DEFAULT_MODEL, LoadOptions
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.results import AuditResults, Metric
from tunelens.summary import describe, format_value
from tunelens.tuning import TrainConfig, tune

QUICK_PROBES = ("forgetting", "facts_vs_patterns")
"""The quick demo runs the two probes that tell the core story, with fewer items."""

DEMO_PROBES = ("forgetting", "facts_vs_patterns", "context", "self_conditioning", "retrieval_heads")
"""The full demo's probes: what fits its 10-minute budget on a 2-core CPU (507 s measured).
cot_faithfulness and diversity (about a minute and half a minute on the embedded model)
run in ``tunelens audit``; they join the demo once its budget has room for them."""


@dataclass(frozen=True)
class DemoConfig:
    model: str = DEFAULT_MODEL
    out_dir: str = "tunelens-demo"
    seed: int = 0
    quick: bool = False
    facts_per_level: int = 4
    n_pattern_only: int = 24
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=1.0, learning_rate=2e-3, batch_size=8))
    probes: tuple[str, ...] | None = DEMO_PROBES  # None: every registered probe


def demo_config(quick: bool = False, **overrides: object) -> DemoConfig:
    """The full demo's settings, or the quick ones (fewer facts and examples, fewer probe items)."""
    if quick:
        base = DemoConfig(
            quick=True,
            facts_per_level=1,
            n_pattern_only=12,
            probes=QUICK_PROBES,
            train=TrainConfig(epochs=1.0, learning_rate=2e-3, batch_size=4, warmup_steps=2),
        )
    else:
        base = DemoConfig()
    return DemoConfig(**{**base.__dict__, **overrides})  # type: ignore[arg-type]


@dataclass(frozen=True)
class DemoOutcome:
    results: AuditResults
    out_dir: Path
    seconds: float
    stages: dict[str, float]


def run_demo(cfg: DemoConfig, say: Callable[[str], None] = print, options: LoadOptions = LoadOptions()) -> DemoOutcome:
    started = time.perf_counter()
    stages: dict[str, float] = {}
    out = prepare_out_dir(cfg.out_dir)
    examples, task = support_desk_dataset(cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=cfg.seed)
    write_jsonl(out / "data.jsonl", examples)
    atomic_write_text(out / "task.json", json.dumps(task.to_dict(), indent=1))
    say(
        f"[1/3] wrote {len(examples)} support-desk examples ({len(task.facts)} facts seen "
        f"{', '.join(str(n) for n in sorted({f.exposures for f in task.facts}))} times) to {out / 'data.jsonl'}"
    )
    t0 = time.perf_counter()
    say(f"[2/3] LoRA fine-tuning {cfg.model} on the CPU …")
    run = tune(cfg.model, out / "data.jsonl", out_dir=out / "tune", method="lora", config=cfg.train, options=options)
    stages["tune"] = round(time.perf_counter() - t0, 1)
    curve = run.training.loss_curve
    say(f"      {run.training.steps} steps, loss {curve[0][1]:.2f} → {curve[-1][1]:.2f}, {stages['tune']:.0f}s")
    t0 = time.perf_counter()
    say("[3/3] auditing base against tuned …")
    results = audit(
        cfg.model,
        str(run.checkpoint),
        out_dir=out,
        task=task,
        seed=cfg.seed,
        quick=cfg.quick,
        probes=cfg.probes,
        training=run.training,
        options=options,
        progress=lambda m: say(f"      {m}"),
    )
    stages["audit"] = round(time.perf_counter() - t0, 1)
    seconds = round(time.perf_counter() - started, 1)
    for line in story(results):
        say(line)
    say(f"\nreport: {out / 'report.html'}   results: {out / 'results.json'}   ({seconds:.0f}s in all)")
    return DemoOutcome(results, out, seconds, stages)


def _metric(results: AuditResults, probe: str, name: str) -> Metric | None:
    return next((m for p in results.probes if p.name == probe for m in p.metrics if m.name == name), None)


def story(results: AuditResults) -> list[str]:
    """The three-part summary: what stuck, what leaked, what it cost."""
    lines = ["", "What stuck (the pattern):"]
    pattern = _metric(results, "facts_vs_patterns", "pattern_all")
    if pattern:
        lines.append(f"  {describe(pattern)} [{pattern.verdict}]")
    lines.append("What leaked (facts, by how often they were seen):")
    facts = next((p for p in results.probes if p.name == "facts_vs_patterns"), None)
    for m in facts.metrics if facts else []:
        if m.name.startswith("fact_recall_x"):
            lines.append(
                f"  {m.group:>13}: recalled {format_value(m.base, m.unit)} → {format_value(m.tuned, m.unit)} (n={m.n})"
            )
    lines += [f"  {note}" for note in (facts.notes[:1] if facts else [])]
    lines.append("What it cost (general capabilities):")
    forgetting = next((p for p in results.probes if p.name == "forgetting"), None)
    for m in forgetting.metrics if forgetting else []:
        if m.group is None:
            lines.append(f"  {describe(m)} [{m.verdict}]")
    others = [p for p in results.probes if p.name not in ("forgetting", "facts_vs_patterns")]
    if others:
        lines.append("Context, retrieval and long-horizon execution:")
        for probe in others:
            changed = [m for m in probe.metrics if m.verdict == "changed"]
            lines.append(f"  {probe.title}: {len(changed)} of {len(probe.metrics)} metrics changed")
            lines += [f"    {describe(m)}" for m in changed[:3]]
    return lines
