"""``tunelens compare BASE DATA --task TASK.json``: adapt one model to one data set in several
ways (lora, full, svf, retrieval, ...), audit each against the base and weigh gain against cost.

    tunelens compare --demo                      # the support-desk demo data and its fact update
    tunelens compare embedded:smollm2-135m-instruct data.jsonl --task task.json \\
        --methods lora,full,svf,retrieval --update update.jsonl --update-task update-task.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tunelens.cli._common import add_load_options, err, load_options, say
from tunelens.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from tunelens.comparing import DEFAULT_METHODS

    p = sub.add_parser("compare", help="compare tuning methods (and retrieval) on the same data", description=__doc__)
    p.add_argument("base", nargs="?", help="base model reference (with --demo: embedded:smollm2-135m-instruct)")
    p.add_argument("data", nargs="?", help="training data, JSONL (not with --demo)")
    p.add_argument("--task", help="task spec JSON of the data: patterns, held-out prompts, facts")
    p.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help="comma-separated: lora, full, svf, retrieval, split[:lora|full|svf][+strip], each weight method "
        f"optionally +ignore-k[=K] or +mix[=R] (default: {','.join(DEFAULT_METHODS)})",
    )
    p.add_argument(
        "--reference",
        metavar="METHOD",
        help="the method every other is tested against on the same items, corrected (default: the first method)",
    )
    p.add_argument("--update", metavar="DATA", help="update data: a second fine-tune on it follows the first")
    p.add_argument("--update-task", metavar="TASK", help="task spec of the update: the changed facts' new answers")
    p.add_argument("--demo", action="store_true", help="use the demo's support-desk data and its fact update")
    p.add_argument("--quick", action="store_true", help="fewer probe items (with --demo: the quick demo's data too)")
    p.add_argument("--out", default="tunelens-compare", help="output directory (default: tunelens-compare)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=None, help="default 8 (4 with --demo --quick)")
    p.add_argument(
        "--lr", action="append", default=[], metavar="METHOD=LR", help="learning rate of one method, e.g. full=5e-5"
    )
    p.add_argument("--seed", type=int, default=0)
    add_load_options(p)


def _learning_rates(pairs: list[str]) -> dict[str, float]:
    rates = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--lr takes METHOD=LR, e.g. full=5e-5; got '{pair}'") from None
    return rates


def run(args: argparse.Namespace) -> int:
    from tunelens.cli.audit_cmd import _read_task
    from tunelens.comparing import compare, write_demo_inputs
    from tunelens.models import DEFAULT_MODEL

    if args.demo:
        if args.data or args.task or args.update or args.update_task:
            raise UsageError("--demo brings its own data, task and update; leave DATA, --task and --update out")
        base = args.base or DEFAULT_MODEL
        data, task_path, update, update_task_path = write_demo_inputs(Path(args.out) / "inputs", quick=args.quick)
        batch = args.batch_size or (4 if args.quick else 8)
    else:
        if not args.base or not args.data or not args.task:
            raise UsageError("give BASE DATA --task TASK.json, or --demo for the support-desk example")
        base, data, task_path = args.base, Path(args.data), Path(args.task)
        update, update_task_path = args.update, args.update_task
        batch = args.batch_size or 8
    results = compare(
        base,
        data,
        task=_read_task(str(task_path)),
        methods=args.methods,
        out_dir=args.out,
        update_data=update,
        update_task=_read_task(str(update_task_path)) if update_task_path else None,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=batch,
        learning_rates=_learning_rates(args.lr),
        quick=args.quick,
        reference=args.reference,
        options=load_options(args),
        progress=err,
    )
    for row in results.methods:
        say(json.dumps({"method": row.method, "error": row.error}) if row.error else _line(row))
    say(f"comparison: {Path(args.out) / 'compare.html'}")
    return 0


def _line(row) -> str:  # row: MethodRow
    parts = [row.method]
    for metric, cell in row.cells.items():
        if cell.delta is not None:
            parts.append(f"{metric.split('.')[1]} {cell.delta:+.3g}{_versus_words(cell.versus)}")
    update = next((s for s in row.stale if s.stage == "update"), None)
    if update is not None and update.share_new is not None:
        parts.append(f"update P(new) share {update.share_new:.0%}")
    return "  ".join(parts)


def _versus_words(versus) -> str:  # versus: Versus | None
    """' (better than lora)' and the like; '' without a paired verdict."""
    if versus is None or versus.verdict == "not_paired":
        return ""
    if versus.verdict == "no_difference_shown":
        return f" (no difference from {versus.reference} shown)"
    from tunelens.comparing._versus import VERDICT_WORDS

    return f" ({VERDICT_WORDS[versus.verdict]} {versus.reference})"
