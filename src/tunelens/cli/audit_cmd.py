"""``tunelens audit BASE TUNED``: run the probes on a pair and write the report.

``tunelens audit BASE CKPT1 CKPT2 ...`` or ``tunelens audit BASE --checkpoints RUN_DIR`` audits every
checkpoint of a run against the base (the base's side once) and writes a trajectory page."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say
from tunelens.cli._config_file import AUDIT_KEYS, ConfigFile, read_config_file
from tunelens.cli._gate import add_gate_options, finish
from tunelens.errors import TunelensError, UsageError
from tunelens.gate import FAIL_ON
from tunelens.probes import BUDGETS, PROBES, merge_overrides, parse_set


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit a tuned model against its base", description=__doc__)
    p.add_argument("base", help="base model reference (embedded:NAME, .gguf, directory, hub id, proxy:, retrieval:)")
    p.add_argument(
        "tuned",
        nargs="*",
        help="tuned model reference (also a PEFT adapter directory, proxy:LARGE+TUNED-BASE or retrieval:MODEL@FACTS); "
        "several: checkpoints of one run, each audited against the base, with a trajectory page",
    )
    p.add_argument(
        "--checkpoints",
        metavar="RUN_DIR",
        help="audit every checkpoint in a run directory (checkpoint-STEP folders of a Hugging Face Trainer, TRL or "
        "`tunelens tune --save-every`), ordered by step; writes OUT/step-N/ per checkpoint and OUT/trajectory.html",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="with several checkpoints: run each checkpoint's audit as a Ray task, on a local Ray cluster or the "
        "one at ADDRESS (needs the ray extra)",
    )
    p.add_argument("--probes", help=f"comma-separated subset of: {', '.join(PROBES)}")
    p.add_argument("--out", help="output directory (default: tunelens-out)")
    p.add_argument("--task", help="task spec JSON of the fine-tune (patterns, held-out prompts, facts)")
    p.add_argument(
        "--data",
        help="the fine-tune's training data (JSONL, ...): without --task, the task spec is derived from it and "
        "written to OUT/task.json",
    )
    p.add_argument(
        "--suite", help="your own regression suite: JSONL, or an lm-eval task YAML over a local file (see README)"
    )
    p.add_argument("--triage", help="triage.json of the training data: check its forecast against the measured facts")
    p.add_argument("--seed", type=int, help="seed of every sampled choice (default 0)")
    p.add_argument(
        "--budget",
        choices=BUDGETS,
        help="items per probe: quick (a smoke test), standard (>=60 per headline metric; the default on a CPU), "
        "thorough (>=200; the default on a GPU)",
    )
    p.add_argument("--quick", action="store_true", help="the same as --budget quick")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="recompute every probe; by default a probe already computed with the same models (by fingerprint), "
        "config, task and seed is reused from the results cache ($TUNELENS_RESULTS_CACHE), so a killed audit "
        "resumes where it stopped",
    )
    p.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="PROBE.METRIC=X",
        help="margin of practical equivalence for one metric, in its unit (e.g. forgetting.general_text_nll=0.05); "
        "repeatable",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PROBE.FIELD=VALUE",
        help="one setting of a probe's config (e.g. forgetting.n_arithmetic=200), checked against its type; "
        "repeatable; wins over --config and the budget",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="options ([audit]), probe budgets ([budgets]), margins ([margins]) and probe settings ([PROBE]) in "
        "a TOML file; the command line wins over it (README: Settings)",
    )
    add_load_options(p)
    add_gate_options(p)


def parse_margins(items: list[str]) -> dict[str, float]:
    """``["forgetting.general_text_nll=0.05"]`` -> ``{"forgetting.general_text_nll": 0.05}``, checked
    against the declared metrics."""
    margins: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        probe, dot, metric = name.strip().partition(".")
        if not sep or not dot:
            raise UsageError(f"--margin {item!r}: write PROBE.METRIC=X, e.g. forgetting.general_text_nll=0.05")
        if probe not in PROBES:
            raise UsageError(f"--margin {item!r}: unknown probe '{probe}'; available: {', '.join(PROBES)}")
        if PROBES[probe].declaration(metric) is None:
            names = ", ".join(d.name for d in PROBES[probe].metrics)
            raise UsageError(f"--margin {item!r}: {probe} declares no metric '{metric}'; it has: {names}")
        try:
            margin = float(value)
        except ValueError:
            raise UsageError(f"--margin {item!r}: {value!r} is not a number") from None
        if not margin > 0:
            raise UsageError(f"--margin {item!r}: a margin must be positive")
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


def _resolve(args: argparse.Namespace) -> ConfigFile:
    """Fill the options the command line left out from --config, then the defaults."""
    if args.quick and args.budget not in (None, "quick"):
        raise UsageError(f"--quick is --budget quick; give one of --quick and --budget {args.budget}")
    file = read_config_file(args.config) if args.config else ConfigFile()
    defaults = {"out": "tunelens-out", "seed": 0}
    for key in AUDIT_KEYS:
        if key == "require_verdicts":
            args.require_verdicts = args.require_verdicts or bool(file.audit.get(key, False))
        elif getattr(args, key, None) is None:
            setattr(args, key, file.audit.get(key, defaults.get(key)))
    if isinstance(args.probes, list):
        args.probes = ",".join(args.probes)
    if args.fail_on is not None and args.fail_on not in FAIL_ON:
        raise UsageError(f"{args.config}: fail_on = {args.fail_on!r}; choose one of {', '.join(FAIL_ON)}")
    if args.budget is not None and args.budget not in BUDGETS:
        raise UsageError(f"{args.config}: budget = {args.budget!r}; choose one of {', '.join(BUDGETS)}")
    return file


def run(args: argparse.Namespace) -> int:
    from tunelens import audit

    file = _resolve(args)
    overrides = merge_overrides(file.overrides, parse_set(args.set))
    margins = parse_margins([f"{k}={v}" for k, v in file.margins.items()] + list(args.margin))
    task = _read_task(args.task) if args.task else None
    if args.task and args.data:
        err(f"--task given: the task spec is {args.task}; --data {args.data} is not read")
    triage = None
    if args.triage:
        from tunelens.triaging import load_triage

        triage = load_triage(args.triage)
    probes = [p.strip() for p in args.probes.split(",") if p.strip()] if args.probes else None
    common = dict(
        probes=probes,
        out_dir=args.out,
        task=task,
        data=args.data if not args.task else None,
        suite=args.suite,
        seed=args.seed,
        quick=args.quick,
        budget=args.budget,
        probe_budgets=file.budgets or None,
        margins=margins,
        overrides=overrides,
        options=load_options(args),
        fresh=args.fresh,
        progress=err,
    )
    if args.checkpoints or len(args.tuned) > 1:
        return _run_checkpoints(args, common, triage)
    if args.ray:
        raise UsageError("--ray runs the audits of several checkpoints: give several or --checkpoints RUN_DIR")
    if not args.tuned:
        raise UsageError("give the tuned model to audit (or several checkpoints, or --checkpoints RUN_DIR)")
    results = audit(args.base, args.tuned[0], triage=triage, **common)
    return finish(args, results, Path(args.out))


def _run_checkpoints(args: argparse.Namespace, common: dict, triage: object) -> int:
    from tunelens import audit_checkpoints
    from tunelens.results import load_results

    if args.checkpoints and args.tuned:
        raise UsageError(
            f"--checkpoints {args.checkpoints} audits every checkpoint of that run; do not list checkpoints as well "
            f"({', '.join(args.tuned)})"
        )
    if triage is not None:
        raise UsageError("--triage checks one tuned model's facts; audit the final checkpoint alone with it")
    trajectory = audit_checkpoints(args.base, args.tuned or None, run_dir=args.checkpoints, ray=args.ray, **common)
    for m in trajectory.metrics:
        if m.first_changed is not None:
            say(f"- {m.label} ({m.probe}): first changed at step {m.first_changed}")
    say(f"trajectory: {Path(args.out) / 'trajectory.html'}")
    # The gate reads the last checkpoint, the one a run ships (its verdicts corrected over all of them).
    last = Path(args.out) / trajectory.folders[-1]
    return finish(args, load_results(last / "results.json"), last)
