"""``tunelens report results.json``: re-render report.html from a saved results.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from tunelens.cli._common import say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render report.html from results.json", description=__doc__)
    p.add_argument("results", help="path to results.json")
    p.add_argument("--out", help="where to write the HTML (default: report.html beside results.json)")


def run(args: argparse.Namespace) -> int:
    from tunelens.report import write_report
    from tunelens.results import load_results

    results = load_results(args.results)
    out = Path(args.out) if args.out else Path(args.results).with_name("report.html")
    say(f"report: {write_report(results, out)}")
    return 0
