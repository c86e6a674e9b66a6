"""Read lm-evaluation-harness per-sample logs (``--log_samples``).

lm-eval writes, per model, ``<output_path>/<model_name_sanitized>/samples_<task>_<time>.jsonl``
(one line per document and filter: ``doc_id``, ``doc``, ``target``, ``arguments``,
``filtered_resps``, ``filter``, the per-sample metric values, and sha256 hashes of the
document, the prompt and the target) beside ``results_<time>.json`` (the aggregated results,
each task's config with its ``metric_list``, ``n-shot`` and the model's name). The two share
the ``<time>`` stamp (``EvaluationTracker.date_id``).

Each samples file becomes a :class:`TaskLog`: one item per ``doc_id``, one metric per
filter and per-sample metric (named ``acc`` under the ``none`` filter, ``exact_match,
strict-match`` under another, as lm-eval names its results), a per-item metric when its
values are numbers averaged by ``mean`` (or ``nanmean``), a corpus metric when lm-eval pools
per-sample records with another aggregation (BLEU's (reference, prediction) pairs).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.pairing._aggregates import (
    DEFAULT_AGGREGATIONS,
    PER_ITEM_AGGREGATIONS,
    registry_aggregation,
    registry_higher_is_better,
)
from tunelens.pairing._logs import LogItem, MetricSpec, SideLogs, TaskLog, clip

SAMPLES_FILE = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-:]+)\.jsonl$")
"""lm-eval's name for a task's samples: samples_<task>_<date_id>.jsonl."""

MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")
"""The model_args keys lm-eval names a model by, in its own order (GeneralConfigTracker)."""

HASHES = ("doc_hash", "prompt_hash", "target_hash")


def is_samples_file(path: Path) -> bool:
    return path.is_file() and path.suffix == ".jsonl" and path.name.startswith("samples_")


def find_samples(path: Path) -> list[Path]:
    """The samples files at ``path``: the file itself, or every samples_*.jsonl below a folder."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("samples_*.jsonl") if p.is_file())


def _task_and_date(path: Path) -> tuple[str, str]:
    match = SAMPLES_FILE.match(path.name)
    if match:
        return match["task"], match["date"]
    stem = path.stem.removeprefix("samples_")
    task, _, date = stem.rpartition("_")
    return (task, date) if task else (stem, "")


def _results_file(samples: Path, date: str) -> Path | None:
    """The aggregated results lm-eval wrote with these samples (same folder, same time stamp)."""
    if date:
        for candidate in sorted(samples.parent.glob(f"*_{date}.json")):
            if candidate.is_file():
                return candidate
    return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _model_name(results: dict[str, Any] | None, samples: Path) -> str:
    """The model's name: results_*.json's ``model_name``, else the model in its ``config.model_args``,
    else the folder lm-eval named after the model."""
    if results:
        if isinstance(results.get("model_name"), str) and results["model_name"]:
            return results["model_name"]
        config = results.get("config") or {}
        args = config.get("model_args")
        if isinstance(args, dict):
            for key in MODEL_ARG_KEYS:
                if args.get(key):
                    return str(args[key])
        elif isinstance(args, str):
            for key in MODEL_ARG_KEYS:
                found = re.search(rf"(?:^|,)\s*{key}=([^,]+)", args)
                if found:
                    return found[1].strip()
        if isinstance(config.get("model"), str) and config["model"]:
            return config["model"]
    return samples.parent.name


def _model_of(samples: Path, date: str) -> str | None:
    """The model a run's results file names (None without one: its folder says nothing more)."""
    found = _results_file(samples, date)
    data = _read_json(found) if found else None
    return _model_name(data, samples) if data else None


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TunelensError(
                        f"{path}:{number} is not a JSON line ({exc.msg}); is the file complete? lm-eval writes "
                        "one JSON object per line"
                    ) from None
                if not isinstance(row, dict) or "doc_id" not in row:
                    raise TunelensError(
                        f"{path}:{number} has no doc_id: not an lm-eval samples file (written by --log_samples)"
                    )
                rows.append(row)
    except OSError as exc:
        raise TunelensError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not rows:
        raise TunelensError(f"{path} holds no samples; rerun lm-eval with --log_samples")
    return rows


