"""``tunelens tune BASE DATA.jsonl``: fine-tune, save the checkpoint, then audit it against the base."""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say
from tunelens.tuning import RECIPES, TrainConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="fine-tune a model, then audit it", description=__doc__)
    p.add_argument("base", help="base model reference")
    p.add_argument("data", help="training data, JSONL: chat messages, prompt/completion or text per line")
    p.add_argument("--method", choices=list(RECIPES), default="lora")
    p.add_argument("--out", default="tunelens-tune", help="run directory (default: tunelens-tune)")
    p.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 1e-3 LoRA, 5e-5 full)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--max-length", type=int, default=TrainConfig.max_length)
    p.add_argument("--lora-rank", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-audit", action="store_true", help="only train and save the checkpoint")
    p.add_argument("--task", help="task spec JSON, for the facts_vs_patterns probe")
    p.add_argument("--quick", action="store_true", help="quick audit")
    add_load_options(p)


def run(args: argparse.Namespace) -> int:
    from tunelens import audit, tune
    from tunelens.cli.audit_cmd import _read_task

    task = _read_task(args.task) if args.task else None
    lr = args.lr if args.lr is not None else (5e-5 if args.method == "full" else 1e-3)
    config = TrainConfig(
        epochs=args.epochs, learning_rate=lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed
    )
    options = load_options(args)
    result = tune(
        args.base,
        args.data,
        out_dir=args.out,
        method=args.method,
        config=config,
        recipe_options={"rank": args.lora_rank, "alpha": 2 * args.lora_rank},
        options=options,
    )
    say(f"checkpoint: {result.checkpoint}")
    if args.no_audit:
        return 0
    results = audit(
        args.base,
        str(result.checkpoint),
        out_dir=Path(args.out) / "audit",
        task=task,
        seed=args.seed,
        quick=args.quick,
        training=result.training,
        options=options,
        progress=err,
    )
    for line in results.summary:
        say(f"- {line}")
    say(f"report: {Path(args.out) / 'audit' / 'report.html'}")
    return 0
