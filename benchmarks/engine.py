"""Engine throughput on the embedded model.

Prints (1) log-likelihood throughput as a ratio to this machine's measured dense matmul
rate: tokens/s x 2 x parameters / FLOP/s, counted two ways: the context and continuation
tokens of every request (a context shared by four choices counts four times), and the
positions the model actually computed (each real, unpadded position of every forward pass,
from the engine's counters; padding is counted apart), for the engine's two scoring paths:
packed rows under tree masks (the default where the model's attention takes a custom mask)
and left-padded, length-sorted batches with contexts' caches shared (the other models'
path); (2) the speed-up of each over a loop that scores one request at a time with one
plain forward pass each. All are measured in one run on the same requests.

    python benchmarks/engine.py [--model embedded:smollm2-135m-instruct] [--questions 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, matmul_flops  # noqa: E402


def workload(n_questions: int) -> list:
    """Multiple-choice world facts (4 choices sharing a context) and general-text continuations."""
    from tunelens.data import general_text_chunks, world_facts
    from tunelens.engine import LLRequest

    per_category = max(1, n_questions // 5)
    requests = [LLRequest(f.prompt, " " + c) for f in world_facts(per_category, seed=0) for c in f.choices]
    for chunk in general_text_chunks(n_questions // 3, 400, seed=0):
        cut = len(chunk) // 2
        requests.append(LLRequest(chunk[:cut], chunk[cut : cut + 80]))
    return requests


def one_at_a_time(engine, requests) -> float:
    import torch

    total = 0.0
    with torch.inference_mode():
        for req in requests:
            ctx, cont = engine.encode(req.context), engine.encode_continuation(req.continuation)
            ids = torch.tensor([ctx + cont])
            logprobs = torch.log_softmax(engine.model(input_ids=ids).logits[0, len(ctx) - 1 : -1].float(), -1)
            total += float(logprobs.gather(1, torch.tensor(cont)[:, None]).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()

    from tunelens.engine import Engine
    from tunelens.models import load_model

    loaded = load_model(args.model)
    engine = Engine(loaded)
    requests = workload(args.questions)
    n_params = sum(p.numel() for p in loaded.model.parameters())
    tokens = sum(len(engine.encode(r.context)) + len(engine.encode_continuation(r.continuation)) for r in requests)
    engine.loglikelihood(requests[:8])  # warm-up
    flops = matmul_flops()
    print(f"machine: {machine()}")
    print(f"model: {args.model} ({n_params / 1e6:.0f}M parameters); {len(requests)} requests, {tokens} tokens")
    print(f"measured matmul rate: {flops / 1e9:.1f} GFLOP/s")

    packs = engine.packed_scoring
    times, scores = {}, {}
    for label, packed in (("packed rows", True), ("left-padded batches", False)):
        if packed and not packs:
            print("packed rows: this model's attention takes no custom mask; skipped")
            continue
        engine.packed_scoring = packed
        engine.reset_counters()  # positions fed to the model, padding counted apart
        start = time.perf_counter()
        batched = engine.loglikelihood(requests)
        times[label] = seconds = time.perf_counter() - start
        scores[label] = sum(r.logprob for r in batched)
        real = engine.counters["positions"] - engine.counters["padding"]
        print(
            f"{label}: {tokens / seconds:.0f} tokens/s, {tokens / seconds * 2 * n_params / flops:.2f} of the matmul "
            f"rate counting every request's tokens; counting only the positions computed ({real} real of "
            f"{engine.counters['positions']} fed in {engine.counters['passes']} passes): {real / seconds:.0f} "
            f"tokens/s, {real / seconds * 2 * n_params / flops:.2f} of the matmul rate"
        )
    engine.packed_scoring = packs
    start = time.perf_counter()
    looped = one_at_a_time(engine, requests)
    t_loop = time.perf_counter() - start
    for label, total in scores.items():
        assert abs(total - looped) < 1e-2 * len(requests), f"{label} and the loop's scores differ"
    print(f"one-at-a-time loop: {tokens / t_loop:.0f} tokens/s")
    print(
        "speed-up over the one-at-a-time loop: "
        + ", ".join(f"{label} {t_loop / seconds:.1f}x" for label, seconds in times.items())
    )
    shapes = linear_shapes(loaded.model)
    ceiling = {rows: shape_rate(shapes, rows) / flops for rows in (64, 256, 1024)}
    print(
        "the model's own linear layers (one decoder layer's projections, by their share of its FLOPs) run at "
        + ", ".join(f"{c:.2f}" for c in ceiling.values())
        + f" of the matmul rate for {', '.join(map(str, ceiling))} positions a pass: the ceiling of the figures above"
    )
    generation(loaded)


def linear_shapes(model) -> list[tuple[int, int]]:
    """(in, out) of each linear layer of the first decoder layer."""
    import torch

    layer = model.model.layers[0]
    return [(m.in_features, m.out_features) for m in layer.modules() if isinstance(m, torch.nn.Linear)]


def shape_rate(shapes: list[tuple[int, int]], rows: int, seconds: float = 0.5) -> float:
    """FLOP/s of one pass of ``rows`` positions through ``shapes`` (best of 3 timed rounds)."""
    import torch

    weights = [torch.randn(n_out, n_in) for n_in, n_out in shapes]
    inputs = {n_in: torch.randn(rows, n_in) for n_in, _ in shapes}
    work = sum(2 * rows * n_in * n_out for n_in, n_out in shapes)
    best = 0.0
    with torch.inference_mode():
        for w in weights:
            torch.nn.functional.linear(inputs[w.shape[1]], w)
        for _ in range(3):
            start, count = time.perf_counter(), 0
            while time.perf_counter() - start < seconds / 3:
                for w in weights:
                    torch.nn.functional.linear(inputs[w.shape[1]], w)
                count += 1
            best = max(best, work * count / (time.perf_counter() - start))
    return best


def generation(loaded) -> None:
    """60 chat replies of up to 128 tokens, decoded in batches of the scoring limits (4,096
    tokens, 32 rows) and of the generation limits (``Engine.gen_batch_tokens``/``gen_max_batch``):
    the same replies, and the time of each (the second pair is the engine's default)."""
    from tunelens.data import everyday_prompts
    from tunelens.engine import Engine, GenRequest

    times, replies = {}, {}
    for label, (tokens, rows) in (("scoring limits", (4096, 32)), ("generation limits", (16384, 64))):
        engine = Engine(loaded, gen_batch_tokens=tokens, gen_max_batch=rows)
        requests = [GenRequest(engine.chat_prompt(p.text), 128) for p in everyday_prompts(60)]
        start = time.perf_counter()
        replies[label] = engine.generate(requests)
        times[label] = time.perf_counter() - start
    same = sum(a == b for a, b in zip(*replies.values()))
    print(
        f"generation, 60 replies x 128 tokens: {times['scoring limits']:.1f} s in batches of the scoring limits, "
        f"{times['generation limits']:.1f} s in batches of the generation limits "
        f"({times['scoring limits'] / times['generation limits']:.2f}x; {same} of 60 replies identical)"
    )


if __name__ == "__main__":
    main()
