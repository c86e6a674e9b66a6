"""The engine with linear layers on reordered oneDNN weights (``engine/_prepack.py``) against
the plain layers, on the embedded model.

Two copies of the model are loaded in one process, one engine routed through reordered
weights, the other left plain; their runs alternate (``--rounds`` each) on the same work:
chat replies to general-text prompts (greedy, up to ``--tokens`` tokens) and the per-token
log-probabilities of general-text chunks. Prints each run's seconds, the ratio of the best
runs and whether both engines gave the same replies.

    python benchmarks/prepack.py [--prompts 60] [--tokens 128] [--texts 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--prompts", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from tunelens.data import general_text_chunks
    from tunelens.engine import Engine, GenRequest, _prepack
    from tunelens.engine import _engine as engine_module
    from tunelens.models import load_model

    routed = Engine(load_model(args.model))
    real = engine_module.prepack_linears
    engine_module.prepack_linears = _prepack._contiguous_head  # the plain layers, head input contiguous
    try:
        plain = Engine(load_model(args.model))
    finally:
        engine_module.prepack_linears = real
    count = sum(getattr(m, "_tunelens_prepacked", False) for m in routed.model.modules())
    print(
        f"{machine()}; {count} linear layers routed, {args.prompts} replies of up to {args.tokens} tokens, "
        f"{args.texts} texts scored"
    )
    prompts = [f"Write a short note about {c[:120]}" for c in general_text_chunks(args.prompts, 400, seed=0)]
    requests = [GenRequest(routed.chat_prompt(p), args.tokens) for p in prompts]
    texts = list(general_text_chunks(args.texts, 600, seed=1))
    for engine in (routed, plain):  # warm-up: the reordered copies are made at the first call
        engine.generate(requests[:4])
        engine.token_logprobs(texts[:2])
    best = {"routed": [float("inf")] * 2, "plain": [float("inf")] * 2}
    replies = {}
    for round_ in range(args.rounds):
        for name, engine in (("routed", routed), ("plain", plain)):
            start = time.perf_counter()
            replies[name] = engine.generate(requests)
            generation = time.perf_counter() - start
            start = time.perf_counter()
            engine.token_logprobs(texts)
            scoring = time.perf_counter() - start
            best[name] = [min(best[name][0], generation), min(best[name][1], scoring)]
            print(f"round {round_ + 1} {name}: generation {generation:.1f} s, scoring {scoring:.1f} s")
    same = sum(a == b for a, b in zip(replies["routed"], replies["plain"]))
    print(
        f"plain / routed, best runs: generation {best['plain'][0] / best['routed'][0]:.2f}x, "
        f"scoring {best['plain'][1] / best['routed'][1]:.2f}x; {same} of {len(requests)} replies identical"
    )


if __name__ == "__main__":
    main()
