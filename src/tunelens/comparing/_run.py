"""``compare``: adapt one base model to one data set in several ways and weigh each.

    from tunelens import compare
    results = compare("embedded:smollm2-135m-instruct", "data.jsonl", task=task,
                      methods="lora,full,svf,retrieval", out_dir="runs/compare")

Every method trains with the same data, seed, epochs and batch size (each at its own
learning rate, ``COMPARE_LEARNING_RATES``), or reuses its earlier run when nothing changed;
retrieval trains nothing and puts the data's facts in the prompt. Each is audited against
the base with the same probes (the target task's gain; forgetting, context faithfulness
and locality as costs). With an update (new data whose task spec changes some facts'
values), each method takes the update the way it would in practice (a second fine-tune
starting from the first; retrieval edits its fact sheet) and the changed facts are asked
before and after. ``compare.json`` is saved after every method, so an interrupted
comparison keeps the methods it finished; ``compare.html`` is written at the end.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tunelens._audit import audit
from tunelens._version import __version__
from tunelens.comparing._html import write_comparison_html
from tunelens.comparing._methods import COMPARE_LEARNING_RATES, DEFAULT_METHODS, MethodSpec, parse_methods
from tunelens.comparing._schema import Cell, Column, ComparisonResults, MethodRow
from tunelens.comparing._stale import edit_fact_sheet, measure_stale
from tunelens.comparing._versus import versus_reference
from tunelens.data import FactChange, TaskSpec, changed_facts, read_training_data
from tunelens.engine import Engine
from tunelens.errors import TunelensError
from tunelens.models import LoadedModel, LoadOptions, load_model, parse_ref
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.probes import PROBES
from tunelens.results import AuditResults, Metric, TrainingInfo
from tunelens.tuning import RECIPES, SplitOptions, TrainConfig, read_training_info, tune
from tunelens.tuning._split import DEFAULT_SPLIT_MODE, split_reference

COMPARE_PROBES = ("facts_vs_patterns", "forgetting", "context", "locality")


def compare_columns(probes: Sequence[str] = COMPARE_PROBES) -> tuple[Column, ...]:
    """The comparison table's columns, read from the probes' declarations: each probe's
    headline metrics (for locality, its descriptive headline: how far the weights and the
    next-token predictions moved). A probe that needs the fine-tune's task measures what the
    method gained; every other probe what it cost."""
    columns = []
    for name in probes:
        spec = PROBES[name]
        for decl in spec.metrics:
            if decl.headline and not decl.is_family:
                columns.append(
                    Column(
                        metric=f"{name}.{decl.name}",
                        label=decl.label,
                        side="gain" if spec.needs_task else "cost",
                        unit=decl.unit,
                        higher_is_better=decl.higher_is_better,
                    )
                )
    return tuple(columns)


COLUMNS: tuple[Column, ...] = compare_columns()


def compare_probe_budgets(quick: bool = False) -> dict[str, str]:
    """The budget of each probe a comparison audits with: the demo's (``quick``: quick)."""
    from tunelens.demo import demo_probe_budgets

    budgets = demo_probe_budgets()
    return {name: "quick" if quick else budgets[name] for name in COMPARE_PROBES}


