"""Wall time of `tunelens compare --demo` (lora, full, svf, retrieval and the fact update) in a
fresh process, against the 30-minute target, with each method's training, audit and update.

    python benchmarks/compare_time.py [--quick] [--out DIR]

The model cache is warmed first, as it is after a user's first run. Nothing is reused: the
output folder starts empty. ``--out`` keeps the comparison (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1800.0


def run(out: Path, quick: bool) -> float:
    args = [sys.executable, "-m", "tunelens", "compare", "--demo", "--out", str(out)] + (["--quick"] if quick else [])
    start = time.perf_counter()
    # An empty results cache: every probe is computed, none reused from an earlier run.
    env = {**os.environ, "TUNELENS_RESULTS_CACHE": tempfile.mkdtemp(prefix="tunelens-results-")}
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def report(seconds: float, out: Path) -> None:
    results = json.loads((out / "compare.json").read_text())
    print(f"compare --demo: {seconds:.0f}s wall ({seconds / TARGET:.2f} of the {TARGET:.0f}s target)")
    for row in results["methods"]:
        train = f"training {row['train_seconds']:.0f}s, " if row["train_seconds"] else ""
        update = f", update {row['update_seconds']:.0f}s" if row["update_seconds"] else ""
        print(f"  {row['method']}: {train}audit {row['audit_seconds']:.0f}s{update}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-c", "from tunelens.models import load_model; load_model('embedded:smollm2-135m-instruct')"],
        check=True,
        capture_output=True,
    )
    if args.out:
        if args.out.exists() and any(args.out.iterdir()):
            sys.exit(f"{args.out} is not empty: the benchmark measures a comparison from scratch")
        report(run(args.out, args.quick), args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "compare"
        report(run(out, args.quick), out)


if __name__ == "__main__":
    main()
