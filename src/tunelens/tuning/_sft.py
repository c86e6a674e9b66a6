"""Supervised fine-tuning loop shared by the recipes: loss on the assistant's reply only.

Each conversation is rendered with the model's chat template; tokens of the prompt part
(everything up to the last assistant turn) are masked from the loss, so the model learns
the replies, including the end-of-turn token that teaches it to stop. A record that is a
lone assistant message is plain text and is trained on whole.

Examples longer than ``max_length`` tokens are cut there: the end of their reply is not
trained (truncated). One whose prompt alone fills ``max_length`` has no reply token left and
is left out (dropped). ``train`` counts both, says so through ``progress`` and returns the
counts, so that no example disappears unnoticed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tunelens.errors import TunelensError
from tunelens.models import cache_kwargs, cache_of, decoder_and_unembedding
from tunelens.tuning._vocab_loss import vocab_cross_entropy

IGNORE = -100


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one run; the recipe decides which parameters are trainable."""

    epochs: float = 2.0
    learning_rate: float = 1e-3
    batch_size: int = 8
    max_length: int = 256
    warmup_steps: int = 4
    weight_decay: float = 0.0
    seed: int = 0


class UpdateRule(Protocol):
    """A change to every optimizer step that composes with any recipe (ignore-k, isolation).

    ``before_step`` runs after the backward pass and before gradient clipping, so a rule
    can edit gradients; ``after_step`` runs after ``optimizer.step()`` on the new weights.
    """

    def before_step(self) -> None: ...

    def after_step(self) -> None: ...


@dataclass
class TrainRecord:
    steps: int
    loss_curve: list[tuple[int, float]]
    seconds: float
    n_examples: int = 0  # examples trained on: those given less the dropped ones
    n_truncated: int = 0  # cut at max_length: the end of the reply not trained
    n_dropped: int = 0  # left out: no reply token within max_length


@dataclass(frozen=True)
class Encoded:
    """One example as token ids and labels (IGNORE where no loss), cut at ``max_length``.

    ``truncated``: the example was longer than ``max_length`` and still has reply tokens
    (the end of its reply is not trained); ``prompt_tokens``: tokens before the reply."""

    ids: list[int]
    labels: list[int]
    truncated: bool
    prompt_tokens: int = 0

    @property
    def dropped(self) -> bool:
        """No token left to learn from: the prompt fills ``max_length`` (or the reply is empty)."""
        return all(label == IGNORE for label in self.labels)


def reply_index(messages: Sequence[dict]) -> int:
    """The index of the trained reply: the last assistant message with text (else the last one)."""
    replies = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if not replies:
        raise TunelensError("a training example has no assistant message; training learns from the assistant's reply")
    with_text = [i for i in replies if str(messages[i]["content"]).strip()]
    return (with_text or replies)[-1]


def encode_example(tokenizer: Any, messages: Sequence[dict], max_length: int) -> Encoded:
    """Token ids and labels (prompt tokens set to IGNORE) for one conversation, and whether
    ``max_length`` cut it."""
    if len(messages) == 1 and messages[0]["role"] == "assistant":
        ids = list(tokenizer(messages[0]["content"], add_special_tokens=True)["input_ids"])
        if tokenizer.eos_token_id is not None:
            ids.append(int(tokenizer.eos_token_id))
        kept = ids[:max_length]
        return Encoded(kept, list(kept), truncated=len(ids) > max_length)
    last = reply_index(messages)
    if getattr(tokenizer, "chat_template", None):
        try:
            prompt = tokenizer.apply_chat_template(list(messages[:last]), tokenize=False, add_generation_prompt=True)
            full = tokenizer.apply_chat_template(list(messages[: last + 1]), tokenize=False)
        except Exception as exc:  # the template's own check (jinja2 raises its own error types)
            roles = ", ".join(m["role"] for m in messages[: last + 1])
            raise TunelensError(
                f"the model's chat template cannot render a training conversation with the roles {roles}: {exc}"
            ) from exc
    else:
        prompt = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages[:last]) + "Assistant:"
        full = prompt + " " + messages[last]["content"] + (tokenizer.eos_token or "")
    bos = getattr(tokenizer, "bos_token", None)
    add = not (bos and full.startswith(bos))
    prompt_ids = list(tokenizer(prompt, add_special_tokens=add)["input_ids"])
    all_ids = list(tokenizer(full, add_special_tokens=add)["input_ids"])
    full_ids = all_ids[:max_length]
    labels = [IGNORE] * min(len(prompt_ids), len(full_ids)) + full_ids[len(prompt_ids) :]
    truncated = len(all_ids) > max_length and len(full_ids) > len(prompt_ids)
    return Encoded(full_ids, labels, truncated=truncated, prompt_tokens=len(prompt_ids))


