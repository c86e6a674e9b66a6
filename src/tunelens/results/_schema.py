"""The results schema: ``results.json`` is the source of truth of an audit.

Everything the HTML report shows is read from these models, so a report can be
re-rendered from a saved file (``tunelens report results.json``). The schema is
versioned: readers refuse a file whose major version they do not know.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.6"


class Verdict(str, Enum):
    """What a base-vs-tuned comparison concluded (schema 1.3).

    ``changed``: the corrected test rejects "no difference". ``equivalent``: the paired 90%
    interval lies inside the metric's margin, so the audit shows it did not move by more.
    ``inconclusive``: neither; ``Metric.reason`` says why and ``Metric.n_needed`` what would
    settle it. Files before 1.3 said ``no_change`` and ``insufficient``; both read as
    ``inconclusive`` (a 1.2 ``no_change`` never showed equivalence)."""

    changed = "changed"
    equivalent = "equivalent"
    inconclusive = "inconclusive"


_LEGACY_VERDICTS = {"no_change": "inconclusive", "insufficient": "inconclusive"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_assignment=True)


class Metric(_Model):
    """One quantity measured on both models over the same items, and its paired change."""

    name: str = Field(description="Stable identifier, unique within a probe, e.g. 'arithmetic_acc'.")
    probe: str = Field(description="Name of the probe that produced the metric.")
    label: str = Field(description="Human-readable name shown in the report.")
    unit: str = Field(default="", description="Unit of base/tuned, e.g. 'accuracy', 'nats/token'.")
    higher_is_better: bool | None = Field(
        default=None, description="Direction of improvement; None when neither direction is better."
    )
    base: float | None = Field(description="Value on the base model.")
    tuned: float | None = Field(description="Value on the tuned model.")
    delta: float | None = Field(description="tuned - base.")
    ci_low: float | None = Field(description="Lower end of the paired 95% interval of delta.")
    ci_high: float | None = Field(description="Upper end of the paired 95% interval of delta.")
    n: int = Field(description="Number of paired items behind the metric.")
    test: Literal[
        "mcnemar",
        "sign_flip_exact",
        "paired_t",
        "permutation",
        "paired_bootstrap",
        "bootstrap_aggregate",
        "none",
        "descriptive",
    ] = Field(
        description="Paired test used: exact McNemar for binary outcomes; for continuous ones the sign-flip "
        "test enumerated exactly (small n) or the paired t-test (larger n); a paired permutation test "
        "for a ratio of sums; 'bootstrap_aggregate' for a corpus-level aggregate (BLEU, chrF, TER, a corpus "
        "F1, a perplexity): the paired bootstrap of the aggregate, both models' aggregates recomputed on the "
        "same resampled items (Koehn 2004), percentile intervals, no per-item values (1.5); "
        "'paired_bootstrap' in files before 1.3 (a sign-flip test with 2,000 draws); "
        "'none' when no test could run; 'descriptive' for a quantity that describes the pair and takes no "
        "test (a distance between the two models; base is then its value for the base against itself)."
    )
    p_value: float | None = Field(default=None, description="Unadjusted two-sided p-value.")
    p_adjusted: float | None = Field(
        default=None,
        description="p-value after correction: for a headline metric (confirmatory) the larger of its Holm "
        "p over the headline metrics and its weighted Benjamini-Hochberg q over the report; for the others "
        "(exploratory) the weighted BH q. Changed when below alpha.",
    )
    verdict: Verdict | None = Field(
        default=Verdict.inconclusive, description="Conclusion after correction; None for a descriptive metric."
    )
    group: str | None = Field(default=None, description="Sub-group, e.g. an exposure level.")
    headline: bool = Field(default=False, description="A headline metric of its probe: in the confirmatory family.")
    family: Literal["confirmatory", "exploratory", ""] = Field(
        default="", description="The multiplicity family the metric was tested in; '' when untested."
    )
    margin: float | None = Field(default=None, description="Margin of practical equivalence, in the metric's unit.")
    ci90_low: float | None = Field(default=None, description="Lower end of the paired 90% interval (the TOST's).")
    ci90_high: float | None = Field(default=None, description="Upper end of the paired 90% interval.")
    diff_sd: float | None = Field(default=None, description="Standard deviation of the per-item differences.")
    min_p: float | None = Field(
        default=None, description="The smallest p-value the test can give at this n (before correction)."
    )
    mde: float | None = Field(
        default=None,
        description="Minimum detectable effect: the change the test finds with 80% power at this n, at the "
        "level of its first correction step (a conservative bound for Holm and BH); None when unreachable.",
    )
    equivalence_reach: float | None = Field(
        default=None,
        description="The smallest margin this n shows equivalent with 80% power when nothing changed.",
    )
    negligible: bool = Field(
        default=False, description="Changed, but the whole 90% interval lies inside the margin."
    )
    room: Literal["", "floor", "ceiling"] = Field(
        default="", description="The base value sits within a margin of the unit's bound: no room to move there."
    )
    reason: str = Field(default="", description="Why an inconclusive verdict could not be settled.")
    n_needed: int | None = Field(
        default=None, description="Roughly how many paired items would settle an inconclusive verdict."
    )
    n_at_budget: dict[str, int] = Field(
        default_factory=dict,
        description="Paired items the metric gets at each budget (quick, standard, thorough), from its declaration.",
    )
    base_values: list[float] | None = Field(
        default=None, description="Per-item outcomes of the base (paired by position with tuned_values)."
    )
    tuned_values: list[float] | None = Field(default=None, description="Per-item outcomes of the tuned model.")

    @model_validator(mode="before")
    @classmethod
    def _read_legacy(cls, data: Any) -> Any:
        """Files before 1.3: no_change and insufficient become inconclusive (descriptive: no verdict)."""
        if isinstance(data, dict) and data.get("verdict") in _LEGACY_VERDICTS:
            data = dict(data)
            old = data["verdict"]
            data["verdict"] = None if data.get("test") == "descriptive" else _LEGACY_VERDICTS[old]
            if old == "insufficient" and not data.get("reason") and data.get("test") != "descriptive":
                data["reason"] = "too few items"
        return data


class ItemRecord(_Model):
    """One item as both models saw it: the evidence behind the numbers."""

    item_id: str
    section: str = Field(description="Which part of the probe the item belongs to.")
    input: str = Field(description="The prompt or text given to both models.")
    expected: str | None = Field(default=None, description="The reference answer, if any.")
    base_output: str | None = None
    tuned_output: str | None = None
    base_score: float | None = Field(default=None, description="Per-item score on the base model.")
    tuned_score: float | None = Field(default=None, description="Per-item score on the tuned model.")
    extra: dict[str, Any] = Field(default_factory=dict)


class Series(_Model):
    """One line or set of bars in a plot."""

    name: str
    x: list[float | str]
    y: list[float | None]
    y_low: list[float | None] | None = None
    y_high: list[float | None] | None = None


class Plot(_Model):
    """Data for one inline plot; the report draws it as SVG."""

    id: str
    title: str
    kind: Literal["line", "bar", "heatmap", "scatter"] = Field(
        description="line or bar: one entry of y per x per series; scatter: as line, points not joined; "
        "heatmap: one series per row, x the columns."
    )
    x_label: str = ""
    y_label: str = ""
    series: list[Series]
    x_log: bool = Field(default=False, description="Draw the x axis on a log scale.")
    x_refs: list[float] = Field(
        default_factory=list, description="x positions of dashed vertical reference lines (e.g. a threshold)."
    )
    caption: str = ""

    @classmethod
    def grid(
        cls,
        id: str,
        title: str,
        rows: list[str],
        columns: list[str],
        matrix: Any,
        *,
        x_label: str = "",
        y_label: str = "",
        caption: str = "",
    ) -> Plot:
        """A heatmap from a matrix (one row of values per row label; None for an empty cell)."""
        series = [
            Series(name=name, x=list(columns), y=[None if v is None else float(v) for v in row])
            for name, row in zip(rows, matrix)
        ]
        return cls(id=id, title=title, kind="heatmap", x_label=x_label, y_label=y_label, series=series, caption=caption)

    @classmethod
    def layer_head(cls, id: str, title: str, matrix: Any, caption: str = "") -> Plot:
        """A heatmap of one value per attention head: a row per layer ("L0", ...), a column per head ("h0", ...)."""
        rows = [list(row) for row in matrix]
        heads = [f"h{h}" for h in range(len(rows[0]) if rows else 0)]
        labels = [f"L{la}" for la in range(len(rows))]
        return cls.grid(id, title, labels, heads, rows, x_label="head", y_label="layer", caption=caption)


class Table(_Model):
    """A table of text a probe shows as is (schema 1.4): e.g. the tokens whose probability rose most,
    each with contexts."""

    id: str
    title: str
    columns: list[str]
    rows: list[list[str]] = Field(description="One list of cells per row, as many as columns.")
    caption: str = ""


class ProbeResult(_Model):
    """Everything one probe measured on the pair."""

    name: str
    title: str = Field(default="", description="Filled from the probe's registration by the audit.")
    description: str = Field(default="", description="What the probe measures and which paper defines it.")
    config: dict[str, Any] = Field(default_factory=dict, description="The probe's config, as the audit ran it.")
    budget: str = Field(
        default="",
        description="The item budget the probe ran at (quick, standard, thorough; 'custom': a config given).",
    )
    metrics: list[Metric] = Field(default_factory=list)
    items: list[ItemRecord] = Field(default_factory=list)
    plots: list[Plot] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list, description="Tables of text shown as they are (1.4).")
    notes: list[str] = Field(default_factory=list, description="Caveats a reader must see.")
    seconds: float = 0.0


class ModelInfo(_Model):
    """Which model was audited."""

    ref: str = Field(description="The model reference as the user gave it (or the log's model name).")
    kind: str = Field(
        description="embedded, gguf, directory, hub, adapter, svf, proxy or retrieval; 'lm-eval log' or "
        "'inspect log' for a results file made from another tool's per-sample logs (1.5)."
    )
    n_params: int | None = Field(default=None, description="Parameters; None when read from a log (1.5).")
    n_layers: int | None = Field(default=None, description="Layers; None when read from a log (1.5).")
    n_heads: int | None = Field(default=None, description="Attention heads; None when read from a log (1.5).")
    dtype: str = Field(default="", description="Weight dtype; '' when read from a log (1.5).")
    tokenizer_fingerprint: str = Field(
        default="", description="Hash of the vocabulary, to show both models share it; '' when read from a log."
    )
    fingerprint: str = Field(
        default="",
        description="Hash of the model's weights (a sample of every tensor, with shapes) and, for a channel, "
        "of what it is made of: the audit resumes and reuses results only for the same fingerprints (1.5).",
    )
    source: str = Field(default="", description="For a log: the file or folder it was read from (1.5).")
    channel: str = Field(
        default="",
        description="For a model that changes no weight (proxy, retrieval): what it is made of; empty "
        "otherwise and before schema 1.2.",
    )


class TrainingInfo(_Model):
    """How the tuned model was made, when tunelens made it."""

    method: str
    data: str
    n_examples: int
    epochs: float
    steps: int
    learning_rate: float
    batch_size: int
    trainable_params: int
    loss_curve: list[tuple[int, float]] = Field(description="(step, training loss) pairs.")
    seconds: float
    checkpoint: str
    method_options: dict[str, Any] = Field(
        default_factory=dict,
        description="The recipe's options (LoRA rank, SVF targets, ...) and those that compose with it "
        "(ignore_k, isolate_from, isolate_top, mix_general) with what they did; empty before schema 1.1.",
    )
    max_length: int | None = Field(default=None, description="Token limit per example (1.4; None before).")
    n_truncated: int = Field(
        default=0, description="Examples cut to max_length (their reply's end not trained); 0 before 1.4."
    )
    n_dropped: int = Field(
        default=0, description="Examples left out: no reply token within max_length, or none at all; 0 before 1.4."
    )
    heldout: list[str] = Field(
        default_factory=list,
        description="User prompts held out of training by `tunelens tune --heldout R` (1.4), for the audit's "
        "derived task spec.",
    )


class CheckpointInfo(_Model):
    """Where an audited checkpoint sits in its training run (schema 1.6)."""

    step: int | None = Field(description="The optimizer step it was saved at; None when no step is known.")
    index: int = Field(description="Its place among the run's audited checkpoints, from 1.")
    of: int = Field(description="How many checkpoints were audited together.")
    run: str = Field(default="", description="The run directory the checkpoints came from, when one was given.")
    corrected_over: int = Field(
        description="Checkpoints whose metrics were corrected together: every verdict of this file is "
        "corrected for testing all of them (Holm over their headline metrics, Benjamini-Hochberg over all)."
    )


class TrajectoryPoint(_Model):
    """One headline metric at one checkpoint."""

    step: int | None
    checkpoint: str = Field(description="The checkpoint's model reference.")
    tuned: float | None
    base: float | None
    delta: float | None
    ci_low: float | None = Field(description="Lower end of the paired interval of the change.")
    ci_high: float | None
    p_adjusted: float | None
    verdict: Verdict | None
    n: int


class TrajectoryMetric(_Model):
    """A headline metric over training steps."""

    probe: str
    name: str
    label: str
    unit: str
    higher_is_better: bool | None = None
    points: list[TrajectoryPoint] = Field(default_factory=list)
    first_changed: int | None = Field(
        default=None, description="Step (or index, without steps) of the first checkpoint whose verdict is changed."
    )


class Trajectory(_Model):
    """The contents of trajectory.json: every checkpoint of a run audited against one base (1.6)."""

    schema_version: str = SCHEMA_VERSION
    tunelens_version: str
    created: str
    base: ModelInfo
    run: str = Field(default="", description="The run directory, when the checkpoints came from one.")
    checkpoints: list[str] = Field(description="The checkpoints' references, in step order.")
    steps: list[int | None]
    folders: list[str] = Field(description="Each checkpoint's audit folder, relative to trajectory.json.")
    alpha: float = 0.05
    correction: str = Field(description="How the verdicts were corrected for testing many checkpoints, in words.")
    metrics: list[TrajectoryMetric] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    executor: str = Field(default="serial", description="serial, or ray (with the cluster's address).")


class FactFate(_Model):
    """One fact's triage forecast next to what the audit measured on it."""

    fact_id: str = Field(description="The task spec's fact id.")
    value: str
    exposures: int
    forecast: str = Field(description="Triage forecast: likely_recalled, may_leak or will_leak.")
    forecast_score: int = Field(description="The forecast as a rank: will_leak 0, may_leak 1, likely_recalled 2.")
    recalled: bool = Field(description="Measured: the tuned model's chat reply contains the value (facts_vs_patterns).")
    forecast_right: bool = Field(description="Forecast likely_recalled exactly when the fact was recalled.")
    exposure_right: bool = Field(
        description="Baseline: exposures x epochs >= the rule's high_exposure, exactly when recalled."
    )
    priming_risk: bool | None = Field(default=None, description="Triage's priming flag; None without a prior.")
    priming_log10: float | None = Field(default=None, description="Measured log10 priming ratio (priming probe).")
    primed: bool | None = Field(default=None, description="Measured priming ratio at least PRIMED_RATIO.")


