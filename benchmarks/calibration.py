"""Calibration of an audit's verdicts on its own items: null audits by swapping the two
models' outcomes item by item (``tunelens.stats._calibration``).

    python benchmarks/calibration.py [RESULTS_JSON]   # default: tunelens-demo/results.json

Prints, over 2,000 null audits, the family-wise error of the headline metrics and the false
discovery rate of the report (both must stay at or under 5%), with how many metrics took part.
"""

from __future__ import annotations

import sys

from tunelens.results import load_results
from tunelens.stats._calibration import null_audits


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "tunelens-demo/results.json"
    c = null_audits(load_results(path).metrics(), n_audits=2000, seed=0)
    print(
        f"{c.n_audits} null audits over {c.n_metrics} tested metrics ({c.n_headline} headline): family-wise error "
        f"{c.familywise_rate:.1%}, false discovery rate {c.false_discovery_rate:.1%} (targets 5%)"
    )


if __name__ == "__main__":
    main()
