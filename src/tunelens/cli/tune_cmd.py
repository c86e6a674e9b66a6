"""``tunelens tune BASE DATA.jsonl``: fine-tune, save the checkpoint, then audit it against the base.

tunelens tune embedded:smollm2-135m-instruct data.jsonl --method svf --ignore-k 8 --mix-general 0.2
tunelens tune embedded:smollm2-135m-instruct data.jsonl --method split   # train the patterns, retrieve the facts
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say
from tunelens.errors import UsageError
from tunelens.probes import BUDGETS
from tunelens.tuning import RECIPES, SPLIT, SPLIT_MODES, MethodOptions, SplitOptions, TrainConfig, split_recipe
from tunelens.tuning._split import DEFAULT_SPLIT_MODE, DEFAULT_VARIANTS, PREFER

METHODS = [*RECIPES, SPLIT, *(f"{SPLIT}:{name}" for name in RECIPES)]

# Command-line flag of each recipe option (the recipe that owns it is in RECIPES).
RECIPE_FLAGS = {"rank": "--lora-rank", "attention": "--svf-attention", "max_mult": "--svf-max-mult"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="fine-tune a model, then audit it", description=__doc__)
    p.add_argument("base", help="base model reference")
    p.add_argument(
        "data",
        help="training data: JSONL, JSON, parquet, arrow or a dataset folder; chat, prompt/completion, text, "
        "ShareGPT or Alpaca records (see README)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="lora",
        help="what trains (default: lora); split[:lora|full|svf]: the data's facts go to a fact sheet that "
        "retrieval serves, the weights learn the patterns (see --split-mode)",
    )
    p.add_argument("--out", default="tunelens-tune", help="run directory (default: tunelens-tune)")
    p.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    lrs = ", ".join(f"{r.learning_rate:g} {name}" for name, r in RECIPES.items())
    p.add_argument("--lr", type=float, default=None, help=f"learning rate (default: {lrs})")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--max-length", type=int, default=TrainConfig.max_length)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--heldout",
        type=float,
        default=0.0,
        metavar="R",
        help="keep a seeded share R of the examples out of training; training.json lists their prompts (default: 0)",
    )
    g = p.add_argument_group("method options")
    lora, svf = RECIPES["lora"].options, RECIPES["svf"].options
    g.add_argument("--lora-rank", type=int, metavar="N", help=f"LoRA rank, alpha = 2N (default: {lora['rank']})")
    g.add_argument("--svf-attention", action="store_true", default=None, help="svf: adapt attention too, not only MLP")
    g.add_argument(
        "--svf-max-mult", type=float, metavar="X", help=f"svf: multipliers lie in (0, X) (default: {svf['max_mult']:g})"
    )
    g.add_argument(
        "--ignore-k", type=float, default=0.0, metavar="K", help="drop each step's top K%% updates (per tensor)"
    )
    g.add_argument("--isolate-from", metavar="RUN", help="freeze the most-changed weights of an earlier run (full)")
    g.add_argument("--isolate-top", type=float, metavar="P", help="freeze its top P%% (default: 1)")
    g.add_argument("--mix-general", type=float, default=0.0, metavar="R", help="share R of general text in the data")
    s = p.add_argument_group("--method split")
    s.add_argument(
        "--split-mode",
        choices=SPLIT_MODES,
        default=DEFAULT_SPLIT_MODE,
        help="copy: each example's facts in its prompt as retrieval puts them, with copies of other values, so the "
        "weights learn to copy from the prompt; strip: fact sentences removed from the replies "
        f"(default: {DEFAULT_SPLIT_MODE})",
    )
    s.add_argument(
        "--split-variants",
        type=int,
        default=DEFAULT_VARIANTS,
        metavar="N",
        help=f"copy mode: copies of each fact-stating example with other values (default: {DEFAULT_VARIANTS})",
    )
    s.add_argument(
        "--prefer",
        choices=PREFER,
        help="a fact the data states with two values: keep the value of the last line (or the first)",
    )
    s.add_argument("--facts", metavar="SHEET", help="a fact sheet of your own (one fact a line) instead of triage's")
    p.add_argument(
        "--save-every",
        type=int,
        default=0,
        metavar="N",
        help="also save the weights every N steps as OUT/checkpoint-STEP (tunelens audit BASE --checkpoints OUT "
        "audits them all)",
    )
    p.add_argument("--no-audit", action="store_true", help="only train and save the checkpoint")
    p.add_argument("--task", help="task spec JSON for facts_vs_patterns and priming (default: derived from DATA)")
    p.add_argument("--quick", action="store_true", help="quick audit (the same as --budget quick)")
    p.add_argument("--budget", choices=BUDGETS, help="the audit's items per probe (see tunelens audit --help)")
    add_load_options(p)


def run(args: argparse.Namespace) -> int:
    from tunelens import audit, tune
    from tunelens.cli.audit_cmd import _read_task

    task = _read_task(args.task) if args.task else None
    under = split_recipe(args.method)
    if under is None and (args.prefer or args.facts):
        raise UsageError(f"--prefer and --facts apply to --method split, not {args.method}")
    recipe = RECIPES[under or args.method]
    lr = args.lr if args.lr is not None else recipe.learning_rate
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
        recipe_options=_recipe_flags(args),
        options=options,
        extras=MethodOptions(
            ignore_k=args.ignore_k,
            isolate_from=args.isolate_from,
            isolate_top=args.isolate_top,
            mix_general=args.mix_general,
        ),
        heldout=args.heldout,
        save_every=args.save_every,
        split=SplitOptions(mode=args.split_mode, prefer=args.prefer, facts=args.facts, variants=args.split_variants),
        progress=err,
    )
    say(f"checkpoint: {result.checkpoint}")
    if result.reference:
        say(f"model reference (the checkpoint with its fact sheet retrieved): {result.reference}")
    if args.no_audit:
        return 0
    results = audit(
        args.base,
        result.ref,
        out_dir=Path(args.out) / "audit",
        task=task,
        data=None if task else args.data,
        seed=args.seed,
        quick=args.quick,
        budget=args.budget,
        training=result.training,
        options=options,
        progress=err,
    )
    for line in results.summary:
        say(f"- {line}")
    say(f"report: {Path(args.out) / 'audit' / 'report.html'}")
    return 0


def _recipe_flags(args: argparse.Namespace) -> dict:
    """The recipe options given on the command line; a flag for another method is an error."""
    given = {key: getattr(args, flag[2:].replace("-", "_")) for key, flag in RECIPE_FLAGS.items()}
    given = {key: value for key, value in given.items() if value is not None}
    method = split_recipe(args.method) or args.method
    for key in given:
        if key not in RECIPES[method].options:
            owner = next(name for name, r in RECIPES.items() if key in r.options)
            raise UsageError(f"{RECIPE_FLAGS[key]} applies to --method {owner}, not {args.method}")
    if "rank" in given:
        given["alpha"] = 2 * given["rank"]
    return given
