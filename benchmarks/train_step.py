"""A LoRA training step of the demo as ``tuning/_sft.causal_lm_loss`` runs it (the decoder,
then the vocabulary projection on the labelled positions only, its cross-entropy in one
autograd step, the frozen unembedding on its reordered oneDNN copy) against the model's own
forward, which unembeds every position from the first labelled one on.

One model with the demo's LoRA adapter (rank 16 on every projection) and the demo's batches
of 8 support-desk examples; the two ways alternate (``--rounds`` each) on the same batches,
forward and backward, without an optimizer step (so every round sees the same weights).
Prints each run's seconds per step, the ratio of the best runs, the share of positions that
carry a label and the largest difference between the two losses.

    python benchmarks/train_step.py [--steps 4] [--rounds 2]
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
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import torch

    from tunelens.data import support_desk_dataset
    from tunelens.models import load_model
    from tunelens.tuning import _sft
    from tunelens.tuning._recipes import RECIPES

    loaded = load_model(args.model)
    recipe = RECIPES["lora"]
    model = recipe.prepare(loaded.model, dict(recipe.options))
    examples, _ = support_desk_dataset(seed=0)
    encoded = [_sft.encode_example(loaded.tokenizer, e["messages"], 256) for e in examples[: 8 * args.steps]]
    pad = int(loaded.tokenizer.pad_token_id or 0)
    batches = [_sft._collate([(e.ids, e.labels) for e in encoded[i : i + 8]], pad) for i in range(0, len(encoded), 8)]
    labelled = sum(int((labels[:, 1:] != _sft.IGNORE).sum()) for _, labels, _ in batches)
    positions = sum(labels.numel() for _, labels, _ in batches)
    print(f"{machine()}; {len(batches)} batches of 8, {labelled} of {positions} positions labelled")

    real = _sft.decoder_and_unembedding
    ways = {"gathered": real, "own forward": lambda model: None}
    model.train()

    def run(name: str) -> tuple[float, list[float]]:
        _sft.decoder_and_unembedding = ways[name]
        try:
            start = time.perf_counter()
            losses = []
            for ids, labels, mask in batches:
                loss = _sft.causal_lm_loss(model, ids, labels, mask)
                loss.backward()
                model.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
            return (time.perf_counter() - start) / len(batches), losses
        finally:
            _sft.decoder_and_unembedding = real

    torch.manual_seed(0)
    for name in ways:  # warm-up
        run(name)
    best = dict.fromkeys(ways, float("inf"))
    losses = {}
    for round_ in range(args.rounds):
        for name in ways:
            seconds, losses[name] = run(name)
            best[name] = min(best[name], seconds)
            print(f"round {round_ + 1} {name}: {seconds:.2f} s a step")
    gap = max(abs(a - b) for a, b in zip(losses["gathered"], losses["own forward"]))
    print(
        f"best: gathered {best['gathered']:.2f} s, own forward {best['own forward']:.2f} s a step "
        f"({best['own forward'] / best['gathered']:.2f}x); largest loss difference {gap:.1e}"
    )


if __name__ == "__main__":
    main()
