"""``tunelens.lm_eval``: run lm-eval tasks on a base and a tuned model, then compare them paired.

Each side runs through lm-eval itself (``lm_eval.simple_evaluate`` with a ``TunelensLM``,
``log_samples=True``) and its results and per-sample logs are written by lm-eval's own
``EvaluationTracker``, exactly as ``lm_eval --output_path DIR/results.json --log_samples``
writes them: ``out_dir/base/results_<time>.json`` and ``out_dir/base/samples_<task>_<time>.jsonl``
(and the same under ``out_dir/tuned``). The two folders then go to :func:`tunelens.pairing.paired`,
which reads the sample logs and tests every metric paired over the documents.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from tunelens.errors import TunelensError
from tunelens.models import LoadOptions, load_model
from tunelens.outdir import prepare_out_dir


def _task_list(tasks: str | Sequence[str]) -> list[str]:
    names = [t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t and t.strip()]
    if not names:
        raise TunelensError("no lm-eval task given; name one or more, e.g. tasks=['arc_easy']")
    return names


def _include_dirs(include_path: str | Path | Sequence[str | Path] | None) -> list[str] | None:
    """Folders of task YAMLs for lm-eval's TaskManager (a YAML file stands for its folder)."""
    if include_path is None:
        return None
    paths = [include_path] if isinstance(include_path, str | Path) else list(include_path)
    folders: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise TunelensError(f"include_path {path} does not exist; give the folder that holds your task YAMLs")
        folder = path.parent if path.is_file() else path
        if str(folder.resolve()) not in folders:
            folders.append(str(folder.resolve()))
    return folders


def _clear_logs(folder: Path) -> None:
    """Remove the logs of an earlier run into the same folder: lm-eval appends to its sample
    files and names them by time, so a rerun would leave two logs of each task side by side."""
    for old in [*folder.glob("samples_*.jsonl"), *folder.glob("results_*.json")]:
        old.unlink()


def evaluate_model(
    model: str,
    tasks: str | Sequence[str],
    *,
    out_dir: str | Path,
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    include_path: str | Path | Sequence[str | Path] | None = None,
    options: LoadOptions = LoadOptions(),
    batch_size: int | str | None = None,
    apply_chat_template: bool = False,
    gen_kwargs: dict[str, Any] | None = None,
    random_seed: int = 0,
    lm_kwargs: dict[str, Any] | None = None,
    task_manager: Any = None,
) -> dict[str, Any]:
    """Run lm-eval ``tasks`` on one model reference through tunelens's engine and write lm-eval's
    results and per-sample logs into ``out_dir``; returns lm-eval's results dict (without samples).
    ``task_manager`` (an ``lm_eval.tasks.TaskManager``) saves indexing lm-eval's task folders again."""
    from tunelens.evaluating._harness import register

    register()
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    names = _task_list(tasks)
    folder = prepare_out_dir(out_dir)
    _clear_logs(folder)
    if task_manager is None:
        task_manager = TaskManager(include_path=_include_dirs(include_path))
    unknown = [n for n in names if n not in task_manager.all_tasks and not Path(n).is_file()]
    if unknown:
        hint = (
            " (is include_path the folder of its YAML?)" if include_path else " (pass include_path for your own YAMLs)"
        )
        raise TunelensError(f"lm-eval knows no task {', '.join(unknown)}{hint}")

    from tunelens.evaluating._model import TunelensLM

    loaded = load_model(model, options)
    lm = TunelensLM(pretrained=loaded, batch_size=batch_size, **(lm_kwargs or {}))
    tracker = EvaluationTracker(output_path=str(folder / "results.json"))
    # lm-eval bootstraps a corpus metric's stderr (BLEU, chrF, TER) in a forked process pool;
    # forked from this process, which holds torch's threads, a worker can hang on a lock held at
    # the fork, and the run with it. DISABLE_MULTIPROC makes lm-eval bootstrap in-process.
    with mock.patch.dict(os.environ, {"DISABLE_MULTIPROC": "1"}):  # restored after the block
        results = simple_evaluate(
            model=lm,
            model_args={"pretrained": model},
            tasks=names,
            num_fewshot=num_fewshot,
            limit=limit,
            log_samples=True,
            evaluation_tracker=tracker,
            apply_chat_template=apply_chat_template,
            gen_kwargs=gen_kwargs,
            task_manager=task_manager,
            random_seed=random_seed,
            numpy_random_seed=random_seed,
            torch_random_seed=random_seed,
            fewshot_random_seed=random_seed,
        )
    if results is None:
        raise TunelensError(f"lm-eval returned no results for {model}")
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    if not list(folder.glob("samples_*.jsonl")):
        raise TunelensError(f"lm-eval wrote no sample logs into {folder}; check that the folder is writable")
    del lm, loaded
    gc.collect()
    return results


def lm_eval(
    base: str,
    tuned: str,
    tasks: str | Sequence[str],
    *,
    out_dir: str | Path,
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    include_path: str | Path | Sequence[str | Path] | None = None,
    options: LoadOptions = LoadOptions(),
    batch_size: int | str | None = None,
    apply_chat_template: bool = False,
    gen_kwargs: dict[str, Any] | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    margins: dict[str, float] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Any:
    """Run lm-eval ``tasks`` on ``base`` and ``tuned`` through tunelens's engine and compare them paired.

    Each side's results and sample logs are lm-eval's own files, in ``out_dir/base`` and
    ``out_dir/tuned``; both sides see the same documents and the same few-shot examples
    (seeded with ``seed``). Returns the ``AuditResults`` of :func:`tunelens.pairing.paired`
    on the two folders, written into ``out_dir``.

    ``tasks`` are lm-eval task or group names; ``include_path`` is a folder (or a YAML file in
    it) of your own task YAMLs. ``limit``, ``num_fewshot``, ``apply_chat_template`` and
    ``gen_kwargs`` are lm-eval's; ``batch_size`` bounds the engine's rows per batch.
    """
    from tunelens.evaluating._harness import require_lm_eval

    require_lm_eval()
    from lm_eval.tasks import TaskManager

    names = _task_list(tasks)
    out = prepare_out_dir(out_dir)
    task_manager = TaskManager(include_path=_include_dirs(include_path))  # indexed once for both sides
    folders = {"base": out / "base", "tuned": out / "tuned"}
    for side, ref in (("base", base), ("tuned", tuned)):
        progress(f"lm-eval {', '.join(names)} on the {side} model ({ref})")
        evaluate_model(
            ref,
            names,
            out_dir=folders[side],
            limit=limit,
            num_fewshot=num_fewshot,
            include_path=include_path,
            options=options,
            batch_size=batch_size,
            apply_chat_template=apply_chat_template,
            gen_kwargs=gen_kwargs,
            random_seed=seed,
            task_manager=task_manager,
        )
    try:
        from tunelens.pairing import paired
    except ImportError as exc:
        raise TunelensError(
            f"the sample logs are written to {folders['base']} and {folders['tuned']}, but the paired "
            f"comparison is not available in this tunelens ({exc})"
        ) from None
    progress("paired comparison of the two sample logs")
    return paired(
        str(folders["base"]),
        str(folders["tuned"]),
        out_dir=out,
        alpha=alpha,
        seed=seed,
        margins=margins,
        progress=progress,
    )
