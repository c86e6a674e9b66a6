"""``tunelens demo``: the whole story of a support-desk fine-tune on the embedded model.

1. Generate a deterministic training set for a fictional company's support desk: every
   answer in a house style, point facts each seen 1, 3, 10 or 30 times, and (full demo)
   six facts seen 4 times whose values are surprising keywords or unsurprising controls
   (priming, Sun et al. 2025); triage it with the base model (forecast which facts stick).
   The audit's task spec is derived from the data alone, as for a user's data
   (``derive_task_spec``); the generator's own spec is kept as task_generated.json and only
   checks the derived one (``check_derived_spec``: every planted fact with its exposure
   count, every planted pattern rule reproduced).
2. LoRA-fine-tune the embedded SmolLM2-135M-Instruct on it (CPU, a few minutes).
3. Audit base against tuned with every probe into results.json and report.html, and print
   what stuck, what leaked and what it cost, and how the triage forecast fared.

Run it with ``tunelens demo`` (7 to 19 minutes on a 2-core CPU, as fast or slow as the machine
runs that day) or ``tunelens demo --quick`` (2 to 4 minutes, three probes at the quick budget);
``benchmarks/demo_time.py`` measures both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelens._audit import audit
from tunelens.data import TaskSpec, support_desk_dataset, write_jsonl
from tunelens.data._support_desk import render_answer
from tunelens.data._support_desk_keywords import KEYWORD_EXPOSURES
from tunelens.models import DEFAULT_MODEL, LoadOptions, load_model
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.probes import PROBES
from tunelens.report import discoveries, discovery_sentence
from tunelens.results import AuditResults, ProbeResult
from tunelens.summary import describe, format_value, verdict_text
from tunelens.triaging import build_triage, derive_task_spec, write_triage
from tunelens.triaging._values import canonical_value
from tunelens.tuning import TrainConfig, tune

QUICK_PROBES = ("behaviour", "forgetting", "facts_vs_patterns")
NOW_SHOWN = 6
"""Discoveries of the behaviour probe that open the demo's story."""
"""The quick demo runs the probes that tell the core story (what the replies now do, what it cost,
what stuck), with fewer items."""


DEMO_BUDGETS: dict[str, str] = {
    "behaviour": "standard",
    "forgetting": "standard",
    "facts_vs_patterns": "standard",
    "context": "standard",
    "self_conditioning": "quick",
    "retrieval_heads": "quick",
    "cot_faithfulness": "quick",
    "diversity": "quick",
    "locality": "standard",
    "priming": "standard",
}
"""The full demo's budget per probe, chosen so that the whole demo took under 10 minutes on a
2-core CPU running at full speed (7 to 19 minutes as the machine's speed varies): the
probes of the demo's story (what the replies now do, what stuck, what leaked, what it cost,
where, what spilled over) and the context probe at the standard budget; diversity at quick,
since ``behaviour`` already shows the replies' switch of format at standard (diversity adds
the spread within a prompt's samples, about a minute at standard); the long-context and
long-generation probes (self-conditioning's histories, retrieval heads' haystacks, chains of
thought re-read per intervention: several minutes each at standard on a CPU) at quick, which
the story then names with what that budget cannot show. A probe not listed runs at standard."""


def demo_probe_budgets() -> dict[str, str]:
    """The full demo's budget of every registered probe."""
    return {name: DEMO_BUDGETS.get(name, "standard") for name in PROBES}


def demo_probe_configs() -> dict[str, Any]:
    """The configs of :func:`demo_probe_budgets`."""
    return {name: PROBES[name].config_for(budget) for name, budget in demo_probe_budgets().items()}


@dataclass(frozen=True)
class DemoConfig:
    model: str = DEFAULT_MODEL
    out_dir: str = "tunelens-demo"
    seed: int = 0
    quick: bool = False
    facts_per_level: int = 4
    n_pattern_only: int = 24
    keyword_exposures: int = KEYWORD_EXPOSURES  # 0: no surprising-keyword facts
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=1.0, learning_rate=2e-3, batch_size=8))
    probes: tuple[str, ...] | None = None  # None: every registered probe
    budgets: dict[str, str] | None = None  # per-probe budgets; None: standard (quick if quick)
    configs: dict[str, Any] | None = None  # per-probe configs, overriding the budgets


def demo_config(quick: bool = False, **overrides: object) -> DemoConfig:
    """The full demo's settings, or the quick ones (fewer facts and examples, fewer probe items)."""
    if quick:
        base = DemoConfig(
            quick=True,
            facts_per_level=1,
            n_pattern_only=12,
            keyword_exposures=0,
            probes=QUICK_PROBES,
            train=TrainConfig(epochs=1.0, learning_rate=2e-3, batch_size=4, warmup_steps=2),
        )
    else:
        base = DemoConfig(budgets=demo_probe_budgets())
    return DemoConfig(**{**base.__dict__, **overrides})  # type: ignore[arg-type]


