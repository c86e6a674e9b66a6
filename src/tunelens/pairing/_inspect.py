"""Read inspect_ai eval logs (``.eval`` or ``.json``) with inspect_ai's own reader.

Each log is one task run on one model (``eval.task``, ``eval.model``). A sample run for
several epochs appears once per epoch: the epochs repeat an item, they are not new items,
so a sample's scores are averaged over its epochs first (inspect's default reducer, the
mean) and the sample counts once. Scores become numbers with inspect's own
``value_to_float`` ("C" 1, "I" 0, "P" 0.5, "N" 0, numbers as they are); a scorer whose
values are dicts gives one metric per key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.pairing._logs import LogItem, MetricSpec, SideLogs, TaskLog, clip

LOG_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}.*\.json$")
"""inspect's names for its JSON logs (its ``is_log_file``): a time stamp first."""

SKIP_FIELDS = {"events", "attachments", "store", "messages"}
"""Sample fields not read from a .eval log (not needed for the pairing, and the bulk of the file)."""


def is_log_file(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".eval" or bool(LOG_NAME.match(path.name)))


def find_logs(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if is_log_file(p))


def _inspect() -> Any:
    try:
        import inspect_ai.log as log
        import inspect_ai.scorer as scorer
    except ImportError:
        raise TunelensError(
            "reading inspect_ai logs needs inspect_ai: pip install 'tunelens[inspect]' (or inspect-ai)"
        ) from None
    return log, scorer


def _read(path: Path, header_only: bool = False) -> Any:
    log_mod, _ = _inspect()
    try:
        if header_only:
            return log_mod.read_eval_log(str(path), header_only=True)
        try:
            return log_mod.read_eval_log(str(path), exclude_fields=SKIP_FIELDS)
        except TypeError:  # an inspect_ai without exclude_fields
            return log_mod.read_eval_log(str(path))
    except TunelensError:
        raise
    except Exception as exc:  # noqa: BLE001 - inspect raises many kinds on a file that is not a log
        raise TunelensError(f"{path} could not be read as an inspect_ai log: {exc}") from None