def _arguments(row: dict[str, Any]) -> list[list[Any]]:
    """The requests' arguments as lists: lm-eval writes {"gen_args_0": {"arg_0": ..., "arg_1": ...}}
    (older versions a list of lists)."""
    args = row.get("arguments")
    if isinstance(args, dict):

        def index(key: str) -> int:
            digits = re.sub(r"\D", "", key)
            return int(digits) if digits else 0

        out = []
        for key in sorted(args, key=index):
            value = args[key]
            out.append([value[k] for k in sorted(value, key=index)] if isinstance(value, dict) else [value])
        return out
    if isinstance(args, list):
        return [list(a) if isinstance(a, (list, tuple)) else [a] for a in args]
    return []


def _float(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _texts(row: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The prompt, the expected answer and the model's answer of one sample, as text."""
    args = _arguments(row)
    prompt = str(args[0][0]) if args and args[0] else json.dumps(row.get("doc"), ensure_ascii=False)
    target = row.get("target")
    expected = None if target is None else str(target)
    resps = row.get("filtered_resps")
    continuations = [a[1] for a in args if len(a) > 1 and isinstance(a[1], str)]
    output: str | None = None
    if isinstance(resps, list) and resps and all(isinstance(r, (list, tuple)) and len(r) == 2 for r in resps):
        # Log-likelihood requests: [log-likelihood, is_greedy] per continuation.
        lls = [_float(r[0]) for r in resps]
        if len(resps) > 1 and len(continuations) == len(resps) and all(v is not None for v in lls):
            best = max(range(len(lls)), key=lambda i: lls[i])  # type: ignore[arg-type, return-value]
            output = continuations[best].strip()
            if expected is not None and expected.strip().isdigit() and int(expected) < len(continuations):
                expected = continuations[int(expected)].strip()
        elif len(resps) == 1 and lls[0] is not None:
            output = f"log-likelihood {lls[0]:.3f}, greedy: {resps[0][1]}"
    elif isinstance(resps, list) and resps:
        parts = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in resps]
        output = parts[0] if len(parts) == 1 else " | ".join(parts)
    elif resps is not None:
        output = str(resps)
    return prompt, expected, output


def _fingerprint(row: dict[str, Any]) -> dict[str, str]:
    """What both models must have been given: lm-eval's hashes, or the document, arguments and target."""
    if all(isinstance(row.get(h), str) for h in HASHES):
        return {h: row[h] for h in HASHES}
    return {
        "doc": json.dumps(row.get("doc"), sort_keys=True, ensure_ascii=False, default=str),
        "arguments": json.dumps(row.get("arguments"), sort_keys=True, ensure_ascii=False, default=str),
        "target": str(row.get("target")),
    }


def _metric_order(rows: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The per-sample metrics in the task's order: its config's metric_list first (the first is
    primary), then any other the samples carry."""
    listed = [m.get("metric") for m in config.get("metric_list") or [] if isinstance(m, dict)]
    carried: list[str] = []
    for row in rows:
        for name in row.get("metrics") or []:
            if name not in carried:
                carried.append(name)
    if not carried:  # very old logs: every key that is not part of the sample's record
        known = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", *HASHES}
        carried = [k for k in rows[0] if k not in known]
    ordered = [m for m in listed if isinstance(m, str) and m in carried]
    return ordered + [m for m in carried if m not in ordered]


def _configured(config: dict[str, Any], metric: str, key: str) -> Any:
    for entry in config.get("metric_list") or []:
        if isinstance(entry, dict) and entry.get("metric") == metric and key in entry:
            return entry[key]
    return None


def _aggregation(config: dict[str, Any], metric: str) -> tuple[str | None, str]:
    """(aggregation name, '' or why it cannot be recomputed) for one metric."""
    configured = _configured(config, metric, "aggregation")
    if isinstance(configured, str) and configured:
        if configured.startswith("<"):  # a function lm-eval wrote as its repr: "<function agg at 0x...>"
            name = re.sub(r"^<function (\S+).*$", r"\1", configured)
            return None, f"its aggregation is the task's own function ({name}), which tunelens cannot call"
        return configured, ""
    if configured is not None:
        return None, f"its aggregation ({configured!r}) is not a name tunelens knows"
    default = registry_aggregation(metric)
    if default is None:
        default = DEFAULT_AGGREGATIONS.get(metric)
    return default, ""


def _higher_is_better(results: dict[str, Any] | None, config: dict[str, Any], task: str, metric: str) -> bool | None:
    value = _configured(config, metric, "higher_is_better")
    if value is None and results:
        value = ((results.get("higher_is_better") or {}).get(task) or {}).get(metric)
    if value is None:
        value = registry_higher_is_better(metric)
    return bool(value) if isinstance(value, bool) else None


def _kind(values: list[Any]) -> str:
    """'number' when every value is a number, a bool or missing; 'record' when one is a list (a
    corpus metric's per-sample record); 'other' otherwise."""
    if any(isinstance(v, (list, tuple)) for v in values):
        return "record"
    if all(v is None or isinstance(v, (int, float, bool)) for v in values):
        return "number"
    return "other"


def read_task(path: Path, progress: Callable[[str], None]) -> TaskLog:
    """One samples file as a :class:`TaskLog` (its results_*.json read for the model's name,
    the task's config and the values lm-eval reported)."""
    task, date = _task_and_date(path)
    progress(f"reading {path}")
    rows = _rows(path)
    results_path = _results_file(path, date)
    results = _read_json(results_path) if results_path else None
    config = ((results or {}).get("configs") or {}).get(task) or {}
    reported = ((results or {}).get("results") or {}).get(task) or {}
    filters: list[str] = []
    by_filter: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        flt = str(row.get("filter") or "none")
        if flt not in by_filter:
            filters.append(flt)
            by_filter[flt] = {}
        key = str(row["doc_id"])
        if key in by_filter[flt]:
            raise TunelensError(
                f"{path}: doc_id {key} appears twice under filter '{flt}'; a samples file holds each document "
                "once per filter (was the file appended to by two runs?)"
            )
        by_filter[flt][key] = row
    primary = by_filter[filters[0]]
    notes: list[str] = []
    items: dict[str, LogItem] = {}
    for key, row in primary.items():
        prompt, expected, output = _texts(row)
        order = float(row["doc_id"]) if isinstance(row["doc_id"], (int, float)) else float(len(items))
        items[key] = LogItem(
            key=key,
            order=order,
            input=clip(prompt) or "",
            expected=expected,
            output=output,
            fingerprint=_fingerprint(row),
            extra={"doc_id": row["doc_id"]} | ({"filter": filters[0]} if filters[0] != "none" else {}),
        )
    for flt in filters[1:]:
        missing = sorted(set(primary) ^ set(by_filter[flt]))
        if missing:
            raise TunelensError(
                f"{path}: filter '{flt}' covers other documents than filter '{filters[0]}' (e.g. doc_id "
                f"{missing[0]}); the file looks incomplete: rerun the task"
            )
    metrics: list[MetricSpec] = []
    for flt in filters:
        flt_rows = by_filter[flt]
        for metric in _metric_order(list(flt_rows.values()), config):
            name = metric if flt == "none" else f"{metric},{flt}"
            values = [row.get(metric) for row in flt_rows.values()]
            kind = _kind(values)
            aggregation, why = _aggregation(config, metric)
            if why:
                notes.append(f"{name} is left out: {why}.")
                continue
            if kind == "other":
                notes.append(f"{name} is left out: its per-sample values are neither numbers nor records.")
                continue
            if aggregation == "bypass":
                notes.append(f"{name} is left out: lm-eval does not aggregate it (aggregation 'bypass').")
                continue
            if kind == "number" and (aggregation is None or aggregation in PER_ITEM_AGGREGATIONS):
                if aggregation is None:
                    notes.append(
                        f"{name}: lm-eval's log names no aggregation for it; its per-item values are averaged."
                    )
                spec_kind = "per_item"
            else:
                if aggregation is None:
                    notes.append(
                        f"{name} is left out: its per-sample values are records and the log names no aggregation "
                        "that pools them."
                    )
                    continue
                spec_kind = "corpus"
            for key, row in flt_rows.items():
                items[key].values[name] = row.get(metric)
            metrics.append(
                MetricSpec(
                    name=name,
                    label=metric,
                    kind=spec_kind,  # type: ignore[arg-type]
                    aggregation=aggregation or "mean",
                    higher_is_better=_higher_is_better(results, config, task, metric),
                    group=None if flt == "none" else flt,
                    reported=_float(reported.get(f"{metric},{flt}")),
                )
            )
    n_shot = ((results or {}).get("n-shot") or {}).get(task, config.get("num_fewshot"))
    info: dict[str, Any] = {
        "samples_file": str(path),
        "results_file": str(results_path) if results_path else None,
        "filters": filters,
        "num_fewshot": n_shot,
        "output_type": config.get("output_type"),
    }
    if results_path is None:
        notes.append(
            f"{path.name}: no results_{date or '<time>'}.json beside it; the model's name is its folder's and the "
            "metrics' directions and aggregations are lm-eval's defaults."
        )
    return TaskLog(
        task=task,
        source="lm-eval",
        model=_model_name(results, path),
        path=path,
        items=items,
        metrics=metrics,
        notes=notes,
        info=info,
    )


def read_side(path: Path, role: str, progress: Callable[[str], None]) -> SideLogs:
    """Every task's samples at ``path`` (a samples file or a folder searched recursively); of
    several runs of one task, the newest, said in a note."""
    files = find_samples(path)
    if not files:
        raise TunelensError(
            f"{role} {path}: no lm-eval samples (samples_<task>_<time>.jsonl) found; run lm-eval with --log_samples "
            "and --output_path, and point at that folder"
        )
    by_task: dict[str, list[tuple[str, Path]]] = {}
    for f in files:
        task, date = _task_and_date(f)
        by_task.setdefault(task, []).append((date, f))
    notes: list[str] = []
    tasks: dict[str, TaskLog] = {}
    for task, runs in sorted(by_task.items()):
        runs.sort()
        date, newest = runs[-1]
        log = read_task(newest, progress)
        if len(runs) > 1:
            named = [_model_of(f, d) for d, f in runs]
            models = sorted({m for m in named if m is not None})
            if len(models) > 1:
                raise TunelensError(
                    f"{role} {path} holds runs of task {task} by several models ({', '.join(models)}); point at one "
                    "model's folder (lm-eval writes <output_path>/<model_name>/)"
                )
            note = (
                f"{len(runs)} runs of {task} under {path}; read the newest, {newest.name} "
                f"(the others: {', '.join(f.name for _, f in runs[:-1])})."
            )
            log.notes.append(note)
            notes.append(note)
        tasks[task] = log
    return SideLogs(source="lm-eval", path=path, tasks=tasks, notes=notes)


def hashes_explained(differing: set[str], a: TaskLog, b: TaskLog) -> str:
    """The likely cause of paired documents whose hashes (or arguments) differ."""
    causes = []
    shots = (a.info.get("num_fewshot"), b.info.get("num_fewshot"))
    if shots[0] is not None and shots[1] is not None and shots[0] != shots[1]:
        causes.append(f"another few-shot setting (base {shots[0]}-shot, tuned {shots[1]}-shot)")
    if "prompt_hash" in differing or "arguments" in differing:
        if not causes:
            causes.append("another few-shot setting or few-shot seed")
        causes.append("another prompt template, chat template or system instruction")
    if "doc_hash" in differing or "doc" in differing:
        causes.append("another dataset version, split or process_docs")
    if "target_hash" in differing or "target" in differing:
        causes.append("another doc_to_target")
    return "; ".join(causes) or "another task configuration"


def filters_differ(a: TaskLog, b: TaskLog) -> str:
    fa, fb = a.info.get("filters") or [], b.info.get("filters") or []
    if fa == fb:
        return ""
    return (
        f"task {a.task}: the base log has filters {', '.join(fa)}, the tuned log {', '.join(fb)}: the two runs used "
        "another filter configuration (filter_list); rerun both with the same task config"
    )
