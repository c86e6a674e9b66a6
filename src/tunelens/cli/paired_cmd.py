"""``tunelens paired A B``: paired verdicts on two models' per-sample logs of one evaluation.

A and B are lm-evaluation-harness samples (a samples_<task>_<time>.jsonl written with
--log_samples, or the folder lm-eval wrote them in) or inspect_ai logs (a .eval or .json log,
or a log folder), of the same tasks run on the base and on the tuned model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import err
from tunelens.cli._gate import add_gate_options, finish
from tunelens.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "paired",
        help="paired verdicts on two models' lm-eval or inspect_ai per-sample logs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("base", help="the base model's logs: lm-eval samples (file or folder) or inspect_ai logs")
    p.add_argument("tuned", help="the tuned model's logs of the same tasks, by the same tool")
    p.add_argument("--out", default="tunelens-paired", help="output directory (default: tunelens-paired)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap of corpus-level metrics (default 0)")
    add_verdict_options(p)
    add_gate_options(p)


def add_verdict_options(p: argparse.ArgumentParser) -> None:
    """--alpha and --margin, as `paired` and `lm-eval` take them."""
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="family-wise error rate of the headline metrics and false discovery rate of all (default 0.05)",
    )
    p.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="TASK.METRIC=X",
        help="margin of practical equivalence for one metric, in its unit (e.g. arc_easy.acc=0.03); repeatable",
    )


def parse_margins(items: list[str]) -> dict[str, float]:
    """``["arc_easy.acc=0.03"]`` -> ``{"arc_easy.acc": 0.03}``; the names are checked against the
    logs' metrics by ``paired``."""
    margins: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        name = name.strip()
        if not sep or "." not in name or name.startswith(".") or name.endswith("."):
            raise UsageError(f"--margin {item!r}: write TASK.METRIC=X, e.g. arc_easy.acc=0.03")
        try:
            margin = float(value)
        except ValueError:
            raise UsageError(f"--margin {item!r}: {value!r} is not a number") from None
        if not margin > 0:
            raise UsageError(f"--margin {item!r}: a margin must be positive")
        margins[name] = margin
    return margins


def run(args: argparse.Namespace) -> int:
    from tunelens.pairing import paired

    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha}: choose a level between 0 and 1, e.g. 0.05")
    results = paired(
        args.base,
        args.tuned,
        out_dir=args.out,
        alpha=args.alpha,
        seed=args.seed,
        margins=parse_margins(args.margin),
        progress=err,
    )
    return finish(args, results, Path(args.out))
