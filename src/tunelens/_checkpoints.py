"""Audit every checkpoint of a training run against one base, and draw the trajectory.

    from tunelens import audit_checkpoints
    trajectory = audit_checkpoints("embedded:smollm2-135m-instruct", run_dir="runs/lora", out_dir="runs/traj")

Some changes are only visible across checkpoints: context reliance under knowledge conflict
rises and then falls within the first epoch of instruction tuning while accuracy keeps rising
(Goyal et al. 2024), which an audit of the last checkpoint alone cannot see.

Each checkpoint is audited against the base (``OUT/step-N/results.json`` and report.html).
The base's side of every probe is computed once: the base answers through a memo kept in the
results cache by its fingerprint, probe settings, seed and task, so the second and later
checkpoints replay what the base was asked and run only what depends on the checkpoint (its
replies scored by the base, the items both models answer; locality's activation comparison,
which reads both models position by position). Each probe's notes say how much was replayed.

Testing many checkpoints multiplies the tests, so every verdict is corrected over all of them
at once: Holm over the headline metrics of every checkpoint, a weighted Benjamini-Hochberg
procedure over every metric (``tunelens.stats.apply_verdicts`` on the union). ``trajectory.json``
and ``trajectory.html`` give each headline metric over the steps with its paired interval and
the first checkpoint whose verdict is ``changed``.

With ``ray`` (``"local"`` or a cluster's address) each checkpoint's audit runs as a Ray task;
the first checkpoint runs before the others so the base's memo is in the cache when they start,
and every number equals the serial run's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tunelens._audit import audit
from tunelens._version import __version__
from tunelens.data import TaskSpec
from tunelens.errors import TunelensError, UsageError
from tunelens.models import LoadedModel, LoadOptions, load_model, parse_ref
from tunelens.outdir import atomic_write_text, prepare_out_dir
from tunelens.probes import PROBES
from tunelens.report import write_report, write_trajectory_report
from tunelens.results import (
    AuditResults,
    CheckpointInfo,
    Trajectory,
    TrajectoryMetric,
    TrajectoryPoint,
    save_results,
)
from tunelens.stats import apply_verdicts
from tunelens.summary import summarise

_STEP_DIR = re.compile(r"^(?:checkpoint|step|ckpt)[-_]?(\d+)$")
_MODEL_FILES = ("adapter_config.json", "config.json", "svf.safetensors", "tunelens.json")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a run: its model reference and the optimizer step it was saved at."""

    ref: str
    step: int | None

    @property
    def folder(self) -> str:
        """The name of its audit folder."""
        if self.step is not None:
            return f"step-{self.step:06d}"
        return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(self.ref).name or self.ref)[:80]


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in _MODEL_FILES)


def step_of(path: Path) -> int | None:
    """The optimizer step a checkpoint folder was saved at: trainer_state.json's global_step
    (Hugging Face Trainer, TRL), else the number in its name (checkpoint-500), else None."""
    state = path / "trainer_state.json"
    if state.is_file():
        try:
            step = json.loads(state.read_text(encoding="utf-8")).get("global_step")
            if isinstance(step, int):
                return step
        except (OSError, ValueError):
            pass
    match = _STEP_DIR.match(path.name)
    return int(match.group(1)) if match else None


def find_checkpoints(run_dir: str | Path) -> list[Checkpoint]:
    """The checkpoints a run directory holds, ordered by step: the ``checkpoint-STEP`` folders a
    Hugging Face Trainer, TRL or ``tunelens tune --save-every`` writes, and the final model of a
    tunelens run (named by its training.json) or a model saved at the run's top level. The
    checkpoints of a ``tune --method split`` run come as ``retrieval:CHECKPOINT@FACTS``, each
    served with the run's fact sheet as the final one is."""
    run = Path(run_dir)
    if not run.is_dir():
        raise TunelensError(f"--checkpoints {run_dir}: no such directory")
    found: dict[str, Checkpoint] = {}
    for child in sorted(run.iterdir()):
        if _STEP_DIR.match(child.name) and _is_model_dir(child):
            found[str(child)] = Checkpoint(str(child), step_of(child))
    training = _training_json(run)
    final = _final_checkpoint(run, training)
    if final is not None and final.ref not in found and final.step not in {c.step for c in found.values()}:
        found[final.ref] = final
    if not found:
        raise TunelensError(
            f"no checkpoints in {run_dir}: expected folders named checkpoint-STEP holding a model or adapter "
            "(as a Hugging Face Trainer, TRL or `tunelens tune --save-every N` writes them), or a tunelens run "
            "with its training.json; or list the checkpoints yourself: tunelens audit BASE CKPT1 CKPT2 ..."
        )
    ordered = sorted(found.values(), key=lambda c: (c.step is None, c.step or 0, c.ref))
    sheet = _split_sheet(training)
    if sheet is not None:  # a split run serves its weights with its fact sheet retrieved
        ordered = [Checkpoint(f"retrieval:{c.ref}@{sheet}", c.step) for c in ordered]
    return ordered


