"""The ``tunelens`` command: a thin shell over the Python API, one module per subcommand."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from tunelens.cli import (
    audit_cmd,
    compare_cmd,
    demo_cmd,
    lm_eval_cmd,
    paired_cmd,
    report_cmd,
    triage_cmd,
    tune_cmd,
)
from tunelens.errors import TunelensError, UsageError
from tunelens.gate import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE

SUBCOMMANDS = {
    "demo": demo_cmd,
    "audit": audit_cmd,
    "paired": paired_cmd,
    "lm-eval": lm_eval_cmd,
    "tune": tune_cmd,
    "compare": compare_cmd,
    "triage": triage_cmd,
    "report": report_cmd,
}


def build_parser() -> argparse.ArgumentParser:
    from tunelens._version import __version__

    parser = argparse.ArgumentParser(prog="tunelens", description="What did your fine-tune really change?")
    parser.add_argument("--version", action="version", version=f"tunelens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Deprecation notices from the libraries underneath say nothing actionable to a user.
    warnings.filterwarnings("ignore", category=FutureWarning)
    args = build_parser().parse_args(argv)
    try:
        return int(SUBCOMMANDS[args.command].run(args) or 0)
    except UsageError as exc:
        print(f"tunelens: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TunelensError as exc:
        print(f"tunelens: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tunelens: interrupted; results written so far are kept in the output directory", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
