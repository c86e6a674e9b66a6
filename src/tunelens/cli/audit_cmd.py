"""``tunelens audit BASE TUNED``: run the probes on a pair and write the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say
from tunelens.errors import TunelensError
from tunelens.probes import BUDGETS, PROBES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit a tuned model against its base", description=__doc__)
    p.add_argument("base", help="base model reference (embedded:NAME, .gguf, directory, hub id, proxy:, retrieval:)")
    p.add_argument(
        "tuned",
        help="tuned model reference (also a PEFT adapter directory, proxy:LARGE+TUNED-BASE or retrieval:MODEL@FACTS)",
    )
    p.add_argument("--probes", help=f"comma-separated subset of: {', '.join(PROBES)}")
    p.add_argument("--out", default="tunelens-out", help="output directory (default: tunelens-out)")
    p.add_argument("--task", help="task spec JSON of the fine-tune (patterns, held-out prompts, facts)")
    p.add_argument(
        "--data",
        help="the fine-tune's training data (JSONL, ...): without --task, the task spec is derived from it and "
        "written to OUT/task.json",
    )
    p.add_argument("--suite", help="your own regression suite, JSONL (see README)")
    p.add_argument("--triage", help="triage.json of the training data: check its forecast against the measured facts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--budget",
        choices=BUDGETS,
        help="items per probe: quick (a smoke test), standard (>=60 per headline metric; the default on a CPU), "
        "thorough (>=200; the default on a GPU)",
    )
    p.add_argument("--quick", action="store_true", help="the same as --budget quick")
    p.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="PROBE.METRIC=X",
        help="margin of practical equivalence for one metric, in its unit (e.g. forgetting.general_text_nll=0.05); "
        "repeatable",
    )
    add_load_options(p)


def parse_margins(items: list[str]) -> dict[str, float]:
    """``["forgetting.general_text_nll=0.05"]`` -> ``{"forgetting.general_text_nll": 0.05}``, checked
    against the declared metrics."""
    margins: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        probe, dot, metric = name.strip().partition(".")
        if not sep or not dot:
            raise TunelensError(f"--margin {item!r}: write PROBE.METRIC=X, e.g. forgetting.general_text_nll=0.05")
        if probe not in PROBES:
            raise TunelensError(f"--margin {item!r}: unknown probe '{probe}'; available: {', '.join(PROBES)}")
        if PROBES[probe].declaration(metric) is None:
            names = ", ".join(d.name for d in PROBES[probe].metrics)
            raise TunelensError(f"--margin {item!r}: {probe} declares no metric '{metric}'; it has: {names}")
        try:
            margin = float(value)
        except ValueError:
            raise TunelensError(f"--margin {item!r}: {value!r} is not a number") from None
        if not margin > 0:
            raise TunelensError(f"--margin {item!r}: a margin must be positive")
        margins[f"{probe}.{metric}"] = margin
    return margins


def _read_task(path: str):  # -> TaskSpec
    from tunelens.data import TaskSpec

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TunelensError(f"no such task spec: {path}") from None
    except json.JSONDecodeError as exc:
        raise TunelensError(f"{path} is not valid JSON: {exc}") from None
    try:
        return TaskSpec.from_dict(raw)
    except ValueError as exc:
        raise TunelensError(f"{path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from tunelens import audit

    task = _read_task(args.task) if args.task else None
    if args.task and args.data:
        err(f"--task given: the task spec is {args.task}; --data {args.data} is not read")
    triage = None
    if args.triage:
        from tunelens.triaging import load_triage

        triage = load_triage(args.triage)
    probes = [p.strip() for p in args.probes.split(",") if p.strip()] if args.probes else None
    results = audit(
        args.base,
        args.tuned,
        probes=probes,
        out_dir=args.out,
        task=task,
        suite=args.suite,
        seed=args.seed,
        quick=args.quick,
        budget=args.budget,
        margins=parse_margins(args.margin),
        triage=triage,
        data=args.data if not args.task else None,
        options=load_options(args),
        progress=err,
    )
    for line in results.summary:
        say(f"- {line}")
    say(f"report: {Path(args.out) / 'report.html'}")
    return 0