class ForecastCheck(_Model):
    """Closing the loop: how well the triage forecast, and exposure count alone, foretold each fact's fate."""

    n: int = Field(description="Facts both in the triage and in the task spec's measured facts.")
    forecast_rho: float | None = Field(description="Spearman between forecast_score and recall.")
    forecast_ci_low: float | None
    forecast_ci_high: float | None
    exposure_rho: float | None = Field(description="Spearman between exposure count and recall (the baseline).")
    exposure_ci_low: float | None
    exposure_ci_high: float | None
    forecast_right_share: float | None = Field(description="Share of facts whose fate the forecast got right.")
    exposure_right_share: float | None = Field(description="The same for the exposure-only rule.")
    primed_ratio: float = Field(description="Priming ratio at or above which a keyword counts as primed.")
    priming_n: int = Field(default=0, description="Facts with both a priming flag and a measured priming ratio.")
    priming_right_share: float | None = Field(default=None, description="Share whose priming flag was right.")
    unmatched: list[str] = Field(default_factory=list, description="Task facts the triage did not find.")
    facts: list[FactFate] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list, description="The comparison in sentences, verdict first.")


class AuditResults(_Model):
    """The contents of results.json."""

    schema_version: str = SCHEMA_VERSION
    tunelens_version: str
    created: str = Field(description="ISO 8601 time the audit finished.")
    seed: int
    alpha: float = Field(
        default=0.05, description="Family-wise error rate (headline) and false discovery rate (report)."
    )
    correction: str = Field(
        default="holm+bh",
        description="Multiple-comparison correction: 'holm+bh' (Holm over headline metrics, a weighted "
        "Benjamini-Hochberg procedure over every metric; 1.3), 'holm' over every metric before.",
    )
    budget: str = Field(default="", description="The item budget the probes ran at: quick, standard or thorough.")
    base: ModelInfo
    tuned: ModelInfo
    training: TrainingInfo | None = None
    probes: list[ProbeResult] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list, description="Headline sentences, most important first.")
    forecast_check: ForecastCheck | None = Field(
        default=None, description="Triage forecast against measured fate, when the audit was given a triage (1.2)."
    )
    seconds: float = 0.0
    complete: bool = Field(
        default=True,
        description="False while the audit runs (results.json is rewritten after every probe) and in the "
        "file a killed audit leaves; True once every probe asked for has a result (1.5; files before were "
        "read as complete).",
    )
    checkpoint: CheckpointInfo | None = Field(
        default=None, description="For one of several checkpoints audited together: which (1.6)."
    )
    source: Literal["audit", "lm-eval", "inspect"] = Field(
        default="audit",
        description="What made the file: a tunelens audit, or `tunelens paired` on the per-sample logs of "
        "lm-evaluation-harness or inspect_ai (1.5).",
    )

    def metrics(self) -> list[Metric]:
        """Every metric of every probe, in report order."""
        return [m for p in self.probes for m in p.metrics]

    def to_frame(self) -> Any:
        """The metrics as a pandas DataFrame, one row per metric of every probe (see
        ``tunelens.results.metrics_frame`` for its columns and dtypes)."""
        from tunelens.results._frames import metrics_frame

        return metrics_frame(self)

    def items_frame(self) -> Any:
        """The item records as a pandas DataFrame, one row per item of every probe, each key of
        ``extra`` a column (see ``tunelens.results.items_frame``)."""
        from tunelens.results._frames import items_frame

        return items_frame(self)