def encode_conversation(tokenizer: Any, messages: Sequence[dict], max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (prompt tokens set to IGNORE) for one conversation."""
    encoded = encode_example(tokenizer, messages, max_length)
    return encoded.ids, encoded.labels


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def length_warning(n_examples: int, n_truncated: int, n_dropped: int, max_length: int) -> str | None:
    """What ``max_length`` did to the examples, in words, or None when it cut none."""
    if not n_truncated and not n_dropped:
        return None
    limit = f"--max-length {max_length} tokens"
    if n_truncated and n_dropped:
        n = n_truncated + n_dropped
        return (
            f"{n} of {n_examples} examples are longer than {limit}: {n_truncated} "
            f"{_plural(n_truncated, 'was', 'were')} cut to {max_length} (their reply's end is not trained) and "
            f"{n_dropped} had no reply token within the limit and {_plural(n_dropped, 'was', 'were')} left out. "
            "Raise --max-length to keep them."
        )
    if n_truncated:
        return (
            f"{n_truncated} of {n_examples} examples {_plural(n_truncated, 'is', 'are')} longer than {limit}: cut to "
            f"{max_length} (their reply's end is not trained). Raise --max-length to keep them whole."
        )
    return (
        f"{n_dropped} of {n_examples} examples had no reply token within {limit} (the text before the reply "
        f"fills the limit): left out. Raise --max-length to keep {_plural(n_dropped, 'it', 'them')}."
    )


def _all_dropped(encoded: Sequence[Encoded], max_length: int) -> TunelensError:
    long = [e.prompt_tokens for e in encoded if e.prompt_tokens >= max_length]
    if not long:
        return TunelensError("no trainable tokens: every example is empty after tokenisation")
    return TunelensError(
        f"all {len(encoded)} examples were left out: none has a reply token within --max-length {max_length} "
        f"tokens (the text before the reply takes {min(long)} tokens or more). Raise --max-length above "
        f"{max(long)}, or shorten the prompts (system message, earlier turns)."
    )


def _collate(batch: list[tuple[list[int], list[int]]], pad_id: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (x, y) in enumerate(batch):
        ids[row, : len(x)] = torch.tensor(x)
        labels[row, : len(y)] = torch.tensor(y)
        mask[row, : len(x)] = 1
    return ids, labels, mask


SHARED_PREFIX_MIN = 8
"""Fewest tokens a prefix shared by every example of a batch needs to run once for the batch."""


def causal_lm_loss(model: Any, ids: Any, labels: Any, mask: Any) -> Any:
    """Mean cross-entropy over the labelled tokens, as ``model(labels=...).loss``, with two
    savings that leave the loss and its gradients as they are (float tolerance):

    * the vocabulary projection only where a label is: the decoder runs for the hidden
      states, and the unembedding and the log-softmax see only the positions whose next
      token is labelled, gathered into one matrix (on the embedded model the projection onto
      49,152 tokens, forward and backward, took a fifth of a demo step when it ran at every
      position from the first labelled one on). A model whose forward changes the logits
      after the unembedding (``decoder_and_unembedding``) keeps its own forward, with logits
      from the first position that predicts a label onward. The cross-entropy and its
      gradient take one autograd step (``vocab_cross_entropy``);
    * a prefix every example of the batch shares (a chat template's system prompt: 24 of the
      111 tokens of a demo example) runs once, as one row, and its keys and values are
      gathered for every row; gradients reach it through the gather, summed over the rows, as
      they would from each row's own copy. Rows are right-padded, so positions need no change.
    """
    import torch

    width = ids.shape[1]
    labelled = (labels != IGNORE).any(0).nonzero()
    first = int(labelled[0]) if len(labelled) else width - 1
    keep = width - max(first - 1, 0)  # logits at positions width-keep .. width-1
    shared = _shared_prefix(ids, mask, limit=width - keep)
    parts = decoder_and_unembedding(model)
    run = parts[0] if parts is not None else model
    kwargs: dict[str, Any] = {} if parts is not None else {"logits_to_keep": keep}
    start = 0
    if len(ids) > 1 and shared >= SHARED_PREFIX_MIN:
        prefix = run(input_ids=ids[:1, :shared], attention_mask=mask[:1, :shared], use_cache=True)
        cache = cache_of(prefix)
        cache.batch_select_indices(torch.zeros(len(ids), dtype=torch.long, device=ids.device))
        out = run(
            input_ids=ids[:, shared:],
            attention_mask=mask,
            position_ids=torch.arange(shared, width, device=ids.device)[None, :].expand(len(ids), -1),
            **cache_kwargs(run, cache),
            use_cache=True,
            **kwargs,
        )
        start = shared
    else:
        out = run(input_ids=ids, attention_mask=mask, **kwargs)
    if parts is None:
        logits = out.logits[:, :-1]
        targets = labels[:, width - keep + 1 :]
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=IGNORE
        )
    # out.last_hidden_state covers positions start .. width-1; position p predicts token p+1.
    targets = labels[:, start + 1 :]
    read = targets != IGNORE
    return vocab_cross_entropy(parts[1], out.last_hidden_state[:, :-1][read], targets[read])


def _shared_prefix(ids: Any, mask: Any, limit: int) -> int:
    """How many leading tokens every row has alike (none of them padding), at most ``limit``
    (the prefix pass gives no logits, so it stops before the first position that needs one)."""
    same = ((ids == ids[:1]) & (mask == 1)).all(0)
    differing = (~same[:limit]).nonzero()
    return int(differing[0]) if len(differing) else int(min(limit, len(same)))


def train(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[dict]],
    cfg: TrainConfig,
    *,
    show_progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    rules: Sequence[UpdateRule] = (),
    progress: Callable[[str], None] | None = None,
) -> TrainRecord:
    """Train the parameters of ``model`` that require grad; returns the loss curve and how
    many examples ``cfg.max_length`` cut (``n_truncated``) or left out (``n_dropped``).

    ``rules`` hook into each optimizer step in order (see ``UpdateRule``); ``progress``
    hears, before the first step, what the token limit did to the examples. Raises
    TunelensError when it leaves out every example."""
    import torch

    torch.manual_seed(cfg.seed)
    examples = [encode_example(tokenizer, c, cfg.max_length) for c in conversations]
    n_truncated = sum(e.truncated for e in examples)
    n_dropped = sum(e.dropped for e in examples)
    if not examples:
        raise TunelensError("no training examples")
    if n_dropped == len(examples):
        raise _all_dropped(examples, cfg.max_length)
    warning = length_warning(len(examples), n_truncated, n_dropped, cfg.max_length)
    if warning and progress is not None:
        progress(warning)
    encoded = [(e.ids, e.labels) for e in examples if not e.dropped]
    per_epoch = math.ceil(len(encoded) / cfg.batch_size)
    total = max(1, round(per_epoch * cfg.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:  # linear warm-up, then cosine decay to 10%
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    rng = random.Random(cfg.seed)
    order: list[int] = []
    device = next(model.parameters()).device
    curve: list[tuple[int, float]] = []
    bar = _progress(total, show_progress)
    started = time.perf_counter()
    model.train()
    for step in range(total):
        if len(order) < cfg.batch_size:
            fresh = list(range(len(encoded)))
            rng.shuffle(fresh)
            order += fresh
        batch = [encoded[i] for i in order[: cfg.batch_size]]
        del order[: cfg.batch_size]
        ids, labels, mask = (t.to(device) for t in _collate(batch, pad_id))
        loss = causal_lm_loss(model, ids, labels, mask)
        loss.backward()
        for rule in rules:
            rule.before_step()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        for rule in rules:
            rule.after_step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        curve.append((step + 1, round(value, 4)))
        if on_step:
            on_step(step + 1, value)
        bar.update(1)
        bar.set_postfix(loss=f"{value:.3f}")
    bar.close()
    model.eval()
    return TrainRecord(
        steps=total,
        loss_curve=curve,
        seconds=round(time.perf_counter() - started, 2),
        n_examples=len(encoded),
        n_truncated=n_truncated,
        n_dropped=n_dropped,
    )


def _progress(total: int, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="step", disable=not show, leave=True)