_CHECK_STEPS: tuple[tuple[str, ...], ...] = (
    ("Open the Domains tab and pick the domain.", "Click Renew and confirm the payment."),
    ("Sign in to your dashboard.", "Open Settings, then Notifications.", "Turn off the weekly summary."),
    ("Restart the site from the Performance tab.",),
)
"""Steps of replies the data never holds, laid out in the house style, to check rules on."""


@dataclass(frozen=True)
class SpecCheck:
    """The spec derived from the demo's data against the one its generator wrote."""

    facts_found: int
    exposures_exact: int
    n_facts: int
    extra_facts: tuple[str, ...]  # derived facts the generator did not plant (their answers)
    patterns_reproduced: int
    n_patterns: int
    summary: str


def _check_replies(training_replies: Sequence[str]) -> list[str]:
    """The training replies, and new replies in the house style with and without each of its parts."""
    out = list(training_replies)
    for steps in _CHECK_STEPS:
        full = render_answer(steps)
        lines = full.splitlines()
        out += [full, "\n".join(lines[1:]), "\n".join(lines[:-1]), full.replace("1. ", "- ").replace("2. ", "- ")]
    return out


def check_derived_spec(derived: TaskSpec, generated: TaskSpec, training_replies: Sequence[str]) -> SpecCheck:
    """Does the spec derived from the data recover what the generator planted?

    A planted fact is found when a derived fact has the same answer (canonical form: "13
    percent" is "13%"), and exact when it has the same exposure count. A planted pattern rule
    is reproduced when some derived rule matches exactly the same replies: the training
    replies, and new replies in the house style with and without each of its parts."""
    derived_by_value = {canonical_value(f.answer).lower(): f for f in derived.facts}
    planted = {canonical_value(f.answer).lower(): f for f in generated.facts}
    found = [k for k in planted if k in derived_by_value]
    exact = [k for k in found if derived_by_value[k].exposures == planted[k].exposures]
    extra = tuple(derived_by_value[k].answer for k in derived_by_value if k not in planted)
    replies = _check_replies(training_replies)
    hits = {rule.name: [derived.pattern_matches(r)[rule.name] for r in replies] for rule in derived.patterns}
    reproduced = [
        rule.name
        for rule in generated.patterns
        if any(h == [generated.pattern_matches(r)[rule.name] for r in replies] for h in hits.values())
    ]
    summary = (
        f"derived task spec: {len(found)} of {len(planted)} planted facts found, {len(exact)} with their exact "
        f"exposure count" + (f" (and {len(extra)} more: {', '.join(extra)})" if extra else "")
        + f"; {len(reproduced)} of {len(generated.patterns)} planted pattern rules reproduced by its "
        f"{len(derived.patterns)} rules"
    )  # fmt: skip
    return SpecCheck(len(found), len(exact), len(planted), extra, len(reproduced), len(generated.patterns), summary)


@dataclass(frozen=True)
class DemoOutcome:
    results: AuditResults
    out_dir: Path
    seconds: float
    stages: dict[str, float]
    spec_check: SpecCheck | None = None  # the derived task spec against the generator's


