"""``tunelens triage DATA.jsonl``: before training, which parts of the data are patterns and which point facts."""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "triage",
        help="before training: patterns to train, facts to retrieve, contradictions to fix",
        description=__doc__,
    )
    p.add_argument("data", help="training data, JSONL: chat messages, prompt/completion or text records")
    p.add_argument("--model", help="base model for the facts' priors (default: embedded:smollm2-135m-instruct)")
    p.add_argument("--no-model", action="store_true", help="skip the priors: forecasts from exposure counts only")
    p.add_argument("--epochs", type=float, default=1.0, help="planned epochs; exposure counts are multiplied by it")
    p.add_argument("--out", default="tunelens-triage", help="output directory (default: tunelens-triage)")
    p.add_argument(
        "--task-out",
        metavar="TASK.json",
        help="also write the task spec derived from the data (pattern rules, facts with exposure counts, "
        "held-out prompts, priming keywords) for tunelens audit --task; works with --no-model",
    )
    add_load_options(p)


def run(args: argparse.Namespace) -> int:
    import json

    from tunelens.errors import UsageError
    from tunelens.models import DEFAULT_MODEL
    from tunelens.outdir import atomic_write_text, prepare_out_dir
    from tunelens.triaging import derive_task_spec, triage

    if args.no_model and args.model:
        raise UsageError("--model and --no-model contradict each other; give one of them")
    model = None if args.no_model else (args.model or DEFAULT_MODEL)
    if args.task_out:
        prepare_out_dir(Path(args.task_out).parent)  # an unwritable place fails before any work
    results = triage(
        args.data, model=model, out_dir=args.out, epochs=args.epochs, options=load_options(args), progress=err
    )
    for line in results.recommendation.summary:
        say(f"- {line}")
    say(f"triage: {Path(args.out) / 'triage.html'}")
    if args.task_out:
        derived = derive_task_spec(args.data, results)
        atomic_write_text(Path(args.task_out), json.dumps(derived.spec.to_dict(), indent=1))
        for line in derived.summary:
            say(f"- {line}")
        say(f"task spec: {args.task_out}")
    return 0
