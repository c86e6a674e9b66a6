"""The end of ``audit`` and ``paired``: print the summary (or ``--json``) and apply the CI gate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tunelens.cli._common import err, say
from tunelens.gate import EXIT_CODES, FAIL_ON, check_gate, summary_dict
from tunelens.results import AuditResults

EXIT_CODES_HELP = "exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items())


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("continuous integration", EXIT_CODES_HELP)
    group.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 when a headline metric changed in its worse direction (regression) or either way (change), "
        "by more than a negligible amount",
    )
    group.add_argument(
        "--require-verdicts",
        action="store_true",
        help="exit 4 when a headline metric is inconclusive, so a gate cannot pass by measuring too little",
    )
    group.add_argument("--json", action="store_true", help="print the summary and the gate's outcome as JSON")


def finish(args: argparse.Namespace, results: AuditResults, out: Path) -> int:
    """Print what the run found and return the exit code the gate gives."""
    outcome = check_gate(results, args.fail_on, args.require_verdicts)
    report = out / "report.html"
    if args.json:
        paths = {"results": str(out / "results.json"), "report": str(report)}
        say(json.dumps(summary_dict(results, outcome, paths), indent=1, default=str))
    else:
        for line in results.summary:
            say(f"- {line}")
        say(f"report: {report}")
        for line in outcome.lines():
            (say if outcome.passed else err)(line)
    return outcome.exit_code
