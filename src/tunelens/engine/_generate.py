"""The batched decoding loop: greedy or seeded sampling, stop strings, early exit per row.

Finished rows leave the batch (their cache rows are dropped), so one long answer does
not make every short one pay for its steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tunelens.models import cache_kwargs, cache_of

if TYPE_CHECKING:
    from tunelens.engine._engine import Engine, GenRequest, Sampling


def _cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


NUCLEUS_CANDIDATES = 1024
"""Top-p first looks for the nucleus among this many most likely tokens (a partial sort);
only rows whose nucleus is larger pay for sorting the whole vocabulary."""


def _top_p(probs: Any, top_p: float) -> Any:
    """Zero every token outside the smallest set of most likely tokens whose mass reaches ``top_p``."""
    import torch

    k = min(NUCLEUS_CANDIDATES, probs.shape[-1])
    values, order = probs.topk(k, dim=-1)
    keep = values.cumsum(-1) - values < top_p
    out = torch.zeros_like(probs).scatter(-1, order, values * keep)
    # Rows whose nucleus may reach past the k candidates sort the whole vocabulary.
    wide = keep[:, -1].nonzero().flatten() if k < probs.shape[-1] else []
    if len(wide):
        values, order = probs[wide].sort(dim=-1, descending=True)
        keep = values.cumsum(-1) - values < top_p
        out[wide] = torch.zeros_like(values).scatter(-1, order, values * keep)
    return out


def _pick(logits: Any, sampling: Sampling, generators: list[Any]) -> Any:
    import torch

    if sampling.temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        probs = _top_p(probs, sampling.top_p)
    # One uniform draw per request from its own generator, so a request's sample does not
    # depend on its batch; the token is where the draw falls in the row's cumulative
    # distribution (inverse CDF). This replaces a torch.multinomial call per row, which
    # cost milliseconds a row on a 49k-token vocabulary on a CPU.
    draws = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in generators]).to(logits.device)
    cdf = probs.double().cumsum(-1)
    targets = (draws * cdf[:, -1]).unsqueeze(1)
    picks = torch.searchsorted(cdf, targets, right=True).squeeze(1)  # a zero-probability token is never hit
    return picks.clamp(max=probs.shape[-1] - 1)


def generate_batch(
    engine: Engine,
    prompts: list[list[int]],
    requests: list[GenRequest],
    sampling: Sampling,
    request_ids: list[int],
) -> tuple[list[str], list[list[int]]]:
    """Each request's reply text (cut at its first stop string) and the token ids decoded
    for it (the ending EOS excluded, not cut at a stop string), in the order given."""
    import torch

    from tunelens.engine._attention import eos_ids as ending_ids
    from tunelens.engine._kv_cache import reserve  # imports transformers
    from tunelens.engine._prefill import prefill

    tokenizer = engine.tokenizer
    eos_ids = ending_ids(engine.model, tokenizer)
    generators = [torch.Generator().manual_seed(sampling.seed * 1_000_003 + rid) for rid in request_ids]
    first = prefill(engine, prompts)
    max_steps = max(r.max_new_tokens for r in requests)
    cache = reserve(first.cache, max_steps)
    logits, mask, next_pos = first.logits, first.mask, first.next_pos
    active = list(first.order)  # original row of each live batch row
    generated: list[list[int]] = [[] for _ in prompts]
    texts = [""] * len(prompts)
    for _ in range(max_steps):
        tokens = _pick(logits, sampling, [generators[r] for r in active])
        engine.counters["generated"] += len(active)
        keep: list[int] = []
        for live, row in enumerate(active):
            token = int(tokens[live])
            done = token in eos_ids
            if not done:
                generated[row].append(token)
                stopped = False
                if requests[row].stop:  # only stop strings need the text at every step
                    text = tokenizer.decode(generated[row], skip_special_tokens=True)
                    texts[row], stopped = _cut_at_stop(text, requests[row].stop)
                done = stopped or len(generated[row]) >= requests[row].max_new_tokens
            if not done:
                keep.append(live)
        if not keep:
            break
        if len(keep) < len(active):
            index = torch.tensor(keep, device=mask.device)
            cache.batch_select_indices(index)
            mask, next_pos, tokens = mask[index], next_pos[index], tokens[index]
            active = [active[k] for k in keep]
        mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=mask.device)], dim=1)
        out = engine.model(
            input_ids=tokens[:, None],
            attention_mask=mask,
            position_ids=next_pos[:, None],
            **cache_kwargs(engine.model, cache),
            use_cache=True,
        )
        engine._count_pass(len(active), 1, len(active))
        cache = cache_of(out)
        logits = out.logits[:, -1, :]
        next_pos = next_pos + 1
    for row, request in enumerate(requests):
        if not request.stop:
            texts[row] = tokenizer.decode(generated[row], skip_special_tokens=True)
    return texts, generated
