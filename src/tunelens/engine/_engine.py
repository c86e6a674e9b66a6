"""The scoring kernel every probe uses: batched log-likelihood and batched generation.

Log-likelihood requests are grouped by context, and each distinct context runs through the
model once. Where the model's attention takes a custom mask (``_packed``), a context and
its continuations form one small tree, and trees are packed side by side into wide rows
under one mask that lets each position see only its ancestors: a pass of a few thousand
positions with almost no padding, the unembedding only where a request reads. Other models
(sliding-window layers, logits changed after the unembedding, proxy-tuning, FlashAttention)
run left-padded, length-sorted batches, with each context's key/value cache reused for all
of its continuations, so a multiple-choice question with four options costs one context
pass plus its choices' tokens. A prefix the contexts of a batch share (a template, a task's
instructions, fixed few-shot examples) runs once on either path; on the padded one,
continuations are fed in chunks of positions chosen by cost, rows leaving as their
continuation ends, and one-token continuations need no pass at all. Numbers do not depend
on the batch size or the path (up to float tolerance): padding is masked and position ids
follow the real tokens.

Run ``python benchmarks/engine.py`` for its throughput on the embedded model, and
``python benchmarks/lm_eval_speed.py`` for lm-eval's requests against lm-eval's own HF backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunelens.engine._batching import length_batches
from tunelens.engine._prepack import prepack_linears
from tunelens.models import LoadedModel, cache_kwargs, cache_of

STEP_OVERHEAD_TOKENS = 48
"""The fixed cost of a forward pass in token positions, which sets how continuations are
chunked (``_chunks``): on a 2-core CPU a pass of 4 rows x 1 token of the embedded model took
about as long as 48 more positions in a larger pass."""


@dataclass(frozen=True)
class LLRequest:
    """Score ``continuation`` given ``context`` (the continuation usually starts with a space)."""

    context: str
    continuation: str


@dataclass(frozen=True)
class LLResult:
    logprob: float  # sum of log-probabilities of the continuation tokens
    n_tokens: int
    is_greedy: bool  # every continuation token was the argmax


@dataclass(frozen=True)
class GenRequest:
    prompt: str
    max_new_tokens: int = 64
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; temperature 0 means greedy. Each request gets its own seeded stream."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0


def _chunks(need: Sequence[int], overhead: int) -> list[tuple[int, int]]:
    """Split continuation positions ``[0, max(need))`` into chunks ``[begin, end)``, one forward
    pass each, so that (rows alive at ``begin``) x (end - begin) summed over chunks, plus
    ``overhead`` per pass, is least; a row needing ``n`` tokens is alive while ``begin < n``.
    One pass pads every row to the longest continuation; one pass per token wastes nothing
    but pays the fixed cost of a forward pass (reading every weight) each time."""
    ends = sorted(set(need))
    points = [0, *ends]
    best: dict[int, tuple[int, int]] = {0: (0, -1)}  # point -> (cost, previous point)
    for end in ends:
        options = []
        for begin in points:
            if begin >= end:
                break
            alive = sum(1 for n in need if n > begin)
            options.append((best[begin][0] + overhead + alive * (end - begin), begin))
        best[end] = min(options)
    chunks: list[tuple[int, int]] = []
    point = ends[-1]
    while point > 0:
        previous = best[point][1]
        chunks.append((previous, point))
        point = previous
    return chunks[::-1]


class Engine:
    """Batched scoring and generation over one loaded model."""

    def __init__(
        self,
        loaded: LoadedModel,
        batch_tokens: int | None = None,
        max_batch: int | None = None,
        gen_batch_tokens: int | None = None,
        gen_max_batch: int | None = None,
    ) -> None:
        """``batch_tokens``/``max_batch`` bound a scoring batch (every position's logits are
        kept); ``gen_batch_tokens``/``gen_max_batch`` a generation batch, which keeps only the
        last position's logits and so holds more tokens. A limit left None comes from
        :func:`tunelens.engine._sizing.batch_limits`: on a GPU what its free memory holds for
        this model; on a CPU the scoring constants 4096 and 32, and generation batches of up to
        256 rows within a 2 GiB cache budget for the model's shape (a decoding step's matrix
        products run far below the machine's rate at a few dozen rows: 240 short chat replies
        took 39.3 s in batches of at most 64 rows and 28.5 s in one of 240, same replies).

        ``counters`` adds up the work done: ``positions`` (token positions run through the
        model, rows x new positions of every forward pass, padding included), ``padding``
        (how many of those were padding), ``passes`` (forward passes) and ``generated``
        (tokens decoded: one per live row per step, the EOS that ends a row included);
        :meth:`reset_counters` zeroes them."""
        from tunelens.engine._sizing import batch_limits

        self.loaded = loaded
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        prepack_linears(self.model)
        self.limits = batch_limits(loaded)  # what the limits left None come from, and why
        self.batch_tokens = batch_tokens if batch_tokens is not None else self.limits.batch_tokens
        self.max_batch = max_batch if max_batch is not None else self.limits.max_batch
        self.gen_batch_tokens = gen_batch_tokens if gen_batch_tokens is not None else self.limits.gen_batch_tokens
        self.gen_max_batch = gen_max_batch if gen_max_batch is not None else self.limits.gen_max_batch
        self.pad_id = int(self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0)
        self.step_overhead_tokens = STEP_OVERHEAD_TOKENS
        # Whether a generation batch's prompt pass may run in length groups on a shared
        # prefix and merge their caches (``_prefill``): None until the model's first cache shows it.
        self.prefill_merges: bool | None = None
        from tunelens.engine._packed import packs

        # Whether scoring packs short requests into wide rows under tree masks (``_packed``).
        self.packed_scoring = packs(self)
        self.counters: dict[str, int] = {}
        self.reset_counters()

    def reset_counters(self) -> None:
        """Zero :attr:`counters`."""
        self.counters = {"positions": 0, "padding": 0, "passes": 0, "generated": 0}

    def _count_pass(self, rows: int, width: int, real: int) -> None:
        """One forward pass over ``rows`` x ``width`` new positions, ``real`` of them not padding."""
        counters = self.counters
        counters["positions"] += rows * width
        counters["padding"] += rows * width - real
        counters["passes"] += 1

    def _count_padded(self, seqs: Sequence[Sequence[int]]) -> None:
        """A pass over ``seqs`` left-padded to the longest (:meth:`_left_pad`)."""
        self._count_pass(len(seqs), max(len(s) for s in seqs), sum(len(s) for s in seqs))

    # ----------------------------------------------------------------- text helpers
    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def chat_prompt(self, user: str, system: str | None = None, template: bool = True) -> str:
        """The prompt text a chat model sees for one user turn, ready for the assistant."""
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        return self.chat_messages(messages, template=template)

    def chat_messages(self, messages: Sequence[dict[str, str]], template: bool = True) -> str:
        """A chat as prompt text, ready for the assistant's reply: the tokenizer's chat template
        when it has one (and ``template`` is true), else plain "User:/Assistant:" lines. Every
        chat prompt a probe builds goes through here, so a prompt channel (retrieval) sees it first."""
        rewrite = self.loaded.rewrite_messages
        chat = [dict(m) for m in messages]
        if rewrite is not None:
            chat = rewrite(chat)
        if template and self.has_chat_template:
            return str(self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
        lines: list[str] = []
        for m in chat:
            if m["role"] == "system":
                lines.append(f"{m['content']}\n")
            else:
                lines.append(f"{'User' if m['role'] == 'user' else 'Assistant'}: {m['content']}")
        return "\n".join(lines) + "\nAssistant:"

    def encode(self, text: str) -> list[int]:
        """Token ids of a context; special tokens are added unless the text already starts with BOS."""
        bos = getattr(self.tokenizer, "bos_token", None)
        add = not (bos and text.startswith(bos))
        return list(self.tokenizer(text, add_special_tokens=add)["input_ids"])

    def encode_continuation(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation ids as lm-eval tokenizes a log-likelihood request: trailing
        spaces of the context move to the continuation, the two are encoded together and split
        after the context's own ids, and an empty context becomes the BOS token (EOS without
        one). For :meth:`loglikelihood_tokens`; :meth:`loglikelihood` encodes the parts apart."""
        if context == "":
            cont = self.encode_continuation(continuation)
            prefix = self.tokenizer.bos_token_id
            prefix = int(prefix if prefix is not None else self.tokenizer.eos_token_id)
            return ([prefix], cont) if not cont or cont[0] != prefix else (cont[:1], cont[1:])
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        ctx = self.encode(context)
        return ctx, self.encode(context + continuation)[len(ctx) :]

    # ------------------------------------------------------------ model plumbing
    def _torch(self) -> Any:
        import torch

        return torch

    def _left_pad(self, seqs: Sequence[Sequence[int]]) -> tuple[Any, Any, Any]:
        torch = self._torch()
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        device = self.loaded.device
        return ids.to(device), mask.to(device), positions.to(device)

    # ------------------------------------------------------------- log-likelihood
    def loglikelihood(self, requests: Sequence[LLRequest]) -> list[LLResult]:
        """Log-probability of each continuation given its context, batched and shared."""
        encoded: dict[str, tuple[int, ...]] = {}  # the choices of a question share its context text
        pairs: list[tuple[Sequence[int], Sequence[int]]] = []
        for req in requests:
            if req.context not in encoded:
                encoded[req.context] = tuple(self.encode(req.context))
            pairs.append((encoded[req.context], self.encode_continuation(req.continuation)))
        return self.loglikelihood_tokens(pairs)

    def loglikelihood_tokens(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[LLResult]:
        """:meth:`loglikelihood` of contexts and continuations already tokenized (lm-eval tokenizes
        context and continuation together and splits the ids; both parts must be non-empty).
        Pairs with the same context ids share one context pass."""
        torch = self._torch()
        contexts: dict[tuple[int, ...], list[int]] = {}
        conts: list[list[int]] = []
        for i, (ctx_ids, cont_ids) in enumerate(pairs):
            ctx, cont = tuple(int(t) for t in ctx_ids), [int(t) for t in cont_ids]
            if not ctx or not cont:
                raise ValueError(f"request {i}: context and continuation must both be non-empty")
            contexts.setdefault(ctx, []).append(i)
            conts.append(cont)
        keys = list(contexts)
        if self.packed_scoring:
            return self._loglikelihood_packed(keys, contexts, conts)
        results: list[LLResult | None] = [None] * len(pairs)

        def cost(k: tuple[int, ...]) -> int:
            return len(k) + max(len(conts[i]) for i in contexts[k])

        with torch.inference_mode():
            for batch in length_batches(keys, cost, self.batch_tokens, self.max_batch, self.step_overhead_tokens):
                self._score_batch([keys[j] for j in batch], contexts, conts, results)
        return [r for r in results if r is not None]

    def _loglikelihood_packed(
        self, keys: list[tuple[int, ...]], contexts: dict[tuple[int, ...], list[int]], conts: list[list[int]]
    ) -> list[LLResult]:
        """:meth:`loglikelihood_tokens` with each context and its continuations as one unit of
        packed rows (``_packed``)."""
        from tunelens.engine._packed import context_unit, score

        torch = self._torch()
        units = [context_unit(key, {i: conts[i] for i in contexts[key]}) for key in keys]
        request = torch.tensor([r for unit in units for _, _, r in unit.reads], dtype=torch.long)
        with torch.inference_mode():
            logprob, hit = score(self, units)
        request = request.to(logprob.device)
        total = torch.zeros(len(conts), dtype=torch.float64, device=logprob.device).index_add_(0, request, logprob)
        greedy = torch.ones(len(conts), dtype=torch.bool, device=logprob.device)
        greedy[request[~hit]] = False
        return [LLResult(float(total[i]), len(conts[i]), bool(greedy[i])) for i in range(len(conts))]

    def _context_pass(self, ctx_keys: list[tuple[int, ...]]) -> tuple[Any, Any, Any]:
        """Run a batch of contexts; returns each row's last-position logits, the key/value cache and
        the attention mask over the cached positions.

        When the contexts share a prefix (a task's instructions, the same few-shot examples,
        a question template) that prefix runs once, as a batch of one, and its cache is
        copied to every row; each context's remaining tokens then run left-padded on top of
        it. The padding sits between prefix and suffix, masked, and position ids follow the
        real tokens, so every row computes what it would alone (the idea of prefix caching,
        as in SGLang's RadixAttention, Zheng et al. 2024, applied to the prefix of a batch)."""
        from tunelens.engine._prefill import group_pass, prefill_padded, prefix_pass, shared_prefix

        shared = shared_prefix(ctx_keys) if len(ctx_keys) > 1 else 0
        # Worth a pass of its own when the rows it saves outweigh the fixed cost of a pass.
        if (len(ctx_keys) - 1) * shared <= self.step_overhead_tokens:
            padded = prefill_padded(self, ctx_keys)
            return padded.logits, padded.cache, padded.mask
        head = prefix_pass(self, ctx_keys[0][:shared])
        return group_pass(self, [k[shared:] for k in ctx_keys], head, shared)

    def _score_batch(
        self,
        ctx_keys: list[tuple[int, ...]],
        contexts: dict[tuple[int, ...], list[int]],
        conts: list[list[int]],
        results: list[LLResult | None],
    ) -> None:
        torch = self._torch()
        last_logits, context_cache, mask = self._context_pass(ctx_keys)
        first_logits = last_logits.float()
        rows: list[int] = []  # context row of each continuation
        req_ids: list[int] = []
        for row, key in enumerate(ctx_keys):
            for req in contexts[key]:
                rows.append(row)
                req_ids.append(req)
        device = mask.device
        row_index = torch.tensor(rows, device=device)
        longest = max(len(conts[r]) for r in req_ids)
        # Every continuation token as a target, padded on the right; ``valid`` marks the real ones.
        targets = torch.zeros((len(rows), longest), dtype=torch.long)
        valid = torch.zeros((len(rows), longest), dtype=torch.bool)
        for j, req in enumerate(req_ids):
            targets[j, : len(conts[req])] = torch.tensor(conts[req])
            valid[j, : len(conts[req])] = True
        targets, valid = targets.to(device), valid.to(device)
        # The first token is scored from the context's last position (one row per context).
        first_norm = torch.logsumexp(first_logits, dim=-1)
        logprob = first_logits[row_index, targets[:, 0]] - first_norm[row_index]
        greedy = first_logits.argmax(-1)[row_index] == targets[:, 0]
        # Continuations of more than one token feed all but their last token on top of their
        # context's cache, in chunks of positions: a row leaves the batch once its continuation
        # is scored, so short choices do not pay for the longest one's padding, and one-token
        # continuations (common in multiple choice) need no pass at all (see _chunks).
        feed = [len(conts[req]) - 1 for req in req_ids]  # tokens to feed
        need = torch.tensor(feed, device=device)
        live = (need > 0).nonzero().flatten()
        if len(live):
            cache = context_cache
            cache.batch_select_indices(row_index[live])
            step_mask = mask[row_index[live]]
            position = step_mask.sum(-1, keepdim=True)
            live_feed = [n for n in feed if n > 0]  # as ``need[live]``, for the counters
            for begin, end in _chunks(live_feed, self.step_overhead_tokens):
                alive = [n for n in live_feed if n > begin]
                self._count_pass(len(alive), end - begin, sum(min(n, end) - begin for n in alive))
                keep = (need[live] > begin).nonzero().flatten()
                if len(keep) < len(live):
                    live, step_mask, position = live[keep], step_mask[keep], position[keep]
                    cache.batch_select_indices(keep)
                fed = torch.arange(begin, end, device=device)[None, :] < need[live][:, None]
                inputs = torch.where(fed, targets[live, begin:end], torch.full_like(fed, self.pad_id, dtype=torch.long))
                step_mask = torch.cat([step_mask, fed.long()], dim=1)
                step = self.model(
                    input_ids=inputs,
                    attention_mask=step_mask,
                    position_ids=position + torch.arange(end - begin, device=device)[None, :],
                    **cache_kwargs(self.model, cache),
                    use_cache=True,
                )
                cache = cache_of(step)
                # Log-probabilities of the targets only: the logit minus the log normaliser, so no
                # (rows x positions x vocabulary) tensor of log-probabilities is written.
                logits = step.logits.float()
                target = targets[live, begin + 1 : end + 1]
                lp = logits.gather(2, target[:, :, None]).squeeze(2) - torch.logsumexp(logits, dim=-1)
                logprob[live] += torch.where(fed, lp, torch.zeros_like(lp)).sum(-1)
                greedy[live] &= ((logits.argmax(-1) == target) | ~fed).all(-1)
                position = position + (end - begin)
        for j, req in enumerate(req_ids):
            results[req] = LLResult(float(logprob[j]), len(conts[req]), bool(greedy[j]))

    def token_logprobs(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per-token log-probabilities of each text (token 0 is context only, so n-1 values)."""
        return self.token_logprobs_of([self.encode(t) for t in texts])

    def token_logprobs_of(self, encoded: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """:meth:`token_logprobs` of texts already encoded (two models of one tokenizer score
        the same ids without encoding them twice)."""
        torch = self._torch()
        if self.packed_scoring:
            from tunelens.engine._packed import score, text_unit

            units = [text_unit(seq, i) for i, seq in enumerate(encoded) if len(seq) > 1]
            with torch.inference_mode():
                logprob, _ = score(self, units, share_prefix=False)
            values = logprob.cpu().numpy()
            out_packed, at = [], 0
            for seq in encoded:
                n = max(0, len(seq) - 1)
                out_packed.append(values[at : at + n].copy())
                at += n
            return out_packed
        out: list[np.ndarray | None] = [None] * len(encoded)
        with torch.inference_mode():
            for batch in length_batches(encoded, len, self.batch_tokens, self.max_batch, self.step_overhead_tokens):
                seqs = [encoded[i] for i in batch]
                ids, mask, positions = self._left_pad(seqs)
                self._count_padded(seqs)
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
                # The targets' logits minus the log normaliser, as in _score_batch: no
                # (rows x positions x vocabulary) tensor of log-probabilities is written.
                logits = logits[:, :-1].float()
                picked = logits.gather(2, ids[:, 1:, None]).squeeze(2) - torch.logsumexp(logits, dim=-1)
                for row, i in enumerate(batch):
                    n = len(encoded[i])
                    out[i] = picked[row, picked.shape[1] - (n - 1) :].cpu().numpy().astype(np.float64)
        return [o if o is not None else np.zeros(0) for o in out]

    # ----------------------------------------------------------------- generation
    def generate(self, requests: Sequence[GenRequest], sampling: Sampling = Sampling()) -> list[str]:
        """Generate a reply for each prompt, stopping at EOS or a stop string (excluded)."""
        return self.generate_tokens([self.encode(r.prompt) for r in requests], requests, sampling)

    def generate_tokens(
        self, prompts: Sequence[Sequence[int]], requests: Sequence[GenRequest], sampling: Sampling = Sampling()
    ) -> list[str]:
        """:meth:`generate` from prompts already tokenized (``prompts[i]`` replaces
        ``requests[i].prompt``; the requests give the token budget and stop strings)."""
        return self._decode(prompts, requests, sampling)[0]

    def greedy_token_ids(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> list[list[int]]:
        """The token ids each prompt's greedy reply is made of, in batches (the EOS that ends a
        reply excluded): what a one-prompt greedy loop decodes, up to float tolerance, for
        probes that score the tokens themselves (re-encoding a reply's text need not give
        them back)."""
        requests = [GenRequest("", max_new_tokens)] * len(prompts)
        return self._decode(prompts, requests, Sampling())[1]

    def _decode(
        self, prompts: Sequence[Sequence[int]], requests: Sequence[GenRequest], sampling: Sampling
    ) -> tuple[list[str], list[list[int]]]:
        from tunelens.engine._generate import generate_batch

        torch = self._torch()
        if len(prompts) != len(requests):
            raise ValueError(f"{len(prompts)} prompts for {len(requests)} requests")
        encoded = [[int(t) for t in p] for p in prompts]
        if any(not p for p in encoded):
            raise ValueError("every prompt must hold at least one token")
        texts: list[str] = [""] * len(requests)
        tokens: list[list[int]] = [[] for _ in requests]

        def cost(i: int) -> int:
            return len(encoded[i]) + requests[i].max_new_tokens

        with torch.inference_mode():
            for batch in length_batches(list(range(len(requests))), cost, self.gen_batch_tokens, self.gen_max_batch):
                outs, ids = generate_batch(
                    self, [encoded[i] for i in batch], [requests[i] for i in batch], sampling, batch
                )
                for i, text, row in zip(batch, outs, ids):
                    texts[i], tokens[i] = text, row
        return texts, tokens
