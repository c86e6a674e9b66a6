"""``tunelens lm-eval BASE TUNED --tasks T1,T2``: lm-eval tasks on both models, compared paired.

Each model runs the tasks through lm-evaluation-harness with tunelens's engine (any model
reference tunelens loads); lm-eval writes its own results and per-sample logs into OUT/base
and OUT/tuned, and the two logs are then compared item by item as ``tunelens paired`` does
(results.json and report.html in OUT). Needs ``pip install 'tunelens[lm-eval]'``.

    tunelens lm-eval embedded:smollm2-135m-instruct runs/lora/adapter --tasks arc_easy --limit 200
    tunelens lm-eval BASE TUNED --tasks my_task --include-path my_tasks/   # your own task YAMLs
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options
from tunelens.cli._gate import add_gate_options, finish
from tunelens.cli.paired_cmd import add_verdict_options, parse_margins
from tunelens.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lm-eval",
        help="run lm-eval tasks on both models through tunelens and compare them paired",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("base", help="base model reference")
    p.add_argument("tuned", help="tuned model reference")
    p.add_argument("--tasks", required=True, help="lm-eval task or group names, comma-separated")
    p.add_argument("--include-path", help="a folder of your own lm-eval task YAMLs (or one YAML in it)")
    p.add_argument("--limit", type=float, help="documents per task (a count, or a fraction below 1)")
    p.add_argument("--num-fewshot", type=int, help="few-shot examples per document (default: each task's own)")
    p.add_argument("--batch-size", help="rows per scoring batch (default: the engine's token budget)")
    p.add_argument("--apply-chat-template", action="store_true", help="wrap prompts in the model's chat template")
    p.add_argument("--out", default="tunelens-lm-eval", help="output directory (default: tunelens-lm-eval)")
    p.add_argument("--seed", type=int, default=0, help="few-shot sampling and bootstrap seed (default 0)")
    add_verdict_options(p)
    add_load_options(p)
    add_gate_options(p)


def run(args: argparse.Namespace) -> int:
    from tunelens.evaluating import lm_eval

    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha}: choose a level between 0 and 1, e.g. 0.05")
    limit = args.limit
    if limit is not None:
        if limit <= 0:
            raise UsageError(f"--limit {args.limit:g}: give a positive count or a fraction below 1")
        limit = int(limit) if limit >= 1 else limit
    results = lm_eval(
        args.base,
        args.tuned,
        args.tasks,
        out_dir=args.out,
        limit=limit,
        num_fewshot=args.num_fewshot,
        include_path=args.include_path,
        options=load_options(args),
        batch_size=args.batch_size,
        apply_chat_template=args.apply_chat_template,
        alpha=args.alpha,
        seed=args.seed,
        margins=parse_margins(args.margin),
        progress=err,
    )
    return finish(args, results, Path(args.out))
