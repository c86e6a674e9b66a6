"""Run a battery of probes on a base/tuned pair and write results.json and report.html.

    from tunelens import audit
    results = audit("embedded:smollm2-135m-instruct", "runs/demo/adapter", out_dir="runs/audit")

results.json is rewritten after every probe, so an interrupted audit keeps what it had
measured; report.html is written last, from results.json alone. Given the training data and
no task spec, the audit derives the spec from the data (``tunelens.triaging.derive_task_spec``)
and writes it as task.json beside results.json. Once the audit is complete, items.jsonl holds
every item record (both models' outputs and scores), one per line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tunelens._version import __version__
from tunelens.data import TaskSpec
from tunelens.engine import Memo, MemoEngine
from tunelens.errors import TunelensError, UsageError
from tunelens.models import (
    LoadedModel,
    LoadOptions,
    check_same_tokenizer,
    load_model,
    load_pair,
    model_info,
    parse_ref,
)
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.probes import (
    BUDGETS,
    PROBES,
    ProbeContext,
    ProbeSpec,
    apply_overrides,
    check_overrides,
    default_budget,
    get_probe,
)
from tunelens.report import write_report
from tunelens.results import (
    AuditResults,
    CheckpointInfo,
    ProbeResult,
    ResultCache,
    TrainingInfo,
    cache_key,
    save_items,
    save_results,
)
from tunelens.stats import apply_verdicts, declare_all
from tunelens.summary import summarise
from tunelens.triaging import DerivedSpec, TriageResults, check_forecast, derive_task_spec

DERIVED_NOTES = ("facts_vs_patterns", "priming")
"""Probes whose results say how a derived task spec was made (held-out prompts, left-out patterns)."""


def default_probes(task: TaskSpec | None) -> list[str]:
    """Every registered probe that can run with what the user gave."""
    return [name for name, spec in PROBES.items() if task is not None or not spec.needs_task]


def audit(
    base: str | LoadedModel,
    tuned: str | LoadedModel,
    *,
    probes: Sequence[str] | None = None,
    out_dir: str | Path = "tunelens-out",
    task: TaskSpec | None = None,
    suite: str | Path | None = None,
    seed: int = 0,
    quick: bool = False,
    budget: str | None = None,
    probe_budgets: dict[str, str] | None = None,
    margins: dict[str, float] | None = None,
    configs: dict[str, Any] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    options: LoadOptions = LoadOptions(),
    training: TrainingInfo | None = None,
    triage: TriageResults | None = None,
    data: str | Path | Sequence[dict] | None = None,
    fresh: bool = False,
    cache: ResultCache | None | bool = True,
    memos: dict[str, Memo] | None = None,
    checkpoint: CheckpointInfo | None = None,
    report: bool = True,
    progress: Callable[[str], None] = lambda message: None,
) -> AuditResults:
    """Audit ``tuned`` against ``base`` and write results.json and report.html in out_dir.

    ``budget`` (quick, standard or thorough; default standard on a CPU, thorough on a GPU,
    ``quick=True`` for quick) sizes every probe's item pool, ``probe_budgets`` one probe's
    (``{"cot_faithfulness": "quick"}``); ``configs`` replaces a probe's config outright and
    ``overrides`` single fields of it (``{"forgetting": {"n_arithmetic": 200}}``, each validated
    against the probe's config type; precedence in ``tunelens.probes._settings``).
    ``margins`` overrides margins of equivalence (``{"forgetting.arithmetic_acc": 0.03}``).
    With ``triage`` (the triage of the training data), results.json also holds its forecast
    checked against the measured fate of each fact (``AuditResults.forecast_check``).

    ``data`` (the training data: a JSONL path or records), when no ``task`` is given, is read
    for a task spec (``derive_task_spec``: its patterns, facts with their exposure counts,
    priming keywords), written to ``out_dir/task.json``; held-out prompts are
    ``training.heldout`` when the tune recorded any, else near-duplicates of the training
    prompts, and the notes of facts_vs_patterns and priming say which. With a ``task``,
    ``data`` is not read.

    Resume: every probe's result is kept in the results cache (``ResultCache``) as soon as it
    finishes, keyed by both models' fingerprints, the probe's config, the seed, the task spec,
    the suite and the code. A run with the same keys reuses it and says so (an audit killed
    halfway resumes after its last finished probe; ``compare`` reuses an unchanged method's
    audit); ``fresh=True`` recomputes every probe (and refreshes the cache), ``cache=False``
    neither reads nor writes it. ``results.json`` says ``complete: false`` until the last probe.

    The base side: the base model answers through a memo (``tunelens.engine.MemoEngine``) kept
    in the same cache by the base's fingerprint, probe, config, seed and task, so a later audit
    of another tuned model against this base replays what the base was asked before and runs
    only what is new (what depends on the tuned model: its replies scored by the base, the
    items both models answer). ``memos`` keeps them in memory too (``audit_checkpoints``
    passes one dict to every checkpoint, which is what makes ``cache=False`` work there).
    ``checkpoint`` says which checkpoint of a run this is; ``report=False`` leaves report.html
    to the caller."""
    budget = "quick" if quick else (budget or default_budget())
    for chosen in (budget, *(probe_budgets or {}).values()):
        if chosen not in BUDGETS:
            raise UsageError(f"unknown budget '{chosen}'; choose one of {', '.join(BUDGETS)}")
    check_overrides(overrides or {})
    derived: DerivedSpec | None = None
    if task is None and data is not None:
        progress("deriving the task spec from the training data")
        heldout = training.heldout if training is not None else ()
        derived = derive_task_spec(data, triage, heldout=heldout, seed=seed)
        task = derived.spec
    names = list(probes) if probes else default_probes(task)
    specs = [get_probe(n) for n in names]
    for spec in specs:
        if spec.needs_task and task is None:
            raise UsageError(
                f"probe '{spec.name}' needs the fine-tune's task spec: pass --task TASK.json or the training data "
                "(--data DATA.jsonl) to derive it"
            )
    for ref in (base, tuned):
        if isinstance(ref, str):
            parse_ref(ref)  # fail on a bad reference before anything is written
    out = prepare_out_dir(out_dir)
    if derived is not None and task is not None:
        atomic_write_text(out / "task.json", json.dumps(task.to_dict(), indent=1))
    suite_path = Path(suite) if suite else None
    if suite_path is not None and not suite_path.is_file():
        raise TunelensError(f"no such suite file: {suite_path}")
    started = time.perf_counter()
    if isinstance(base, str) and isinstance(tuned, str):
        # A LoRA adapter on this base shares its weights on a GPU (options.share_base).
        base_model, tuned_model = load_pair(base, tuned, options)
    else:
        base_model = base if isinstance(base, LoadedModel) else load_model(base, options)
        tuned_model = tuned if isinstance(tuned, LoadedModel) else load_model(tuned, options)
    check_same_tokenizer(base_model, tuned_model)
    # Once per audit, and only when a probe reads weights: comparing weights reads every tensor.
    weightless = _weightless(base_model, tuned_model) if any(s.needs_weights for s in specs) else []
    own_weights = next(
        (m for m in (base_model, tuned_model) if m.kind == "retrieval" and all(m is not w for w in weightless)), None
    )
    base_engine = MemoEngine(base_model)
    # The tuned side answers a repeated request of a probe from its own passes too (a memo kept
    # for that probe only), so both sides run the same passes: scores from a packed pass differ
    # in the last bits with the pass a request lands in, and a null pair must differ in nothing.
    tuned_engine = MemoEngine(tuned_model)
    ctx = ProbeContext(base_engine, tuned_engine, seed=seed, task=task, suite=suite_path, progress=progress)
    results = AuditResults(
        tunelens_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seed=seed,
        base=model_info(base_model),
        tuned=model_info(tuned_model),
        training=training,
        budget=budget,
        complete=False,
        checkpoint=checkpoint,
    )
    store = ResultCache() if cache is True else (cache or None)
    shared_key = {
        "base": results.base.fingerprint,
        "tuned": results.tuned.fingerprint,
        "seed": seed,
        "task": task.to_dict() if task is not None else None,
        "suite": _suite_fingerprint(suite_path) if suite_path is not None else None,
    }
    reused: list[str] = []
    for spec in specs:
        own_budget = (probe_budgets or {}).get(spec.name, budget)
        config = (configs or {}).get(spec.name) or spec.config_for(own_budget)
        if (overrides or {}).get(spec.name):
            config = apply_overrides(spec, config, overrides[spec.name])
        config_json = json.loads(json.dumps(dataclasses.asdict(config)))
        t0 = time.perf_counter()
        skip = _not_applicable(spec, weightless)
        key = cache_key({**shared_key, "probe": spec.name, "config": config_json})
        hit = store.get_probe(key) if store is not None and not fresh and not skip else None
        if skip:
            result: ProbeResult = ProbeResult(name=spec.name, notes=[skip])
        elif hit is not None:
            result, meta = hit
            reused.append(spec.name)
            progress(
                f"{spec.name}: reusing its result from an earlier run with the same models, settings and seed "
                f"({meta.get('created', '?')}); --fresh recomputes"
            )
            result.notes.append(
                f"Reused from an earlier run with the same models (by fingerprint), config and seed, computed "
                f"{meta.get('created', '?')} in {meta.get('seconds', '?')} s."
            )
        else:
            base_key = cache_key({**shared_key, "tuned": None, "probe": spec.name, "config": config_json})
            base_engine.memo = _base_memo(base_key, store, memos, fresh)
            tuned_engine.memo = Memo()
            try:
                result = spec.run(ctx, config)
            finally:
                memo, base_engine.memo, tuned_engine.memo = base_engine.memo, None, None
            _keep_memo(base_key, memo, store, memos)
            if memo.hits:
                result.notes.append(_replay_note(spec.name, memo))
            if store is not None:
                meta = {
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "seconds": round(time.perf_counter() - t0, 2),
                }
                store.put_probe(key, result, meta)
        if not skip and spec.needs_weights and own_weights is not None:
            result.notes.append(
                f"{own_weights.ref} is a retrieval channel over weights of its own: this probe read the "
                f"{spec.needs_weights} of {own_weights.extra.get('model', 'its model')}, the checkpoint under "
                "the channel."
            )
        if derived is not None and spec.name in DERIVED_NOTES and not skip:
            result.notes.extend(derived.notes_for(spec.name))
        undeclared = declare_all(result.metrics, spec.metrics, margins)
        _budget_counts(spec, result)
        if undeclared:
            result.notes.append(
                f"metrics this probe does not declare (tested as exploratory, default margins): {', '.join(undeclared)}"
            )
        result = result.model_copy(
            update={
                "title": spec.title,
                "description": spec.description,
                "seconds": round(time.perf_counter() - t0, 2),
                "budget": own_budget if config == spec.config_for(own_budget) else "custom",
                # The config as results.json stores it (tuples become lists), so a saved
                # result reads back equal to the one in memory.
                "config": config_json,
            }
        )
        results.probes.append(result)
        results.complete = len(results.probes) == len(specs)
        if triage is not None:
            results.forecast_check = check_forecast(triage, results, seed=seed)
        _finish(results, started)
        save_results(results, out / "results.json")
    save_items(results, out / "items.jsonl")
    if reused:
        progress(f"resumed: {len(reused)} of {len(specs)} probes reused ({', '.join(reused)}); --fresh recomputes")
    if report:
        write_report(results, out / "report.html")
    return results


def _base_memo(key: str, store: ResultCache | None, memos: dict[str, Memo] | None, fresh: bool) -> Memo:
    """The base model's memo for one probe: in memory, else from the cache, else empty."""
    memo = (memos or {}).get(key)
    if memo is None and store is not None and not fresh:
        raw = store.get_entry("base", key)
        memo = Memo.from_json(raw) if raw is not None else None
    memo = memo or Memo()
    memo.reset_counts()
    return memo


def _keep_memo(key: str, memo: Memo, store: ResultCache | None, memos: dict[str, Memo] | None) -> None:
    if memos is not None:
        memos[key] = memo
    if store is not None and memo.added:
        store.put_entry("base", key, memo.to_json())


def _replay_note(probe: str, memo: Memo) -> str:
    asked = memo.hits + memo.misses
    note = (
        f"Base side: {memo.hits} of the base model's {asked} requests were answered from its earlier passes "
        "(the same base by fingerprint, probe settings, seed and task)"
    )
    if memo.misses:
        note += (
            f"; {memo.misses} ran now because they depend on the tuned model (its replies scored by the base, "
            "or the items both models answer)"
        )
    if probe == "locality":
        note += "; the activation comparison reads both models position by position and ran the base again"
    return note + "."


def _suite_fingerprint(path: Path) -> str:
    """A hash of the user's suite: the file itself and, for an lm-eval task YAML, every file beside
    it and every data file it names, so an edited data file is not taken for the old one."""
    digest = hashlib.sha256(path.read_bytes())
    if path.suffix.lower() in (".yaml", ".yml"):
        named = re.findall(r"[\w./~-]+\.(?:jsonl|json|csv|tsv|parquet|arrow|txt)\b", path.read_text(encoding="utf-8"))
        candidates = sorted(path.parent.iterdir()) + [path.parent / n for n in named] + [Path(n) for n in named]
        for other in candidates:
            other = other.expanduser()
            if other.is_file() and other != path:
                digest.update(str(other.name).encode())
                digest.update(other.read_bytes())
    return digest.hexdigest()


def _weightless(base: LoadedModel, tuned: LoadedModel) -> list[LoadedModel]:
    """The channels of the pair that change no weight: a proxy, or a retrieval channel over the
    other model's own weights. A retrieval channel over weights of its own (``tune --method
    split``) is read through those weights."""
    return [
        m
        for m, other in ((base, tuned), (tuned, base))
        if m.kind == "proxy" or (m.kind == "retrieval" and _same_weights(m, other))
    ]


def _not_applicable(spec: ProbeSpec, weightless: Sequence[LoadedModel]) -> str:
    """Why ``spec`` cannot run on this pair ('' when it can): a probe that reads weights or
    attention has nothing to read in a channel that changes no weight (``_weightless``)."""
    if not spec.needs_weights or not weightless:
        return ""
    which = weightless[0]
    return (
        f"does not apply: {which.ref} is a {which.kind} channel, which changes no weight, and this probe "
        f"reads {spec.needs_weights}; audit a weight fine-tune to see where a change sits"
    )


def _same_weights(a: LoadedModel, b: LoadedModel) -> bool:
    """Whether two loaded models hold the same parameters (names, shapes and values)."""
    import torch

    if a.model is b.model:
        return True
    pa, pb = dict(a.model.named_parameters()), dict(b.model.named_parameters())
    if pa.keys() != pb.keys():
        return False
    with torch.no_grad():
        return all(
            pa[k] is pb[k] or (pa[k].shape == pb[k].shape and bool(torch.equal(pa[k], pb[k].to(pa[k].device))))
            for k in pa
        )


def _budget_counts(spec: ProbeSpec, result: ProbeResult) -> None:
    """Each declared metric's item count at every budget, so the report can say which budget
    would settle an inconclusive verdict."""
    for metric in result.metrics:
        decl = spec.declaration(metric.name)
        if decl is not None:
            metric.n_at_budget = spec.items_at_budgets(decl)


def _finish(results: AuditResults, started: float) -> None:
    apply_verdicts(results.metrics(), alpha=results.alpha)
    results.summary = summarise(results)
    results.seconds = round(time.perf_counter() - started, 2)
    results.created = datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["audit", "default_probes"]
