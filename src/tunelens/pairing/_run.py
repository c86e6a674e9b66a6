"""``paired``: verdicts on two models' per-sample logs from lm-evaluation-harness or inspect_ai."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from tunelens._version import __version__
from tunelens.errors import TunelensError, UsageError
from tunelens.outdir import prepare_out_dir
from tunelens.pairing import _inspect, _lm_eval
from tunelens.pairing._build import TaskBuilder
from tunelens.pairing._logs import SideLogs, Source, TaskLog
from tunelens.report import write_report
from tunelens.results import AuditResults, ModelInfo, save_items, save_results
from tunelens.stats import apply_verdicts
from tunelens.summary import summarise

KINDS: dict[str, str] = {"lm-eval": "lm-eval log", "inspect": "inspect log"}
NAMES: dict[str, str] = {"lm-eval": "lm-evaluation-harness", "inspect": "inspect_ai"}
EXAMPLES = 3


def _is_lm_eval_results(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "results" in data and "configs" in data


def _looks_like_inspect_json(path: Path) -> bool:
    """An inspect_ai JSON log opens with its version, status and eval header."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    return '"eval"' in head and '"status"' in head


def detect(path: Path, role: str) -> Source:
    """Which tool wrote the log(s) at ``path``: lm-eval's samples_*.jsonl or inspect's .eval/.json logs."""
    if not path.exists():
        raise TunelensError(f"{role} {path} does not exist; give an lm-eval samples file or folder, or inspect logs")
    if path.is_file():
        if path.suffix == ".jsonl":
            return "lm-eval"
        if path.suffix == ".eval":
            return "inspect"
        if path.suffix == ".json":
            if _is_lm_eval_results(path):
                raise TunelensError(
                    f"{role} {path} is lm-eval's aggregated results, which hold no per-item outcomes; give the "
                    "samples_<task>_<time>.jsonl beside it (written with --log_samples) or their folder"
                )
            if _looks_like_inspect_json(path):
                return "inspect"
        raise TunelensError(
            f"{role} {path} is not a log tunelens reads: lm-eval's samples_<task>_<time>.jsonl (--log_samples) or "
            "inspect_ai's .eval or .json logs"
        )
    lm = bool(_lm_eval.find_samples(path))
    ins = bool(_inspect.find_logs(path))
    if lm and ins:
        raise TunelensError(
            f"{role} {path} holds both lm-eval samples and inspect_ai logs; point at a folder of one tool's logs"
        )
    if lm:
        return "lm-eval"
    if ins:
        return "inspect"
    if any(_is_lm_eval_results(p) for p in path.rglob("*.json")):
        raise TunelensError(
            f"{role} {path} holds lm-eval's aggregated results but no per-sample logs; rerun lm-eval with "
            "--log_samples (it writes samples_<task>_<time>.jsonl beside results_<time>.json)"
        )
    raise TunelensError(
        f"{role} {path}: no per-sample logs found: lm-eval writes samples_<task>_<time>.jsonl with --log_samples "
        "--output_path; inspect_ai writes .eval (or .json) logs in its log folder"
    )


def _read(path: Path, source: Source, role: str, progress: Callable[[str], None]) -> SideLogs:
    reader = _lm_eval.read_side if source == "lm-eval" else _inspect.read_side
    side = reader(path, role, progress)
    models = sorted({t.model for t in side.tasks.values()})
    if len(models) > 1:
        which = "; ".join(f"{t.task}: {t.model}" for t in side.tasks.values())
        raise TunelensError(f"{role} {path} holds logs of several models ({which}); point at the logs of one model")
    return side


def _examples(keys: set[str], order: Mapping[str, float]) -> str:
    chosen = sorted(keys, key=lambda k: order.get(k, 0.0))[:EXAMPLES]
    return ", ".join(chosen) + (", \u2026" if len(keys) > EXAMPLES else "")


def _pairing_problems(a: SideLogs, b: SideLogs) -> list[str]:
    """Tasks on one side only, and tasks whose item sets differ, each in words."""
    problems = []
    only_a, only_b = sorted(set(a.tasks) - set(b.tasks)), sorted(set(b.tasks) - set(a.tasks))
    if only_a:
        problems.append(f"tasks only in the base logs: {', '.join(only_a)}")
    if only_b:
        problems.append(f"tasks only in the tuned logs: {', '.join(only_b)}")
    word = "doc_id" if a.source == "lm-eval" else "sample id"
    for task in sorted(set(a.tasks) & set(b.tasks)):
        ta, tb = a.tasks[task], b.tasks[task]
        ka, kb = set(ta.items), set(tb.items)
        if ka != kb:
            text = f"task {task}: the base log has {len(ka)} items, the tuned log {len(kb)}, and {len(ka & kb)} pair"
            order = {**{k: i.order for k, i in tb.items.items()}, **{k: i.order for k, i in ta.items.items()}}
            if ka - kb:
                text += f"; {len(ka - kb)} only in base ({word} {_examples(ka - kb, order)})"
            if kb - ka:
                text += f"; {len(kb - ka)} only in tuned ({word} {_examples(kb - ka, order)})"
            problems.append(text)
        if a.source == "lm-eval":
            differ = _lm_eval.filters_differ(ta, tb)
            if differ:
                problems.append(differ)
    return problems


