"""The base model's outputs kept by request, so the base side of a probe runs once.

Auditing several checkpoints of one run (or several methods in ``compare``) against one base
asks the base the same questions every time: the same prompts, choices and texts, drawn
with the same seed. A :class:`MemoEngine` answers a request it has seen from its memo and
runs only the new ones. What the base is asked because of the tuned model (scoring the tuned
model's replies, the items both models answer) differs between checkpoints, misses the memo
and runs, so nothing that depends on the tuned model is replayed. The memo is keyed by the
token ids, budgets and sampling of each request, and by a scope that a probe sets when it
alters the model for a while (heads masked: ``memo_scope``), so a changed model is never
answered from the unchanged one's outputs.

A memo belongs to one base model (by fingerprint), probe, probe config, seed and task: the
audit keeps it in the results cache beside the probes' results (``tunelens.results.ResultCache``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tunelens.engine._engine import Engine, GenRequest, LLResult, Sampling


class Memo:
    """Outputs by request key, with counts of what was replayed and what ran."""

    def __init__(self, entries: dict[str, Any] | None = None) -> None:
        self.entries: dict[str, Any] = dict(entries or {})
        self.hits = 0
        self.misses = 0
        self.added = 0

    def to_json(self) -> dict[str, Any]:
        return {"entries": self.entries}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Memo:
        return cls(raw.get("entries") or {})

    def reset_counts(self) -> None:
        self.hits = self.misses = self.added = 0


def _key(*parts: Any) -> str:
    text = json.dumps(parts, separators=(",", ":"), default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def to_jsonable(value: Any) -> Any:
    """Arrays, tuples and dataclass-free containers as JSON (arrays keep their dtype)."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [to_jsonable(v) for v in value]}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[to_jsonable(k), to_jsonable(v)] for k, v in value.items()]}
    return value


def from_jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"]).reshape(value["shape"])
        if "__tuple__" in value:
            return tuple(from_jsonable(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {from_jsonable(k): from_jsonable(v) for k, v in value["__dict__"]}
    return value


class MemoEngine(Engine):
    """An :class:`Engine` that answers requests it has answered before from ``memo``.

    Log-likelihoods, per-token log-probabilities and greedy replies are kept per request; a
    sampled generation is kept per call (a request's sample depends on its place in the call),
    replayed only when every request of the call is known. With ``memo`` None it is a plain
    Engine."""

    def __init__(self, loaded: Any, memo: Memo | None = None, **kwargs: Any) -> None:
        super().__init__(loaded, **kwargs)
        self.memo = memo
        self._scope = ""

    @contextlib.contextmanager
    def scope(self, tag: str) -> Iterator[None]:
        """Key every request inside the block by ``tag`` too (the model is altered meanwhile)."""
        previous, self._scope = self._scope, f"{self._scope}/{tag}"
        try:
            yield
        finally:
            self._scope = previous

    def _replay(
        self, keys: Sequence[str], compute: Callable[[list[int]], list[Any]], encode: Callable, decode: Callable
    ) -> list[Any]:
        memo = self.memo
        assert memo is not None
        out: list[Any] = [None] * len(keys)
        missing: list[int] = []
        for i, key in enumerate(keys):
            if key in memo.entries:
                out[i] = decode(memo.entries[key])
                memo.hits += 1
            else:
                missing.append(i)
        if missing:
            # A request asked twice in one call runs once.
            first: dict[str, int] = {}
            for i in missing:
                first.setdefault(keys[i], i)
            order = list(first.values())
            computed = compute(order)
            for i, value in zip(order, computed):
                memo.entries[keys[i]] = encode(value)
                memo.added += 1
            memo.misses += len(missing)
            for i in missing:
                out[i] = decode(memo.entries[keys[i]])
        return out

    def loglikelihood_tokens(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[LLResult]:
        if self.memo is None:
            return super().loglikelihood_tokens(pairs)
        keys = [_key("ll", self._scope, [int(t) for t in c], [int(t) for t in x]) for c, x in pairs]
        return self._replay(
            keys,
            lambda idx: super(MemoEngine, self).loglikelihood_tokens([pairs[i] for i in idx]),
            lambda r: [r.logprob, r.n_tokens, r.is_greedy],
            lambda v: LLResult(float(v[0]), int(v[1]), bool(v[2])),
        )

    def token_logprobs_of(self, encoded: Sequence[Sequence[int]]) -> list[np.ndarray]:
        if self.memo is None:
            return super().token_logprobs_of(encoded)
        keys = [_key("tlp", self._scope, [int(t) for t in ids]) for ids in encoded]
        return self._replay(
            keys,
            lambda idx: super(MemoEngine, self).token_logprobs_of([encoded[i] for i in idx]),
            lambda a: [float(x) for x in a],
            lambda v: np.asarray(v, dtype=np.float64),
        )

    def generate_tokens(
        self, prompts: Sequence[Sequence[int]], requests: Sequence[GenRequest], sampling: Sampling = Sampling()
    ) -> list[str]:
        if self.memo is None:
            return super().generate_tokens(prompts, requests, sampling)
        base = super().generate_tokens

        def one(i: int) -> list[Any]:
            r = requests[i]
            return [[int(t) for t in prompts[i]], r.max_new_tokens, list(r.stop)]

        if sampling.temperature > 0:
            # The whole call is one entry: a sample depends on the request's index in the call.
            key = _key("sample", self._scope, [one(i) for i in range(len(requests))], list(vars(sampling).values()))
            return self._replay([key], lambda _: [base(prompts, requests, sampling)], list, list)[0]
        keys = [_key("greedy", self._scope, one(i)) for i in range(len(requests))]
        return self._replay(
            keys,
            lambda idx: base([prompts[i] for i in idx], [requests[i] for i in idx], sampling),
            str,
            str,
        )

    def memoised(self, kind: str, payload: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (kind, payload): for a probe's own passes that go around the
        engine's methods (attention capture, greedy decoding token by token). The value must be
        made of arrays, numbers, strings, lists, tuples and dicts."""
        if self.memo is None:
            return compute()
        key = _key("call", self._scope, kind, to_jsonable(payload))
        return self._replay([key], lambda _: [compute()], to_jsonable, from_jsonable)[0]


def memoised(engine: Engine, kind: str, payload: Any, compute: Callable[[], Any]) -> Any:
    """:meth:`MemoEngine.memoised` on any engine (a plain Engine just computes)."""
    if isinstance(engine, MemoEngine):
        return engine.memoised(kind, payload, compute)
    return compute()


@contextlib.contextmanager
def memo_scope(engine: Engine, tag: str) -> Iterator[None]:
    """:meth:`MemoEngine.scope` on any engine (a no-op on a plain Engine)."""
    if isinstance(engine, MemoEngine):
        with engine.scope(tag):
            yield
    else:
        yield


__all__ = ["Memo", "MemoEngine", "memo_scope", "memoised"]
