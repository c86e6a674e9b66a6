"""Retrieval-head scoring: one teacher-forced pass against step-by-step decoding.

On the same needle-in-a-haystack instances and the embedded model, times
(1) the one-pass scorer: one forward pass over prompt + the model's answer that captures
    each head's argmax for the answer's query rows only. The probe has the answer anyway
    (it needs it for needle accuracy); greedy decoding with the KV cache is timed apart
    and a second ratio counts it in;
(2) the plain step-by-step reference: greedy decoding one token at a time, re-running the
    whole sequence with eager attention and ``output_attentions=True`` at every step;
(3) the cached step-by-step reference (the authors' detection loop): prefill once, then
    one token per step with attention outputs.
Prints the speed ratios of (2) and (3) over (1) (target for (2): at least 10x), and the agreement
of the head scores: Spearman correlation of the per-head mean copy scores (target >= 0.99)
and the share of identical argmax positions. Every instance is scored, recalled or not,
since both sides decode the same answer.

    python benchmarks/retrieval_heads.py [--lengths 256 512] [--depths 0.5] [--max-new-tokens 24]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--depths", type=float, nargs="+", default=[0.5])
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np

    from tunelens.engine import Engine
    from tunelens.engine._attention import eos_ids, greedy_decode
    from tunelens.models import load_model
    from tunelens.probes._needles import copy_scores, needle_instances, one_pass_argmax
    from tunelens.probes._retrieval_reference import reference_decode
    from tunelens.stats import spearman

    engine = Engine(load_model(args.model))
    model, stop = engine.model, eos_ids(engine.model, engine.tokenizer)
    instances = needle_instances(engine, args.lengths, args.depths, 1, args.seed)
    greedy_decode(model, instances[0].prompt_ids[:32], 2, stop)  # warm-up

    decode_seconds = 0.0

    def one_pass(prompt: tuple[int, ...]) -> tuple[list[int], np.ndarray]:
        nonlocal decode_seconds
        start = time.perf_counter()
        ids = greedy_decode(model, prompt, args.max_new_tokens, stop)
        decode_seconds += time.perf_counter() - start
        return ids, one_pass_argmax(model, prompt, ids)

    runners = {
        "one-pass": one_pass,
        "step-by-step (plain)": lambda p: reference_decode(model, p, args.max_new_tokens, stop, use_cache=False),
        "step-by-step (cached)": lambda p: reference_decode(model, p, args.max_new_tokens, stop, use_cache=True),
    }
    seconds = {name: 0.0 for name in runners}
    scores: dict[str, list[np.ndarray]] = {name: [] for name in runners}
    argmaxes: dict[str, list[np.ndarray]] = {name: [] for name in runners}
    answers: dict[str, list[list[int]]] = {name: [] for name in runners}
    for inst in instances:
        for name, run in runners.items():
            start = time.perf_counter()
            ids, argmax = run(inst.prompt_ids)
            seconds[name] += time.perf_counter() - start
            answers[name].append(ids)
            argmaxes[name].append(argmax)
            scores[name].append(copy_scores(argmax, list(inst.prompt_ids) + ids, ids, inst.needle_span))

    print(f"machine: {machine()}")
    sizes = [len(i.prompt_ids) for i in instances]
    print(f"model: {args.model}; {len(instances)} instances, prompts of {sizes} tokens")
    seconds["one-pass"] -= decode_seconds
    print(f"  {'greedy decoding (cached)':<24} {decode_seconds:7.1f} s")
    for name in runners:
        print(f"  {name:<24} {seconds[name]:7.1f} s")
    mean = {name: np.mean(scores[name], axis=0).ravel() for name in runners}
    for ref in ("step-by-step (plain)", "step-by-step (cached)"):
        same_answers = answers[ref] == answers["one-pass"]
        agree = np.mean([np.mean(a == b) for a, b in zip(argmaxes["one-pass"], argmaxes[ref])]) if same_answers else 0.0
        rho = spearman(mean["one-pass"], mean[ref])
        rho_text = f"{rho:.4f}" if rho is not None else "undefined (constant scores)"
        print(
            f"one-pass vs {ref}: speed ratio {seconds[ref] / seconds['one-pass']:.1f}x "
            f"({seconds[ref] / (seconds['one-pass'] + decode_seconds):.1f}x counting the greedy decoding); "
            f"Spearman of head scores {rho_text}; identical answers {same_answers}; "
            f"identical argmax positions {agree:.4f}; max |score difference| "
            f"{np.abs(mean['one-pass'] - mean[ref]).max():.4f}"
        )


if __name__ == "__main__":
    main()