def _text(value: Any) -> str:
    """A sample's input (a string or chat messages) or target (a string or a list) as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            else:
                text = getattr(part, "text", None)
                role = getattr(part, "role", None)
                shown = text if text is not None else part
                parts.append(f"{role}: {shown}" if role else str(shown))
        return "\n".join(parts) if all(not isinstance(p, str) for p in value) else " | ".join(parts)
    return "" if value is None else str(value)


def _number(to_float: Callable[[Any], float], value: Any) -> float | None:
    try:
        x = float(to_float(value))
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def read_task(path: Path, log: Any, progress: Callable[[str], None]) -> TaskLog:
    """One log's samples as a :class:`TaskLog`, each sample's epochs averaged."""
    _, scorer_mod = _inspect()
    to_float = scorer_mod.value_to_float()
    task = str(log.eval.task)
    samples = list(log.samples or [])
    notes: list[str] = []
    if log.status != "success":
        notes.append(f"{path.name}: inspect recorded the run as '{log.status}', not 'success'.")
    if not samples:
        raise TunelensError(f"{path}: the log holds no samples (status '{log.status}'); rerun the task")
    failed = [s for s in samples if s.error is not None and not s.scores]
    if failed:
        ids = ", ".join(str(s.id) for s in failed[:5])
        raise TunelensError(
            f"{path}: {len(failed)} sample run(s) of task {task} ended in an error without a score (ids {ids}); "
            "rerun them (inspect eval-retry) so both models are scored on every item"
        )
    order: list[str] = []  # metric names in order of first appearance: the first is primary
    scorers: dict[str, str] = {}  # metric name -> scorer
    strings: set[str] = set()
    per_sample: dict[str, dict[str, list[float]]] = {}
    items: dict[str, LogItem] = {}
    epochs: dict[str, int] = {}
    missing: dict[str, int] = {}
    lists: set[str] = set()
    # The dataset's order (the log holds samples by epoch and id); the log's own order without it.
    dataset_ids = getattr(log.eval.dataset, "sample_ids", None) or []
    rank = {str(i): float(n) for n, i in enumerate(dataset_ids)}
    for position, sample in enumerate(samples):
        key = str(sample.id)
        epochs[key] = epochs.get(key, 0) + 1
        if key not in items:
            items[key] = LogItem(
                key=key,
                order=rank.get(key, len(rank) + float(position)),
                input=clip(_text(sample.input)) or "",
                expected=_text(sample.target),
                output=sample.output.completion if sample.output is not None else None,
                fingerprint={"input": _text(sample.input), "target": _text(sample.target)},
            )
            per_sample[key] = {}
        for name, score in (sample.scores or {}).items():
            value = score.value
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, v in entries:
                metric = name if sub is None else f"{name}.{sub}"
                if isinstance(v, (list, tuple)):
                    lists.add(metric)
                    continue
                if metric not in scorers:
                    order.append(metric)
                    scorers[metric] = name
                if isinstance(v, (str, bool)):
                    strings.add(metric)
                x = _number(to_float, v)
                if x is None:
                    missing[metric] = missing.get(metric, 0) + 1
                    continue
                per_sample[key].setdefault(metric, []).append(x)
    for metric in sorted(lists):
        notes.append(f"{metric} is left out: its scores are lists, which have no single value per sample.")
    for metric, count in sorted(missing.items()):
        notes.append(f"{metric}: {count} sample run(s) gave no number (unscored); averaged over the other epochs.")
    for key, by_metric in per_sample.items():
        for metric, values in by_metric.items():
            items[key].values[metric] = sum(values) / len(values)
    counts = sorted(set(epochs.values()))
    n_epochs = counts[-1] if counts else 1
    if len(counts) > 1:
        runs = ", ".join(map(str, counts))
        notes.append(f"{path.name}: samples ran for {runs} epochs; each is averaged over its own.")
    reducer = getattr(log.eval.config, "epochs_reducer", None)
    if n_epochs > 1 and reducer and list(reducer) != ["mean"]:
        notes.append(
            f"{path.name}: inspect reduced the {n_epochs} epochs with {', '.join(reducer)}; tunelens averages them "
            "(an epoch repeats an item: the paired tests count each sample once)."
        )
    metrics = []
    for metric in order:
        scorer = scorers[metric]
        sub = metric[len(scorer) + 1 :] if metric != scorer else ""
        values = [x for item in items.values() if (x := item.values.get(metric)) is not None]
        unit_scale = all(0.0 <= x <= 1.0 for x in values)
        metrics.append(
            MetricSpec(
                name=metric,
                label=f"{sub} ({scorer})" if sub else scorer,
                kind="per_item",
                # Inspect's graded values (C/I/P/N, yes/no) and scores in [0, 1] are better higher.
                higher_is_better=True if metric in strings or unit_scale else None,
                from_strings=metric in strings,
            )
        )
    for item in items.values():
        item.extra = {"epochs": epochs[item.key]} if n_epochs > 1 else {}
    info = {
        "log": str(path),
        "task_id": log.eval.task_id,
        "run_id": log.eval.run_id,
        "created": str(log.eval.created),
        "epochs": n_epochs,
        "status": log.status,
    }
    progress(f"read {len(items)} samples of {task} ({n_epochs} epoch{'s' * (n_epochs != 1)}) from {path.name}")
    return TaskLog(
        task=task,
        source="inspect",
        model=str(log.eval.model),
        path=path,
        items=items,
        metrics=metrics,
        notes=notes,
        info=info,
    )


def read_side(path: Path, role: str, progress: Callable[[str], None]) -> SideLogs:
    """Every task's log at ``path`` (a log file or a folder searched recursively); of several logs of
    one task, the newest, said in a note."""
    files = find_logs(path)
    if not files:
        raise TunelensError(
            f"{role} {path}: no inspect_ai logs (.eval, or .json named by inspect) found; point at inspect's log "
            "folder (--log-dir) or at one log"
        )
    headers: dict[str, list[tuple[str, Path, Any]]] = {}
    for f in files:
        progress(f"reading {f}")
        header = _read(f, header_only=True)
        headers.setdefault(str(header.eval.task), []).append((str(header.eval.created), f, header))
    notes: list[str] = []
    tasks: dict[str, TaskLog] = {}
    for task, runs in sorted(headers.items()):
        runs.sort(key=lambda r: (r[0], r[1].name))
        models = sorted({str(h.eval.model) for _, _, h in runs})
        if len(models) > 1:
            raise TunelensError(
                f"{role} {path} holds logs of task {task} by several models ({', '.join(models)}); point at the "
                "logs of one model"
            )
        _, newest, _ = runs[-1]
        log = read_task(newest, _read(newest), progress)
        if len(runs) > 1:
            note = (
                f"{len(runs)} logs of {task} under {path}; read the newest, {newest.name} "
                f"(the others: {', '.join(f.name for _, f, _ in runs[:-1])})."
            )
            log.notes.append(note)
            notes.append(note)
        tasks[task] = log
    return SideLogs(source="inspect", path=path, tasks=tasks, notes=notes)