def _mismatch(task: str, a: TaskLog, b: TaskLog) -> str:
    """Paired items that were not given the same input on both sides, in words ('' when none)."""
    differing: list[str] = []
    kinds: set[str] = set()
    for key in a.items:
        fa, fb = a.items[key].fingerprint, b.items[key].fingerprint
        if fa != fb:
            differing.append(key)
            kinds |= {k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k)}
    if not differing:
        return ""
    example = sorted(differing, key=lambda k: a.items[k].order)[0]
    if a.source == "lm-eval":
        what = ", ".join(sorted(kinds))
        return (
            f"task {task}: {len(differing)} of {len(a.items)} paired documents differ between the two logs ({what}; "
            f"e.g. doc_id {example}), so the models were not given the same prompts: likely "
            f"{_lm_eval.hashes_explained(kinds, a, b)}. Rerun both with the same task configuration"
        )
    what = " and ".join(sorted(kinds))
    return (
        f"task {task}: {len(differing)} of {len(a.items)} paired samples have another {what} in the two logs "
        f"(e.g. id {example}): the logs ran on other data, or ids given by position met another order (a shuffle, "
        "another dataset version). Give the samples ids, or rerun both on the same dataset"
    )


def _check_margins(margins: Mapping[str, float], a: SideLogs) -> None:
    known = {f"{t.task}.{m.name}" for t in a.tasks.values() for m in t.metrics}
    unknown = sorted(set(margins) - known)
    if unknown:
        raise UsageError(
            f"margins for metrics the logs do not have: {', '.join(unknown)}; the logs have: {', '.join(sorted(known))}"
        )
    bad = sorted(k for k, v in margins.items() if not v > 0)
    if bad:
        raise UsageError(f"a margin must be positive: {', '.join(bad)}")


def _model_info(side: SideLogs, given: Path) -> ModelInfo:
    return ModelInfo(ref=side.model, kind=KINDS[side.source], source=str(given))


def paired(
    base: str | Path,
    tuned: str | Path,
    *,
    out_dir: str | Path = "tunelens-paired",
    alpha: float = 0.05,
    seed: int = 0,
    margins: Mapping[str, float] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> AuditResults:
    """Paired verdicts on two models' per-sample logs of the same evaluation, item by item.

    ``base`` and ``tuned`` are lm-evaluation-harness samples (a ``samples_<task>_<time>.jsonl``
    written with ``--log_samples``, or a folder holding them) or inspect_ai logs (a ``.eval`` or
    ``.json`` log, or a folder of them). Items are paired by task and id (lm-eval's filter and
    ``doc_id``, inspect's sample id, a sample's epochs averaged first); a task on one side only,
    item sets that differ, or paired items given other prompts are refused with an error that
    says so. Each task becomes a probe of the results, its first metric the headline: binary
    outcomes take the exact McNemar test, other per-item scores the paired t-test (or exact
    sign-flip), corpus-level metrics (BLEU, chrF, TER, a corpus F1) the paired bootstrap of
    the aggregate (Koehn 2004); every metric of every task is corrected together (Holm over the
    headlines, weighted Benjamini-Hochberg over all), at ``alpha``. ``margins`` maps
    ``"task.metric"`` to a margin of equivalence in the metric's unit.

    Writes ``results.json`` and ``report.html`` in ``out_dir`` and returns the results."""
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must lie between 0 and 1, not {alpha}")
    started = time.perf_counter()
    base_path, tuned_path = Path(base), Path(tuned)
    source = detect(base_path, "base")
    other = detect(tuned_path, "tuned")
    if other != source:
        raise TunelensError(
            f"base {base_path} holds {NAMES[source]} logs and tuned {tuned_path} {NAMES[other]} logs; pair the same "
            "evaluation run by the same tool on both models"
        )
    out = prepare_out_dir(out_dir)
    a = _read(base_path, source, "base", progress)
    b = _read(tuned_path, source, "tuned", progress)
    problems = _pairing_problems(a, b)
    if problems:
        hint = (
            "run both models on the same tasks with the same --limit (or --samples)"
            if source == "lm-eval"
            else "run both models on the same tasks and samples (the same --limit, --sample-id and dataset)"
        )
        raise TunelensError(f"the two logs do not pair: {'; '.join(problems)}. {hint.capitalize()}")
    mismatches = [m for task in sorted(a.tasks) if (m := _mismatch(task, a.tasks[task], b.tasks[task]))]
    if mismatches:
        raise TunelensError("; ".join(mismatches))
    margins = dict(margins or {})
    _check_margins(margins, a)
    probes = []
    for task in sorted(a.tasks):
        progress(f"pairing {task}")
        t0 = time.perf_counter()
        result = TaskBuilder(task, a.tasks[task], b.tasks[task], seed, margins).result()
        result.seconds = round(time.perf_counter() - t0, 2)
        probes.append(result)
    results = AuditResults(
        tunelens_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seed=seed,
        alpha=alpha,
        base=_model_info(a, base_path),
        tuned=_model_info(b, tuned_path),
        probes=probes,
        source=source,
    )
    apply_verdicts(results.metrics(), alpha=alpha)
    results.summary = summarise(results)
    results.seconds = round(time.perf_counter() - started, 2)
    save_results(results, out / "results.json")
    save_items(results, out / "items.jsonl")
    write_report(results, out / "report.html")
    return results
