"""The comparison schema: ``compare.json`` is the source of truth of a method comparison.

``compare.html`` is rendered from these models alone. Each method's own audit keeps its
``results.json`` and ``report.html`` beside it; this file gathers, per method, the few
figures a choice rests on: what the fine-tune gained on its own task, what it cost
elsewhere, and how it took a fact update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

COMPARE_SCHEMA_VERSION = "1.1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Versus(_Model):
    """A method against the comparison's reference method on the same items (``_versus``)."""

    reference: str = Field(description="The reference method.")
    delta: float | None = Field(default=None, description="method - reference, in the metric's unit.")
    ci_low: float | None = Field(default=None, description="Paired 95% interval of delta, low end.")
    ci_high: float | None = None
    n: int = 0
    test: str = Field(default="", description="The paired test (mcnemar, sign_flip_exact, paired_t).")
    p_value: float | None = None
    p_adjusted: float | None = Field(
        default=None, description="Holm-adjusted over every method-against-reference test of the table."
    )
    n_tests: int = Field(default=0, description="How many tests the correction covered.")
    verdict: Literal["better", "worse", "differs", "no_difference_shown", "not_paired"] = "not_paired"
    reason: str = Field(default="", description="Why there is no paired test, when there is none.")


class Cell(_Model):
    """One audit metric of one method: the tuned value, its change from the base and interval."""

    metric: str = Field(description="'probe.metric', e.g. 'forgetting.general_text_nll'.")
    base: float | None = None
    value: float | None = Field(default=None, description="The method's value (the tuned side of the audit).")
    delta: float | None = None
    ci_low: float | None = Field(default=None, description="Paired 95% interval of delta, low end.")
    ci_high: float | None = None
    n: int = 0
    verdict: str = Field(
        default="inconclusive",
        description="changed, equivalent or inconclusive, as the method's audit decided (results schema 1.3).",
    )
    reason: str = Field(default="", description="Why there is no value, when there is none.")
    versus: Versus | None = Field(default=None, description="Against the reference method (none for itself).")


class Column(_Model):
    """A column of the comparison table: which audit metric, which side of the trade."""

    metric: str
    label: str
    side: Literal["gain", "cost"]
    unit: str = ""
    higher_is_better: bool | None = None


class StaleFact(_Model):
    """One changed fact as a model answers it after a stage."""

    id: str
    old: str
    new: str
    logprob_old: float = Field(description="log P(old value | chat question + the fact's sentence start).")
    logprob_new: float
    share_new: float = Field(description="P(new) / (P(old) + P(new)).")
    reply: str = Field(description="Greedy chat reply to the fact's question.")
    says_old: bool
    says_new: bool


class StaleStage(_Model):
    """How a model answers the changed facts at one stage: 'first' (after the first fine-tune)
    or 'update' (after the second fine-tune on the update, or the edited fact sheet)."""

    stage: Literal["base", "first", "update"]
    ref: str
    facts: list[StaleFact]
    share_new: float | None = Field(description="Mean of the facts' share_new.")
    share_new_ci: tuple[float, float] | None = Field(default=None, description="Bootstrap 95% interval over facts.")
    says_old: float | None = Field(description="Share of greedy replies that still state the old value.")
    says_new: float | None


class MethodRow(_Model):
    """One adaptation method: how it was made, its audit, its cells and its stale-fact stages."""

    method: str = Field(description="lora, full, svf, retrieval, or a method with options, e.g. 'lora+ignore-k'.")
    ref: str = Field(description="The model reference audited against the base.")
    audit_dir: str
    reused: bool = Field(description="True when an earlier run with the same settings was reused.")
    train_seconds: float | None = None
    trainable_params: int | None = None
    changes_weights: bool = True
    cells: dict[str, Cell] = Field(default_factory=dict, description="By column metric.")
    stale: list[StaleStage] = Field(default_factory=list)
    update_seconds: float | None = None
    audit_seconds: float = 0.0
    error: str = Field(default="", description="Why this method has no results, if it failed.")


class ComparisonResults(_Model):
    """The contents of compare.json."""

    schema_version: str = COMPARE_SCHEMA_VERSION
    tunelens_version: str
    created: str
    base: str
    data: str
    n_examples: int
    task: str
    seed: int
    update_data: str | None = None
    changed_facts: list[str] = Field(default_factory=list, description="'id: old → new' per changed fact.")
    reference: str | None = Field(
        default=None, description="The method every other is tested against, item by item (schema 1.1)."
    )
    columns: list[Column]
    methods: list[MethodRow] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0


def load_comparison(path: str | Path) -> ComparisonResults:
    """Read a compare.json, refusing unknown major schema versions."""
    from tunelens.results._io import load_versioned

    return load_versioned(path, ComparisonResults, COMPARE_SCHEMA_VERSION, "comparison", "re-run tunelens compare")
