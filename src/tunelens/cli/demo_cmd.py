"""``tunelens demo``: fine-tune the embedded model on a support-desk data set and audit it."""

from __future__ import annotations

import argparse

from tunelens.cli._common import add_load_options, load_options, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole story on the embedded model, in minutes", description=__doc__)
    p.add_argument(
        "--quick", action="store_true", help="the three core probes, fewer items (2 to 4 minutes on a 2-core CPU)"
    )
    p.add_argument("--out", default="tunelens-demo", help="output directory (default: tunelens-demo)")
    p.add_argument("--model", default=None, help="model reference (default: embedded:smollm2-135m-instruct)")
    p.add_argument("--seed", type=int, default=0)
    add_load_options(p)


def run(args: argparse.Namespace) -> int:
    from tunelens.demo import demo_config, run_demo

    overrides: dict[str, object] = {"out_dir": args.out, "seed": args.seed}
    if args.model:
        overrides["model"] = args.model
    run_demo(demo_config(args.quick, **overrides), say=say, options=load_options(args))
    return 0
