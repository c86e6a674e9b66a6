"""Loading the embedded model: first load (GGUF dequantized, cache written) against a
cached load (safetensors), each in a fresh process, as a ratio.

    python benchmarks/model_load.py [--model embedded:smollm2-135m-instruct]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

LOAD = "import sys; from tunelens.models import load_model; load_model(sys.argv[1])"


def timed_load(model: str, cache: str) -> float:
    env = {**os.environ, "TUNELENS_CACHE": cache}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", LOAD, model], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        first = timed_load(args.model, cache)
        cached = min(timed_load(args.model, cache) for _ in range(2))
    print(f"model: {args.model}")
    print(f"first load (GGUF -> cache), whole process: {first:.1f}s")
    print(f"cached load, whole process: {cached:.1f}s")
    print(f"speed-up of the cached load: {first / cached:.1f}x")


if __name__ == "__main__":
    main()