def run_demo(cfg: DemoConfig, say: Callable[[str], None] = print, options: LoadOptions = LoadOptions()) -> DemoOutcome:
    started = time.perf_counter()
    stages: dict[str, float] = {}
    out = prepare_out_dir(cfg.out_dir)
    examples, generated = support_desk_dataset(
        cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=cfg.seed, keyword_exposures=cfg.keyword_exposures
    )
    data = out / "data.jsonl"
    write_jsonl(data, examples)
    atomic_write_text(out / "task_generated.json", json.dumps(generated.to_dict(), indent=1))
    derived = derive_task_spec(data, seed=cfg.seed)  # the audit derives the same spec from the same file
    atomic_write_text(out / "task.json", json.dumps(derived.spec.to_dict(), indent=1))
    check = check_derived_spec(derived.spec, generated, [m["messages"][-1]["content"] for m in examples])
    say(
        f"[1/3] wrote {len(examples)} support-desk examples ({len(generated.facts)} facts seen "
        f"{', '.join(str(n) for n in sorted({f.exposures for f in generated.facts}))} times) to {data}"
    )
    kind = "near-duplicates of training prompts" if derived.heldout_kind == "near_duplicate" else derived.heldout_kind
    say(f"      {check.summary}; {len(derived.heldout)} held-out prompts, {kind} → {out / 'task.json'}")
    t0 = time.perf_counter()
    say(f"[2/3] LoRA fine-tuning {cfg.model} on the CPU …")
    run = tune(cfg.model, out / "data.jsonl", out_dir=out / "tune", method="lora", config=cfg.train, options=options)
    stages["tune"] = round(time.perf_counter() - t0, 1)
    curve = run.training.loss_curve
    say(f"      {run.training.steps} steps, loss {curve[0][1]:.2f} → {curve[-1][1]:.2f}, {stages['tune']:.0f}s")
    t0 = time.perf_counter()
    say("[3/3] auditing base against tuned …")
    base = load_model(cfg.model, options)  # loaded once: triage's priors and the audit share it
    triaged = None
    if not cfg.quick:
        triaged = build_triage(examples, model=base, epochs=cfg.train.epochs)
        write_triage(triaged, out / "triage")
        stages["triage"] = round(time.perf_counter() - t0, 1)
        say(f"      triage: {len(triaged.facts)} facts forecast, {stages['triage']:.0f}s → {out / 'triage'}")
    results = audit(
        base,
        str(run.checkpoint),
        out_dir=out,
        data=data,
        seed=cfg.seed,
        quick=cfg.quick,
        budget="quick" if cfg.quick else "standard",
        probe_budgets=cfg.budgets,
        probes=cfg.probes,
        configs=cfg.configs,
        training=run.training,
        triage=triaged,
        options=options,
        progress=lambda m: say(f"      {m}"),
    )
    stages["audit"] = round(time.perf_counter() - t0, 1)
    seconds = round(time.perf_counter() - started, 1)
    for line in story(results):
        say(line)
    say(f"\nreport: {out / 'report.html'}   results: {out / 'results.json'}   ({seconds:.0f}s in all)")
    return DemoOutcome(results, out, seconds, stages, check)


def _probe(results: AuditResults, name: str) -> ProbeResult | None:
    return next((p for p in results.probes if p.name == name), None)


def _headline_lines(probe: ProbeResult | None) -> list[str]:
    """The probe's headline metrics (as it declared them), each with its verdict."""
    if probe is None:
        return []
    return [f"  {describe(m)} [{verdict_text(m)}]" for m in probe.metrics if m.headline]


def story(results: AuditResults) -> list[str]:
    """The three-part summary: what stuck, what leaked, what it cost; each probe's headline
    metrics (read from the probes' declarations, stored with each metric) with their verdicts."""
    lines = ["", "What the tuned model now does (found from its replies to ordinary prompts, not told):"]
    found = discoveries(results)
    lines += [f"  {discovery_sentence(m)}" for m in found[:NOW_SHOWN]] or ["  no change found in those replies"]
    if len(found) > NOW_SHOWN:
        lines.append(f"  … and {len(found) - NOW_SHOWN} more in the report's behaviour section")
    lines.append("What stuck (the pattern, on the task's own held-out prompts):")
    facts = _probe(results, "facts_vs_patterns")
    lines += _headline_lines(facts)
    lines.append("What leaked (facts, by how often they were seen):")
    for m in facts.metrics if facts else []:
        if m.group is not None and "exposure" in m.group:
            lines.append(
                f"  {m.group:>13}: recalled {format_value(m.base, m.unit)} → {format_value(m.tuned, m.unit)} (n={m.n})"
            )
    lines += [f"  {note}" for note in (facts.notes[:1] if facts else [])]
    lines.append("What it cost (general capabilities):")
    lines += _headline_lines(_probe(results, "forgetting"))
    locality = _probe(results, "locality")
    if locality and locality.notes:
        lines += ["Where the change sits:", f"  {locality.notes[0]}"]
    priming = _probe(results, "priming")
    if priming and priming.notes:
        lines += [
            "What spilled over (surprising keywords in unrelated contexts):",
            *[f"  {n}" for n in priming.notes[:2]],
        ]
    if results.forecast_check is not None:
        lines += ["Did triage foretell it?", *[f"  {s}" for s in results.forecast_check.summary]]
    told = ("behaviour", "forgetting", "facts_vs_patterns", "locality", "priming")
    others = [p for p in results.probes if p.name not in told]
    if others:
        lines.append("The other probes (headline metrics, verdicts after correction for multiple comparisons):")
        for probe in others:
            changed = sum(m.verdict == "changed" for m in probe.metrics)
            lines.append(f"  {probe.title}: {changed} of {len(probe.metrics)} metrics changed")
            lines += ["  " + line for line in _headline_lines(probe)]
    quick = [p.name for p in results.probes if p.budget == "quick"]
    if quick:
        lines.append(
            f"Ran at the quick budget to keep the demo short: {', '.join(quick)}. At that budget a headline metric "
            "has a handful of items: it can show a large change but rarely equivalence, and some cannot reach "
            "'changed' at all; `tunelens audit --budget standard` gives them at least 60 items each."
        )
    return lines