def compare_probe_configs(quick: bool = False) -> dict[str, Any]:
    """The configs of :func:`compare_probe_budgets`."""
    return {name: PROBES[name].config_for(b) for name, b in compare_probe_budgets(quick).items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What every method shares."""

    base: str
    data: Path
    task: TaskSpec
    out: Path
    seed: int
    epochs: float
    batch_size: int
    learning_rates: dict[str, float]
    quick: bool
    probes: tuple[str, ...]
    reply_tokens: int
    options: LoadOptions
    update_data: Path | None
    changes: list[FactChange]
    facts: Path | None  # the retrieval channel's fact sheet
    progress: Callable[[str], None]

    def config(self, recipe: str) -> TrainConfig:
        lr = self.learning_rates.get(recipe, COMPARE_LEARNING_RATES.get(recipe, RECIPES[recipe].learning_rate))
        return TrainConfig(epochs=self.epochs, learning_rate=lr, batch_size=self.batch_size, seed=self.seed)


def compare(
    base: str,
    data: str | Path,
    *,
    task: TaskSpec,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    out_dir: str | Path = "tunelens-compare",
    update_data: str | Path | None = None,
    update_task: TaskSpec | None = None,
    seed: int = 0,
    epochs: float = 1.0,
    batch_size: int = 8,
    learning_rates: dict[str, float] | None = None,
    quick: bool = False,
    probes: Sequence[str] = COMPARE_PROBES,
    reply_tokens: int = 64,
    reference: str | None = None,
    options: LoadOptions = LoadOptions(),
    progress: Callable[[str], None] = lambda message: None,
) -> ComparisonResults:
    """Tune (or reuse) each method on ``data``, audit each against ``base``, weigh them.

    ``probes`` may narrow the audits to a subset of ``COMPARE_PROBES``; the table's columns
    of the others stay empty. ``reply_tokens``: the budget of a reply to a changed fact.
    ``reference`` (default: the first method) is the method every other is tested against
    on the same items (``_versus``)."""
    unknown = sorted(set(probes) - set(COMPARE_PROBES))
    if unknown:
        raise TunelensError(f"compare audits with {', '.join(COMPARE_PROBES)}; not {', '.join(unknown)}")
    specs = parse_methods(methods if isinstance(methods, str) else ",".join(methods))
    reference = specs[0].text if reference is None else reference.strip()
    if reference not in {s.text for s in specs}:
        raise TunelensError(f"the reference method '{reference}' is not among the methods ({methods})")
    parse_ref(base)
    data_path = Path(data)
    n_examples = len(read_training_data(data_path))  # a clear error for bad data, before any work
    if (update_data is None) != (update_task is None):
        raise TunelensError("an update needs both its data (--update) and its task spec (--update-task)")
    changes = changed_facts(task, update_task) if update_task is not None else []
    if update_task is not None and not changes:
        raise TunelensError("the update's task spec changes no fact's answer: give the changed facts' new answers")
    if update_data is not None:
        read_training_data(update_data)
    for name in learning_rates or {}:
        if name not in RECIPES:
            raise TunelensError(f"learning rate given for unknown method '{name}'; methods: {', '.join(RECIPES)}")
    started = time.perf_counter()
    out = prepare_out_dir(out_dir)
    facts = _write_fact_sheet(data_path, out) if any(not s.changes_weights for s in specs) else None
    plan = _Plan(
        base, data_path.resolve(), task, out.resolve(), seed, epochs, batch_size, dict(learning_rates or {}),
        quick, tuple(probes), reply_tokens, options, Path(update_data).resolve() if update_data else None,
        changes, facts, progress,
    )  # fmt: skip
    results = ComparisonResults(
        tunelens_version=__version__,
        created=_now(),
        base=base,
        data=str(data_path),
        n_examples=n_examples,
        task=task.name,
        seed=seed,
        update_data=str(update_data) if update_data else None,
        changed_facts=[f"{c.id}: {c.old} → {c.new}" for c in changes],
        columns=[column.model_copy() for column in compare_columns(probes)],
        reference=reference if len(specs) > 1 else None,
    )
    metrics: dict[str, dict[str, Metric]] = {}
    progress(f"loading the base model {base} …")
    base_model = load_model(base, options)
    base_stage = measure_stale(Engine(base_model), changes, "base", reply_tokens, seed) if changes else None
    for spec in specs:
        method_started = time.perf_counter()
        try:
            row, audited = _run_method(plan, spec, base_model)
            metrics[spec.text] = {f"{m.probe}.{m.name}": m for m in audited}
        except TunelensError as exc:
            progress(f"[{spec.text}] failed: {exc}")
            row = MethodRow(method=spec.text, ref="", audit_dir="", reused=False, error=str(exc))
        if base_stage is not None and row.stale:
            row.stale.insert(0, base_stage)
        row.audit_seconds = round(row.audit_seconds or time.perf_counter() - method_started, 1)
        results.methods.append(row)
        versus_reference(results.methods, metrics, reference, results.columns)
        _save(results, out, started)
    _save(results, out, started)
    write_comparison_html(results, out / "compare.html")
    return results


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _save(results: ComparisonResults, out: Path, started: float) -> None:
    results.seconds = round(time.perf_counter() - started, 1)
    results.created = _now()
    atomic_write_text(out / "compare.json", results.model_dump_json(indent=1))


def _write_fact_sheet(data: Path, out: Path) -> Path:
    """The retrieval method's FACTS file: the data's fact sentences, one a line (editable)."""
    from tunelens.models import write_fact_sheet

    return write_fact_sheet(data, out / "facts.txt")


def _train(
    plan: _Plan, spec: MethodSpec, base: str, data: Path, run_dir: Path, may_reuse: bool = True
) -> tuple[str, TrainingInfo, bool]:
    """Train ``spec`` on ``data`` from ``base`` into ``run_dir``, or reuse what is there
    (unless ``may_reuse`` is False: a run from a base that was itself just retrained)."""
    assert spec.recipe is not None
    config = plan.config(spec.recipe)
    settings = {
        "method": spec.text,
        "base": base,
        "data_sha256": _sha256(data),
        "config": dataclasses.asdict(config),
        "extras": dataclasses.asdict(spec.extras),
        "split_mode": spec.split_mode,
    }
    marker = run_dir / "compare-settings.json"
    info = read_training_info(run_dir) if run_dir.is_dir() else None
    if may_reuse and info is not None and marker.is_file() and json.loads(marker.read_text()) == settings:
        if Path(info.checkpoint).exists():
            plan.progress(f"[{spec.text}] reusing {info.checkpoint}")
            return _served(info.checkpoint, info), info, True
    plan.progress(f"[{spec.text}] training on {data.name} ({config.epochs:g} epoch, lr {config.learning_rate:g}) …")
    marker.unlink(missing_ok=True)
    run = tune(
        base, data, out_dir=run_dir, method=spec.tune_method, config=config, options=plan.options,
        show_progress=False, extras=spec.extras, split=SplitOptions(mode=spec.split_mode or DEFAULT_SPLIT_MODE),
        progress=plan.progress,
    )  # fmt: skip
    atomic_write_text(marker, json.dumps(settings, indent=1))
    return _served(str(run.checkpoint.resolve()), run.training), run.training, False


def _served(checkpoint: str, info: TrainingInfo) -> str:
    """The reference a run is audited and served as: a split run's checkpoint with its sheet."""
    facts = info.method_options.get("facts_file")
    return split_reference(Path(checkpoint), Path(facts).resolve()) if facts else checkpoint


def _run_method(plan: _Plan, spec: MethodSpec, base_model: LoadedModel) -> tuple[MethodRow, list[Metric]]:
    """Train (or reuse), audit and update one method; returns its row and its audit's metrics."""
    training: TrainingInfo | None = None
    reused = False
    if spec.recipe is not None:
        ref, training, reused = _train(plan, spec, plan.base, plan.data, plan.out / "runs" / spec.slug)
    else:
        ref = f"retrieval:{plan.base}@{plan.facts}"
    tuned = load_model(ref, plan.options)
    audit_dir = plan.out / "audits" / spec.slug
    results = _audit(plan, spec, base_model, tuned, training, audit_dir)
    row = MethodRow(
        method=spec.text,
        ref=ref,
        audit_dir=str(audit_dir),
        reused=reused,
        train_seconds=training.seconds if training else None,
        trainable_params=training.trainable_params if training else 0,
        changes_weights=spec.changes_weights,
        cells=_cells(results, spec, plan.probes),
        audit_seconds=results.seconds,
    )
    if plan.changes:
        first = measure_stale(Engine(tuned), plan.changes, "first", plan.reply_tokens, plan.seed)
        del tuned
        gc.collect()
        t0 = time.perf_counter()
        updated_ref = _update(plan, spec, ref, reused)
        updated = load_model(updated_ref, plan.options)
        second = measure_stale(Engine(updated), plan.changes, "update", plan.reply_tokens, plan.seed)
        row.update_seconds = round(time.perf_counter() - t0, 1)
        row.stale = [first, second]
        del updated
    gc.collect()
    return row, results.metrics()


def _audit(
    plan: _Plan,
    spec: MethodSpec,
    base_model: LoadedModel,
    tuned: LoadedModel,
    training: TrainingInfo | None,
    audit_dir: Path,
) -> AuditResults:
    """Audit the method against the base. The audit reuses each probe's result from the results
    cache when the models (by fingerprint: a reused run, the same fact sheet), the probe's
    config, the task and the seed are what they were, and says so."""
    plan.progress(f"[{spec.text}] auditing against the base ({', '.join(plan.probes)}) …")
    return audit(
        base_model, tuned, probes=list(plan.probes), out_dir=audit_dir, task=plan.task, seed=plan.seed,
        probe_budgets=compare_probe_budgets(plan.quick), options=plan.options, training=training,
        progress=plan.progress,
    )  # fmt: skip


def _update(plan: _Plan, spec: MethodSpec, first_ref: str, first_reused: bool) -> str:
    """The model reference after the update: a second fine-tune from the first, or an edited fact sheet."""
    if spec.recipe is None or spec.split_mode:  # the facts live in a sheet: edit it, train nothing
        model, facts = parse_ref(first_ref).parts
        edited = (plan.out if spec.recipe is None else plan.out / "runs" / spec.slug) / "facts-updated.txt"
        lines = Path(facts).read_text(encoding="utf-8").splitlines()
        atomic_write_text(edited, "\n".join(edit_fact_sheet(lines, plan.changes)) + "\n")
        plan.progress(f"[{spec.text}] update: its fact sheet edited ({len(plan.changes)} values), no retraining")
        return f"retrieval:{model}@{edited}"
    assert plan.update_data is not None
    run_dir = plan.out / "runs" / f"{spec.slug}-update"
    ref, _, _ = _train(plan, spec, first_ref, plan.update_data, run_dir, may_reuse=first_reused)
    return ref


def _cells(results: AuditResults, spec: MethodSpec, probes: Sequence[str]) -> dict[str, Cell]:
    metrics = {f"{m.probe}.{m.name}": m for m in results.metrics()}
    cells = {}
    for column in compare_columns(probes):
        m = metrics.get(column.metric)
        if m is None:
            probe = column.metric.split(".")[0]
            reason = "not measured"
            if not spec.changes_weights and PROBES[probe].needs_weights:
                reason = "no weight changed"
            cells[column.metric] = Cell(metric=column.metric, reason=reason)
            continue
        cells[column.metric] = Cell(
            metric=column.metric,
            base=m.base,
            value=m.tuned,
            delta=m.delta,
            ci_low=m.ci_low,
            ci_high=m.ci_high,
            n=m.n,
            verdict=str(m.verdict),
        )
    return cells


__all__ = ["COLUMNS", "COMPARE_PROBES", "compare_columns", "compare", "compare_probe_configs", "write_demo_inputs"]


def write_demo_inputs(folder: str | Path, quick: bool = False, seed: int = 0) -> tuple[Path, Path, Path, Path]:
    """The demo's support-desk data, task spec, fact update and its task spec, written to
    ``folder``; returns their paths (data, task, update, update task). The data are the
    demo's facts and house style without its priming keywords (no compared probe reads
    them); ``quick``: the quick demo's data (one fact per exposure level), two changed facts."""
    from tunelens.data import support_desk_dataset, support_desk_update, write_jsonl
    from tunelens.demo import demo_config

    cfg = demo_config(quick=quick)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    examples, task = support_desk_dataset(cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=seed)
    update, update_task = support_desk_update(task, n_changed=2 if quick else 4, seed=seed)
    paths = (folder / "data.jsonl", folder / "task.json", folder / "update.jsonl", folder / "update-task.json")
    write_jsonl(paths[0], examples)
    atomic_write_text(paths[1], json.dumps(task.to_dict(), indent=1))
    write_jsonl(paths[2], update)
    atomic_write_text(paths[3], json.dumps(update_task.to_dict(), indent=1))
    return paths
