"""Wall time of the demo, quick and full, each in a fresh process (targets: 3 and 10 minutes).

    python benchmarks/demo_time.py [--only quick|full]

The model cache is warmed first, as it is after a user's first run; the figure printed is
the whole `tunelens demo` command, start to exit, with the tuning and audit stages.
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

TARGETS = {"quick": 180.0, "full": 600.0}


def run(mode: str, out: Path) -> tuple[float, dict]:
    args = [sys.executable, "-m", "tunelens", "demo", "--out", str(out)] + (["--quick"] if mode == "quick" else [])
    start = time.perf_counter()
    # An empty results cache: every probe is computed, none reused from an earlier run.
    env = {**os.environ, "TUNELENS_RESULTS_CACHE": tempfile.mkdtemp(prefix="tunelens-results-")}
    subprocess.run(args, check=True, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    results = json.loads((out / "results.json").read_text())
    stages = {"tune": results["training"]["seconds"], "audit": results["seconds"]}
    stages.update({probe["name"]: probe["seconds"] for probe in results["probes"]})
    return seconds, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(TARGETS))
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-c", "from tunelens.models import load_model; load_model('embedded:smollm2-135m-instruct')"],
        check=True,
        capture_output=True,
    )
    for mode in [args.only] if args.only else list(TARGETS):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, stages = run(mode, Path(tmp))
        print(
            f"demo {mode}: {seconds:.0f}s wall ({seconds / TARGETS[mode]:.2f} of the {TARGETS[mode]:.0f}s target); "
            f"training {stages.pop('tune'):.0f}s, audit {stages.pop('audit'):.0f}s "
            f"({', '.join(f'{name} {s:.0f}s' for name, s in stages.items())})"
        )


if __name__ == "__main__":
    main()