def _training_json(run: Path) -> dict:
    """A tunelens run's training.json as read ({} when there is none or it does not parse)."""
    try:
        raw = json.loads((run / "training.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _split_sheet(training: dict) -> Path | None:
    """The fact sheet of a ``tune --method split`` run (its training.json names it), or None."""
    options = training.get("method_options")
    facts = options.get("facts_file") if isinstance(options, dict) else None
    path = Path(facts) if isinstance(facts, str) and facts else None
    return path.resolve() if path is not None and path.is_file() else None


def _final_checkpoint(run: Path, training: dict) -> Checkpoint | None:
    if training:
        try:
            target = Path(training["checkpoint"])
            target = target if target.is_dir() else run / target.name
            if _is_model_dir(target):
                return Checkpoint(str(target), int(training["steps"]))
        except (KeyError, TypeError, ValueError):
            pass
    if _is_model_dir(run):
        return Checkpoint(str(run), step_of(run))
    return None


def order_checkpoints(refs: Sequence[str]) -> tuple[list[Checkpoint], str]:
    """Checkpoints given one by one, ordered by step when every one has a step (from its folder),
    else in the order given; and a note saying which."""
    checkpoints = []
    for ref in refs:
        parsed = parse_ref(ref)
        path = Path(parsed.target) if parsed.kind in ("directory", "adapter", "svf") else None
        checkpoints.append(Checkpoint(ref, step_of(path) if path is not None else None))
    if len({c.ref for c in checkpoints}) != len(checkpoints):
        raise UsageError("a checkpoint is listed twice")
    if all(c.step is not None for c in checkpoints):
        steps = [c.step for c in checkpoints]
        if len(set(steps)) != len(steps):
            raise UsageError(f"two checkpoints have the same step ({sorted(steps)}); give each run's checkpoints apart")
        return sorted(checkpoints, key=lambda c: c.step or 0), "ordered by step (from each checkpoint's folder)"
    return checkpoints, "in the order given (not every checkpoint's step is known)"


def audit_checkpoints(
    base: str,
    checkpoints: Sequence[str] | None = None,
    *,
    run_dir: str | Path | None = None,
    out_dir: str | Path = "tunelens-out",
    probes: Sequence[str] | None = None,
    task: TaskSpec | None = None,
    data: str | Path | None = None,
    suite: str | Path | None = None,
    seed: int = 0,
    quick: bool = False,
    budget: str | None = None,
    probe_budgets: dict[str, str] | None = None,
    margins: dict[str, float] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    options: LoadOptions = LoadOptions(),
    fresh: bool = False,
    cache: bool = True,
    ray: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Trajectory:
    """Audit each checkpoint (``checkpoints``, or every checkpoint in ``run_dir``) against
    ``base``; write ``OUT/<step>/`` per checkpoint and ``OUT/trajectory.json`` + ``trajectory.html``.

    Options are :func:`tunelens.audit`'s. ``ray``: ``"local"`` starts a local Ray cluster,
    anything else is an existing cluster's address; each checkpoint's audit is a Ray task."""
    if (checkpoints is None) == (run_dir is None):
        raise UsageError("give the checkpoints or a run directory (--checkpoints RUN_DIR), not both")
    if run_dir is not None:
        chosen, order_note = find_checkpoints(run_dir), f"every checkpoint in {run_dir}, ordered by step"
    else:
        chosen, order_note = order_checkpoints(list(checkpoints or []))
    if not chosen:
        raise UsageError("no checkpoints to audit")
    parse_ref(base)
    for name in probes or ():
        if name not in PROBES:
            raise UsageError(f"unknown probe '{name}'; available: {', '.join(PROBES)}")
    started = time.perf_counter()
    out = prepare_out_dir(out_dir)
    if task is None and data is not None:
        from tunelens.triaging import derive_task_spec

        progress("deriving the task spec from the training data (once, for every checkpoint)")
        task = derive_task_spec(data, None, seed=seed).spec
        atomic_write_text(out / "task.json", json.dumps(task.to_dict(), indent=1))
    folders = _folders(chosen)
    shared = dict(
        probes=probes,
        task=task,
        suite=suite,
        seed=seed,
        quick=quick,
        budget=budget,
        probe_budgets=probe_budgets,
        margins=margins,
        overrides=overrides,
        options=options,
        fresh=fresh,
    )
    if ray is not None:
        from tunelens._ray import audit_on_ray

        if not cache:
            raise UsageError("--ray shares the base's side through the results cache; it cannot run without it")
        infos = [checkpoint_info(i, chosen, None) for i in range(len(chosen))]
        results = audit_on_ray(base, chosen, infos, folders, out, shared, ray, progress)
        executor = f"ray ({ray})"
    else:
        results = _audit_serially(base, chosen, folders, out, shared, cache, progress)
        executor = "serial"
    trajectory = _correct_and_write(base, chosen, folders, results, out, run_dir, order_note, executor, started)
    progress(f"trajectory of {len(chosen)} checkpoints written to {out / 'trajectory.html'}")
    return trajectory


def _folders(chosen: Sequence[Checkpoint]) -> list[str]:
    names: list[str] = []
    for i, c in enumerate(chosen, start=1):
        name = c.folder
        names.append(name if name not in names else f"{name}-{i}")
    return names


def checkpoint_info(index: int, chosen: Sequence[Checkpoint], run_dir: str | Path | None) -> CheckpointInfo:
    return CheckpointInfo(
        step=chosen[index].step,
        index=index + 1,
        of=len(chosen),
        run=str(run_dir or ""),
        corrected_over=len(chosen),
    )


def _audit_serially(
    base: str,
    chosen: Sequence[Checkpoint],
    folders: Sequence[str],
    out: Path,
    shared: dict[str, Any],
    cache: bool,
    progress: Callable[[str], None],
) -> list[AuditResults]:
    """One checkpoint after another, the base loaded once and its memos kept in memory too."""
    options: LoadOptions = shared["options"]
    base_model: LoadedModel = load_model(base, options)
    memos: dict = {}
    results = []
    for i, c in enumerate(chosen):
        progress(f"checkpoint {i + 1} of {len(chosen)}: {c.ref}" + (f" (step {c.step})" if c.step is not None else ""))
        results.append(
            audit(
                base_model,
                c.ref,
                out_dir=out / folders[i],
                cache=cache,
                memos=memos,
                checkpoint=checkpoint_info(i, chosen, None),
                report=False,
                progress=progress,
                **shared,
            )
        )
    return results


def _correct_and_write(
    base: str,
    chosen: Sequence[Checkpoint],
    folders: Sequence[str],
    results: list[AuditResults],
    out: Path,
    run_dir: str | Path | None,
    order_note: str,
    executor: str,
    started: float,
) -> Trajectory:
    alpha = results[0].alpha
    apply_verdicts([m for r in results for m in r.metrics()], alpha=alpha)
    for i, r in enumerate(results):
        r.checkpoint = checkpoint_info(i, chosen, run_dir)
        r.summary = summarise(r)
        save_results(r, out / folders[i] / "results.json")
        write_report(r, out / folders[i] / "report.html")
    n_head = sum(1 for r in results for m in r.metrics() if m.headline and m.p_adjusted is not None)
    correction = (
        f"Every verdict is corrected over all {len(results)} checkpoints together: Holm over the {n_head} tested "
        f"headline metrics of every checkpoint (family-wise error {alpha:g}), a weighted Benjamini-Hochberg "
        "procedure over every metric; so a change must hold up against the number of checkpoints tested."
    )
    trajectory = Trajectory(
        tunelens_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        base=results[0].base,
        run=str(run_dir or ""),
        checkpoints=[c.ref for c in chosen],
        steps=[c.step for c in chosen],
        folders=folders,
        alpha=alpha,
        correction=correction,
        metrics=_trajectory_metrics(chosen, results),
        notes=[
            f"Checkpoints: {order_note}.",
            "The base's side of every probe ran once and was replayed for the later checkpoints, except what "
            "depends on the checkpoint (its replies scored by the base, the items both models answer, "
            "locality's activation comparison); each probe's notes say how much.",
        ],
        seconds=round(time.perf_counter() - started, 2),
        executor=executor,
    )
    atomic_write_text(out / "trajectory.json", trajectory.model_dump_json(indent=1))
    write_trajectory_report(trajectory, out / "trajectory.html")
    return trajectory


def _trajectory_metrics(chosen: Sequence[Checkpoint], results: Sequence[AuditResults]) -> list[TrajectoryMetric]:
    rows: dict[tuple[str, str], TrajectoryMetric] = {}
    for i, r in enumerate(results):
        for probe in r.probes:
            for m in probe.metrics:
                if not m.headline:
                    continue
                key = (probe.name, m.name)
                if key not in rows:
                    rows[key] = TrajectoryMetric(
                        probe=probe.name,
                        name=m.name,
                        label=m.label,
                        unit=m.unit,
                        higher_is_better=m.higher_is_better,
                    )
                rows[key].points.append(
                    TrajectoryPoint(
                        step=chosen[i].step if chosen[i].step is not None else i + 1,
                        checkpoint=chosen[i].ref,
                        tuned=m.tuned,
                        base=m.base,
                        delta=m.delta,
                        ci_low=m.ci_low,
                        ci_high=m.ci_high,
                        p_adjusted=m.p_adjusted,
                        verdict=m.verdict,
                        n=m.n,
                    )
                )
    for row in rows.values():
        row.first_changed = next((p.step for p in row.points if p.verdict == "changed"), None)
    return list(rows.values())


__all__ = ["Checkpoint", "audit_checkpoints", "find_checkpoints", "order_checkpoints", "step_of"]
