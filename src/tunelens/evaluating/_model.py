"""``TunelensLM``: lm-evaluation-harness's ``LM`` API on tunelens's engine.

Registered with lm-eval as the model type ``tunelens``, so any lm-eval task runs on any
model reference tunelens loads (embedded models, GGUF files, HF folders, PEFT adapters,
SVF checkpoints, hub ids, ``proxy:``/``retrieval:`` channels)::

    python -m tunelens.evaluating --model tunelens --model_args pretrained=embedded:smollm2-135m-instruct \\
        --tasks hellaswag --output_path out --log_samples

Requests are tokenized exactly as lm-eval's Hugging Face backend (``model="hf"``) tokenizes
them (context and continuation encoded together and split, an empty context replaced by
the BOS token, rolling windows from ``lm_eval.utils``, generation contexts left-truncated to
``max_length - max_gen_toks``), and stop strings are cut the way it cuts them, so the
numbers and the greedy text are the HF backend's (to float tolerance). What differs is the
scheduling: ``Engine.loglikelihood_tokens`` runs each distinct context once and scores all
of its continuations from the context's key/value cache, so a four-choice question costs
one context pass rather than four full passes.

``--model_args``: ``pretrained`` (a model reference), ``device``, ``dtype`` (float32,
bfloat16, float16; ``auto`` = tunelens's default), ``allow_pickle``, ``trust_remote_code``,
``batch_tokens`` (padded tokens per scoring batch), ``max_length``,
``max_gen_toks``, ``add_bos_token``, ``prefix_token_id`` and ``seed`` (for sampled generation).
lm-eval's own ``--batch_size N`` caps the rows of a scoring batch (1, its default, and
``auto`` leave the engine's token budget in charge: the numbers do not depend on the batch).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lm_eval.models  # noqa: F401  (lm-eval's own model names go into the registry first)
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import model_registry
from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs, postprocess_generated_text
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window
from tqdm import tqdm

from tunelens.engine import Engine, GenRequest, Sampling
from tunelens.errors import TunelensError
from tunelens.models import LoadedModel, LoadOptions, load_model

logger = logging.getLogger(__name__)

MODEL_NAME = "tunelens"
"""The name lm-eval knows the model type by (``--model tunelens``)."""

DEFAULT_MAX_LENGTH = 2048
"""The context length when neither the model's config nor its tokenizer states one (as lm-eval's HF backend)."""

DEFAULT_MAX_GEN_TOKS = 256
"""Tokens generated when a task sets no ``max_gen_toks`` (as lm-eval's HF backend)."""

SCORING_CONTEXTS = 128
"""Contexts per scoring batch (the engine's token budget still bounds a batch). Larger than
the engine's default of 32: lm-eval's multiple-choice contexts are short, and on a 2-core CPU
a pass of 32 short contexts leaves the matrix products small; on 200 zero-shot capital-city
questions (benchmarks/lm_eval_speed.py) 128 took 5.5 s against 6.0 s for 32, and the same at
five-shot, where the token budget decides."""

CHUNK_CONTEXTS = 512
"""Distinct contexts handed to the engine at a time, so the progress bar moves on large tasks."""

ACCEPTED_ARGS = (
    "pretrained",
    "device",
    "dtype",
    "allow_pickle",
    "trust_remote_code",
    "batch_size",
    "max_batch_size",
    "batch_tokens",
    "max_length",
    "max_gen_toks",
    "add_bos_token",
    "prefix_token_id",
    "seed",
)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _batch_rows(batch_size: Any, max_batch_size: Any) -> int | None:
    """The engine's rows per scoring batch from lm-eval's ``batch_size``, or None for the engine's own.

    lm-eval's command line always passes ``batch_size`` (1 unless told otherwise), and a batch
    of one is not what anyone wants from the engine, whose numbers do not depend on the batch:
    1 and ``auto`` leave the engine's token budget in charge (``auto:N`` too, capped by
    ``max_batch_size`` when given); a larger number caps the rows of a batch."""
    cap = int(max_batch_size) if max_batch_size not in (None, "") else None
    if batch_size in (None, "") or str(batch_size).startswith("auto"):
        return cap
    try:
        rows = int(batch_size)
    except (TypeError, ValueError):
        raise TunelensError(f"batch_size={batch_size!r}: give a whole number or 'auto'") from None
    if rows < 1:
        raise TunelensError(f"batch_size={batch_size!r}: give a whole number of at least 1 or 'auto'")
    return None if rows == 1 else rows


def _device(device: Any) -> str | None:
    """lm-eval's command line passes ``device=cuda:0`` unless told otherwise; on a machine
    without that GPU this falls back to tunelens's default device, as the HF backend does."""
    if device in (None, ""):
        return None
    name = str(device)
    if name.startswith("cuda"):
        import torch

        index = int(name.split(":", 1)[1]) if ":" in name and name.split(":", 1)[1].isdigit() else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            logger.warning("device %s is not available; using tunelens's default device", name)
            return None
    return name


def _ordered_chunks(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[list[int]]:
    """Request indices in chunks of whole contexts, longest context first (the engine's own order),
    so that chunking changes neither the batches much nor which requests share a context pass."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, _) in enumerate(pairs):
        groups.setdefault(tuple(ctx), []).append(i)
    keys = sorted(groups, key=lambda k: -(len(k) + max(len(pairs[i][1]) for i in groups[k])))
    return [
        [i for key in keys[start : start + CHUNK_CONTEXTS] for i in groups[key]]
        for start in range(0, len(keys), CHUNK_CONTEXTS)
    ]


class TunelensLM(TemplateLM):
    """lm-eval's ``LM`` API (loglikelihood, loglikelihood_rolling, generate_until) on a tunelens Engine."""

    backend = "causal"

    def __init__(
        self,
        pretrained: str | LoadedModel | Engine = "embedded:smollm2-135m-instruct",
        device: str | None = None,
        dtype: str | None = None,
        allow_pickle: bool | str = False,
        trust_remote_code: bool | str = False,
        batch_size: int | str | None = None,
        max_batch_size: int | str | None = None,
        batch_tokens: int | str | None = None,
        max_length: int | str | None = None,
        max_gen_toks: int | str = DEFAULT_MAX_GEN_TOKS,
        add_bos_token: bool | str | None = None,
        prefix_token_id: int | str | None = None,
        seed: int | str = 0,
        **unknown: Any,
    ) -> None:
        super().__init__()
        if unknown:
            raise TunelensError(
                f"the tunelens model type does not take {', '.join(sorted(unknown))} in --model_args; "
                f"it takes {', '.join(ACCEPTED_ARGS)}"
            )
        if isinstance(pretrained, Engine):
            engine = pretrained
        else:
            if isinstance(pretrained, LoadedModel):
                loaded = pretrained
            else:
                options = LoadOptions(
                    device=_device(device),
                    dtype=None if dtype in (None, "", "auto") else str(dtype),
                    allow_pickle=_flag(allow_pickle),
                    trust_remote_code=_flag(trust_remote_code),
                )
                loaded = load_model(str(pretrained), options)
            engine = Engine(loaded, max_batch=SCORING_CONTEXTS)
        rows = _batch_rows(batch_size, max_batch_size)
        if rows is not None:
            engine.max_batch = rows
        if batch_tokens not in (None, ""):
            engine.batch_tokens = int(batch_tokens)
        self.engine = engine
        self.loaded = engine.loaded
        self.tokenizer = engine.tokenizer
        self._device = engine.loaded.device
        self._max_length = int(max_length) if max_length not in (None, "") else None
        self._max_gen_toks = int(max_gen_toks)
        self.add_bos_token = None if add_bos_token in (None, "") else _flag(add_bos_token)
        self.custom_prefix_token_id = int(prefix_token_id) if prefix_token_id not in (None, "") else None
        self.seed = int(seed)
        self.batch_size_setting = batch_size

    # --------------------------------------------------------------- properties
    @property
    def eot_token_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    @property
    def prefix_token_id(self) -> int:
        """The token an empty context (and a rolling window's first token) is conditioned on:
        BOS when the tokenizer has one, else EOS, as lm-eval's HF backend."""
        if self.custom_prefix_token_id is not None:
            return self.custom_prefix_token_id
        if self.tokenizer.bos_token_id is not None:
            return int(self.tokenizer.bos_token_id)
        return self.eot_token_id

    @property
    def max_length(self) -> int:
        if self._max_length:
            return self._max_length
        from lm_eval.models.utils import resolve_max_length

        return resolve_max_length(
            getattr(self.engine.model, "config", None), self.tokenizer, default=DEFAULT_MAX_LENGTH
        )

    @property
    def max_gen_toks(self) -> int:
        return self._max_gen_toks

    @property
    def tokenizer_name(self) -> str:
        return str(getattr(self.tokenizer, "name_or_path", "")).replace("/", "__")

    # ------------------------------------------------------------- tokenization
    def tok_encode(
        self, string: str, add_special_tokens: bool | None = None, left_truncate_len: int | None = None, **kwargs: Any
    ) -> list[int]:
        """As lm-eval's HF backend: the tokenizer's special tokens unless told otherwise, and none
        when the text already starts with the prefix token."""
        if add_special_tokens is not None:
            special = {"add_special_tokens": add_special_tokens}
        elif self.add_bos_token is not None:
            special = {"add_special_tokens": self.add_bos_token}
        else:
            special = {}
        if add_special_tokens is None and string.startswith(self.tokenizer.decode(self.prefix_token_id)):
            special["add_special_tokens"] = False
        ids = list(self.tokenizer.encode(string, **special))
        return ids[-left_truncate_len:] if left_truncate_len else ids

    def tok_decode(self, tokens: Any, skip_special_tokens: bool = True) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=skip_special_tokens))

    def _generation_encode(self, context: str) -> list[int]:
        """A generation context's ids as the HF backend's batch encoding makes them."""
        bos = getattr(self.tokenizer, "bos_token", None)
        if bos and context.startswith(bos):
            special: dict[str, bool] = {"add_special_tokens": False}
        elif self.add_bos_token is not None:
            special = {"add_special_tokens": self.add_bos_token}
        else:
            special = {}
        return list(self.tokenizer(context, **special)["input_ids"])

    # ----------------------------------------------------------- log-likelihood
    def _score_pairs(
        self, pairs: list[tuple[list[int], list[int]]], desc: str, disable_tqdm: bool
    ) -> list[tuple[float, bool]]:
        out: list[tuple[float, bool] | None] = [None] * len(pairs)
        with tqdm(total=len(pairs), desc=desc, disable=disable_tqdm or self.rank != 0) as bar:
            for chunk in _ordered_chunks(pairs):
                scored = self.engine.loglikelihood_tokens([pairs[i] for i in chunk])
                for i, result in zip(chunk, scored):
                    out[i] = (result.logprob, result.is_greedy)
                bar.update(len(chunk))
        return [r for r in out if r is not None]

    def _fit(self, context: list[int], continuation: list[int]) -> tuple[list[int], list[int]]:
        """Left-truncate a pair that does not fit in ``max_length`` (the HF backend keeps the last
        ``max_length + 1`` tokens of context + continuation and feeds all but the last)."""
        limit = self.max_length
        if len(continuation) > limit:
            raise TunelensError(
                f"a continuation of {len(continuation)} tokens is longer than the model's context of {limit} "
                "tokens; pass a larger max_length in --model_args if the model supports it"
            )
        total = len(context) + len(continuation)
        if total > limit + 1:
            logger.warning(
                "context (%d tokens) and continuation (%d) exceed the model's maximum length (%d); "
                "truncating %d tokens from the left",
                len(context),
                len(continuation),
                limit,
                total - limit - 1,
            )
            context = (context + continuation)[-(limit + 1) : -len(continuation)]
        return context, continuation

    def _loglikelihood_tokens(
        self,
        requests: list[tuple[tuple[str, str] | None, list[int], list[int]]],
        disable_tqdm: bool = False,
        **kwargs: Any,
    ) -> list[tuple[float, bool]]:
        pairs = [self._fit(list(ctx), list(cont)) for _, ctx, cont in requests]
        answers = self._score_pairs(pairs, "Running loglikelihood requests", disable_tqdm)
        for (request_str, _, _), answer in zip(requests, answers):
            if request_str is not None:
                self.cache_hook.add_partial("loglikelihood", request_str, answer)
        return answers

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        """Each text's total log-likelihood in disjoint windows of ``max_length`` tokens, every token
        predicted once with as much context as fits (``lm_eval.utils.get_rolling_token_windows``)."""
        pairs: list[tuple[list[int], list[int]]] = []
        owner: list[int] = []
        for index, (string,) in enumerate(req.args for req in requests):
            windows = get_rolling_token_windows(
                token_list=self.tok_encode(string),
                prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length,
                context_len=1,
            )
            for ctx, cont in map(make_disjoint_window, windows):
                pairs.append((list(ctx), list(cont)))
                owner.append(index)
        scored = self._score_pairs(pairs, "Running loglikelihood_rolling requests", disable_tqdm)
        totals = [0.0] * len(requests)
        for index, (logprob, _) in zip(owner, scored):
            totals[index] += logprob
        for req, total in zip(requests, totals):
            self.cache_hook.add_partial("loglikelihood_rolling", (req.args[0],), total)
        return totals

    # ---------------------------------------------------------------- generation
    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        """Greedy continuation (or seeded sampling when a task sets ``do_sample``) until a stop
        string, EOS or ``max_gen_toks`` tokens; the text is cut before the first stop string."""
        eos = self.tok_decode(self.eot_token_id, skip_special_tokens=False)
        groups: dict[Sampling, list[int]] = {}
        prepared: list[tuple[list[int], GenRequest, list[str]]] = []
        for context, gen_kwargs in (req.args for req in requests):
            if not isinstance(gen_kwargs, dict):
                raise TunelensError(f"generation arguments must be a dict, got {type(gen_kwargs).__name__}")
            kwargs = dict(normalize_gen_kwargs(gen_kwargs, self.max_gen_toks))
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
            max_gen_toks = int(kwargs.pop("max_gen_toks"))
            room = self.max_length - max_gen_toks
            if room <= 0:
                raise TunelensError(
                    f"max_gen_toks={max_gen_toks} leaves no room for the prompt in a context of {self.max_length} "
                    "tokens; lower max_gen_toks"
                )
            ids = self._generation_encode(context)[-room:]
            sampling = Sampling(
                temperature=float(kwargs.get("temperature") or 0.0) if kwargs.get("do_sample") else 0.0,
                top_p=float(kwargs.get("top_p") or 1.0) if kwargs.get("do_sample") else 1.0,
                seed=self.seed,
            )
            groups.setdefault(sampling, []).append(len(prepared))
            prepared.append(
                (ids, GenRequest("", max_new_tokens=max_gen_toks, stop=tuple(s for s in until if s)), until)
            )
        texts: list[str] = [""] * len(requests)
        with tqdm(
            total=len(requests), desc="Running generate_until requests", disable=disable_tqdm or self.rank != 0
        ) as bar:
            for sampling, members in groups.items():
                outs = self.engine.generate_tokens(
                    [prepared[i][0] for i in members], [prepared[i][1] for i in members], sampling
                )
                for i, text in zip(members, outs):
                    texts[i] = postprocess_generated_text(text, prepared[i][2], None)
                bar.update(len(members))
        for req, text in zip(requests, texts):
            self.cache_hook.add_partial("generate_until", req.args, text)
        return texts

    # ------------------------------------------------------------------- chat
    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """The tokenizer's chat template over the history; a ``retrieval:`` reference puts its facts
        into the chat first, as it does for tunelens's own chat prompts."""
        chat = [dict(m) for m in chat_history]
        if self.loaded.rewrite_messages is not None:
            chat = self.loaded.rewrite_messages(chat)
        if not getattr(self.tokenizer, "chat_template", None):
            raise TunelensError(f"{self.loaded.ref} has no chat template; run without --apply_chat_template")
        import jinja2

        def render(messages: list[dict[str, str]]) -> str:
            return str(
                self.tokenizer.apply_chat_template(
                    messages,
                    tokenize=False,
                    add_generation_prompt=add_generation_prompt,
                    continue_final_message=not add_generation_prompt,
                )
            )

        try:
            return render(chat)
        except jinja2.exceptions.TemplateError:  # as the HF backend: some templates refuse a system turn
            logger.warning("the chat template failed; retrying without the system turn")
            return render([m for m in chat if m["role"] != "system"])

    def get_model_info(self) -> dict[str, Any]:
        from tunelens._version import __version__

        model = self.engine.model
        return {
            "model_ref": self.loaded.ref,
            "model_kind": self.loaded.kind,
            "model_num_parameters": sum(p.numel() for p in model.parameters()),
            "model_dtype": str(next(model.parameters()).dtype),
            "tunelens_version": __version__,
        }


def _register() -> None:
    # A second import (a reloaded module) keeps the class registered first: the registry
    # refuses to rebind a name, and both classes are the same code.
    if MODEL_NAME not in model_registry:
        model_registry.register(MODEL_NAME)(TunelensLM)


_register()
