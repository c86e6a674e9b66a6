"""Stickiness forecast per fact: from its exposure count and the base model's prior for its value.

Fine-tuning stores a point fact leakily, in proportion to how often it is seen: Allen-Zhu
& Li 2024 ("Physics of Language Models 3.3") need about 100 exposures for 1 bit per
parameter and about 1000 for 2; on tunelens's own demo (a LoRA epoch over the
support-desk data) only facts seen 30 times are recalled in chat. A value the base model
already expects in its context needs little learning.

Priming (Sun et al. 2025, "How new data permeates LLM knowledge and how to dilute it"):
learning a text whose keyword was improbable before learning makes the model use that
keyword in unrelated contexts; a keyword token probability near 1e-3 before learning
separates primed from unprimed keywords, and 3 exposures suffice.

Two numbers per mention, from one forward pass over the example up to the end of the value
(the first ``MAX_SCORED`` mentions of each fact, fewer when there are many facts; averaged in
log space): the prior, log P(value
| the example up to the value), all of the value's tokens; and the keyword probability, its
least likely token, where the new information sits (" Rey" of " Reykjavik", "4" of "4417").

Rule (thresholds in ``ForecastRule``; exposures are multiplied by the planned epochs):

* likely recalled: prior >= ``known_prior``, or exposures >= ``high_exposure``;
* will leak: exposures < ``low_exposure`` and prior < ``priming_prior`` (or, without a
  model, exposures < ``low_exposure``);
* may leak: everything else;
* priming risk: keyword probability < ``priming_prior`` (unknown without a model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.engine import Engine, LLRequest
from tunelens.triaging._examples import Example
from tunelens.triaging._facts import FactGroup, Mention
from tunelens.triaging._schema import Forecast, ForecastRule

HIGH_EXPOSURE = 30
LOW_EXPOSURE = 10
KNOWN_PRIOR = 0.1
PRIMING_PRIOR = 1e-3
MAX_SCORED = 2
"""Mentions scored per fact: the prior is their mean log-probability."""
PRIOR_BUDGET = 128
"""Mentions scored in all: with many facts each gets fewer (at least one), so triage stays cheap."""
MAX_CONTEXT_CHARS = 2000
"""A context longer than this is cut from the left: the text just before the value is what matters."""


def forecast_rule(epochs: float = 1.0) -> ForecastRule:
    """The rule with its thresholds and its wording."""
    return ForecastRule(
        high_exposure=HIGH_EXPOSURE,
        low_exposure=LOW_EXPOSURE,
        known_prior=KNOWN_PRIOR,
        priming_prior=PRIMING_PRIOR,
        epochs=epochs,
        text=[
            f"Likely recalled: seen at least {HIGH_EXPOSURE} times (exposures \u00d7 epochs), or the base model "
            f"already gives the value a probability of at least {KNOWN_PRIOR:g} in its context.",
            f"Will leak: seen fewer than {LOW_EXPOSURE} times and new to the model (probability below "
            f"{PRIMING_PRIOR:g}); without a model, seen fewer than {LOW_EXPOSURE} times.",
            "May leak: everything in between; recall is partial and grows with exposure "
            "(Allen-Zhu & Li 2024; only facts seen 30 times were recalled after the demo's LoRA epoch).",
            f"Priming risk: the value's least likely token has a probability below {PRIMING_PRIOR:g} before "
            "training; learning such a keyword makes it appear in unrelated contexts, and 3 exposures suffice "
            "(Sun et al. 2025).",
        ],
    )


def forecast(
    exposures: int, prior_logprob: float | None, keyword_logprob: float | None, rule: ForecastRule
) -> tuple[Forecast, str, bool | None]:
    """(forecast, reason in words, priming risk or None without a prior) for one fact."""
    seen = exposures * rule.epochs
    times = f"seen {seen:g} time{'s' if seen != 1 else ''}"
    prior = math.exp(prior_logprob) if prior_logprob is not None else None
    priming = None if keyword_logprob is None else math.exp(keyword_logprob) < rule.priming_prior
    p_text = f"P = {prior:.2g}" if prior is not None else ""
    if prior is not None and prior >= rule.known_prior:
        return "likely_recalled", f"the base model already expects it ({p_text})", priming
    if seen >= rule.high_exposure:
        return "likely_recalled", f"{times} (at least {rule.high_exposure})", priming
    if seen < rule.low_exposure and (prior is None or prior < rule.priming_prior):
        new = f" and new to the model ({p_text})" if prior is not None else ""
        return "will_leak", f"{times} (fewer than {rule.low_exposure}){new}", priming
    detail = f"; {p_text}" if prior is not None else ""
    return "may_leak", f"{times}{detail}: partial recall", priming


def _chat_context(engine: Engine, before: Sequence[dict]) -> str:
    """The prompt text a chat model sees before the trained reply (empty for a text record)."""
    return engine.chat_messages(before) if before else ""


def prior_request(example: Example, mention: Mention, prompt: str) -> LLRequest | None:
    """Score the value given everything before it; the space before the value belongs to the value."""
    head = example.reply[: mention.value.start]
    text = example.reply[mention.value.start : mention.value.end]
    if head.endswith(" "):
        head, text = head[:-1], " " + text
    context = (prompt + head)[-MAX_CONTEXT_CHARS:]
    if not context.strip():
        return None
    return LLRequest(context, text)


@dataclass(frozen=True)
class Prior:
    """The base model's view of one mention's value before training."""

    logprob: float  # log P(value | context): all of the value's tokens
    keyword_logprob: float  # its least likely token: where the new information is (Sun et al.'s keyword)


def _priors_of(engine: Engine, requests: Sequence[LLRequest]) -> list[Prior]:
    """One forward pass per request over context + value; per-token log-probabilities give both numbers."""
    texts = [r.context + r.continuation for r in requests]
    per_token = engine.token_logprobs(texts)
    out: list[Prior | None] = []
    misaligned = []
    for i, (request, logprobs) in enumerate(zip(requests, per_token)):
        n_context = len(engine.encode(request.context))
        if engine.encode(texts[i])[:n_context] != engine.encode(request.context) or n_context < 1:
            out.append(None)  # the value's first token merged with the context's last: score it apart
            misaligned.append(i)
            continue
        value = logprobs[n_context - 1 :]
        out.append(Prior(float(value.sum()), float(value.min())))
    for i, result in zip(misaligned, engine.loglikelihood([requests[i] for i in misaligned])):
        out[i] = Prior(result.logprob, result.logprob)
    return [p for p in out if p is not None]


def scored_per_fact(n_facts: int) -> int:
    """Mentions scored per fact: ``MAX_SCORED``, fewer when ``PRIOR_BUDGET`` would be exceeded."""
    return max(1, min(MAX_SCORED, PRIOR_BUDGET // max(1, n_facts)))


def score_priors(engine: Engine, examples: Sequence[Example], facts: Sequence[FactGroup]) -> list[list[Prior | None]]:
    """The priors of the first mentions of each fact (``scored_per_fact``), batched."""
    prompts: dict[int, str] = {}
    requests: list[LLRequest] = []
    where: list[tuple[int, int]] = []
    per_fact = scored_per_fact(len(facts))
    for f_index, fact in enumerate(facts):
        for m_index, mention in enumerate(fact.mentions[:per_fact]):
            if mention.example not in prompts:
                prompts[mention.example] = _chat_context(engine, examples[mention.example].before)
            request = prior_request(examples[mention.example], mention, prompts[mention.example])
            if request is not None:
                requests.append(request)
                where.append((f_index, m_index))
    out: list[list[Prior | None]] = [[None] * min(len(f.mentions), per_fact) for f in facts]
    for (f_index, m_index), prior in zip(where, _priors_of(engine, requests)):
        out[f_index][m_index] = prior
    return out
