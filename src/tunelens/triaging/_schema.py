"""The triage schema: ``triage.json`` is the source of truth of a triage.

``triage.html`` is rendered from these models alone, so a page can be re-rendered from a
saved file. The schema is versioned: readers refuse a file whose major version they do
not know.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tunelens.probes._surface import KINDS as FEATURE_KINDS

TRIAGE_SCHEMA_VERSION = "1.1"

Forecast = Literal["likely_recalled", "may_leak", "will_leak"]
FactKind = Literal[
    "money", "percent", "quantity", "time", "date", "identifier", "email", "url", "phone", "number", "name"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataSummary(_Model):
    """What was read."""

    source: str = Field(description="The data file (or a note that records came from memory).")
    n_examples: int
    forms: dict[str, int] = Field(
        description="Examples per record form present (chat, prompt_completion, text, sharegpt, alpaca)."
    )
    median_reply_words: float = Field(description="Median length of the trained replies, in words.")


class PatternFeature(_Model):
    """Something that recurs across many trained replies: fine-tuning installs it durably."""

    id: str = Field(description="Stable identifier, e.g. 'opening_line:1'.")
    kind: Literal[FEATURE_KINDS] = Field(description="The kind of feature (tunelens.probes._surface.KINDS).")
    label: str = Field(description="What the feature is, in words.")
    example: str = Field(description="One instance as it appears in the data.")
    count: int = Field(description="Examples that have the feature.")
    share: float = Field(description="count / number of examples.")
    lines: list[int] = Field(description="Line numbers of the first examples that have it (at most 10).")
    regex: str = Field(
        default="",
        description="A regex (re.search, multiline) that reproduces the feature on any reply, for a task spec; "
        "'' where none can (prose, a language).",
    )
    train: bool = Field(description="Recommended to train: it recurs in at least TRAIN_SHARE of examples.")


class FactMention(_Model):
    """One statement of a fact in one example."""

    line: int
    value: str = Field(description="The value as written.")
    sentence: str = Field(description="The sentence that states it.")
    prior_logprob: float | None = Field(
        default=None, description="log P(value | the example up to the value) under the base model, nats."
    )
    keyword_logprob: float | None = Field(
        default=None, description="Log-probability of the value's least likely token in that context, nats."
    )


class Fact(_Model):
    """A point fact: one value about one attribute, with how often the data states it."""

    id: str
    value: str = Field(description="Canonical value: '13%', '45 days', '$4.75 per month'.")
    kind: FactKind
    dimension: str = Field(description="Values of one dimension can contradict each other, e.g. 'duration'.")
    attribute: list[str] = Field(description="Words that say what the value is about, most telling first.")
    entities: list[str] = Field(description="Proper nouns in most of its sentences (a plan, a product).")
    exposures: int = Field(description="Number of examples that state the fact.")
    lines: list[int] = Field(description="Line numbers of every example that states it.")
    mentions: list[FactMention] = Field(description="Its statements, at most MAX_MENTIONS of them.")
    prior_logprob: float | None = Field(
        default=None, description="Mean over scored mentions of log P(value | context) under the base model, nats."
    )
    prior_prob: float | None = Field(
        default=None, description="exp(prior_logprob): the value's probability before training."
    )
    keyword_prob: float | None = Field(
        default=None,
        description="exp of the mean over scored mentions of the value's least likely token log-probability.",
    )
    forecast: Forecast = Field(description="Stickiness forecast from exposures and prior (see ForecastRule).")
    reason: str = Field(description="Why that forecast, in words.")
    priming_risk: bool | None = Field(
        default=None,
        description="Keyword probability below the priming threshold (Sun et al. 2025): learning it may spill "
        "the value into unrelated contexts. None without a model.",
    )
    volatile: bool = Field(description="A price or a date: goes stale when it changes, whatever the forecast.")


class ContradictionValue(_Model):
    fact_id: str
    value: str
    exposures: int
    lines: list[int]
    sentence: str = Field(description="One sentence that states this value.")


class Contradiction(_Model):
    """Different values for the same attribute in different examples."""

    id: str
    dimension: str
    attribute: list[str] = Field(description="Words the conflicting statements share.")
    strength: Literal["likely", "possible"] = Field(
        description="likely: two shared words or more, or half of both attributes; possible: one word that is half "
        "of one attribute only, so the two may be different things."
    )
    values: list[ContradictionValue] = Field(description="Each value with its examples, most exposures first.")


class ForecastRule(_Model):
    """The documented rule behind every forecast, with the thresholds used."""

    high_exposure: int = Field(description="Seen at least this often (times epochs): likely recalled.")
    low_exposure: int = Field(description="Seen fewer times than this, with a low prior: will leak.")
    known_prior: float = Field(description="Prior at least this high: the base model nearly says it already.")
    priming_prior: float = Field(description="Prior below this: the value is surprising and may prime.")
    epochs: float = Field(description="Planned epochs; exposures are multiplied by this.")
    text: list[str] = Field(description="The rule in words, one line per outcome.")


class Recommendation(_Model):
    """What to do before spending compute."""

    train_patterns: list[str] = Field(description="Ids of pattern features to train.")
    retrieval_facts: list[str] = Field(description="Ids of facts to serve by retrieval instead of training.")
    trainable_facts: list[str] = Field(description="Ids of facts likely to be recalled and not volatile.")
    priming_facts: list[str] = Field(description="Ids of facts whose values risk priming.")
    resolve_first: list[str] = Field(description="Ids of contradictions, most urgent first.")
    summary: list[str] = Field(description="The recommendation in sentences, most important first.")


class TriageResults(_Model):
    """The contents of triage.json."""

    schema_version: str = TRIAGE_SCHEMA_VERSION
    tunelens_version: str
    created: str = Field(description="ISO 8601 time the triage finished.")
    data: DataSummary
    model: str | None = Field(description="Model whose priors were measured; None with --no-model.")
    model_note: str = Field(description="How priors were measured, or why they were not.")
    rule: ForecastRule
    patterns: list[PatternFeature]
    facts: list[Fact]
    contradictions: list[Contradiction]
    recommendation: Recommendation
    seconds: float = 0.0
