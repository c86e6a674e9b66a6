"""Probe ``retrieval_heads``: did the fine-tune keep the heads that copy facts out of long context?

Wu et al. 2024 ("Retrieval Head Mechanistically Explains Long-Context Factuality") find a
few attention heads (under 5%) that copy the needle token by token in needle-in-a-haystack
tests; the set is intrinsic to a pretrained model and survives chat tuning and context
extension, and masking it collapses needle retrieval. This probe measures, on both models
over the same seeded instances (``tunelens.probes._needles``):

* needle accuracy (ROUGE-1 recall of the needle's value in the greedy answer > 0.5);
* every head's retrieval score: the share of needle tokens it copies, averaged over the
  recalled instances, from one teacher-forced pass over prompt + the model's own answer;
* the share of heads scoring above 0.1, the top-k overlap and rank correlation of scores;
* the causal check: needle accuracy with each model's top-K heads masked versus K random
  non-retrieval heads (several seeded draws).

The needle's value, not the whole needle sentence as in the paper's script, is the ROUGE
reference, because small chat models often answer with the value alone.

Budgets: ``quick`` asks 8 needles (128 and 256 tokens), ``standard`` 60 (256 and 512 tokens,
ten depths, three needles each) and ``thorough`` 200 (256 to 2048 tokens, ten depths, five
each); every needle is a distinct generated sentence in its own haystack. Measured on
SmolLM2-135M-Instruct at standard: needle accuracy 75% (67% at 256 tokens, 83% at 512), 11
of 270 heads above 0.1. Cost: every needle's greedy answer in one batched decoding, then one
teacher-forced pass a recalled needle for the head scores, plus the masked reruns (batched,
1 + ``random_draws`` passes over the recalled needles); decoded one needle at a time, the
answers alone took 3 s a needle on a busy 2-core CPU (177 s for standard's 60, per model).
Thorough, with 2048-token haystacks, is meant for a GPU. Following the paper more closely (depths linspace(0, 100, 10),
lengths linspace(s, e, 20) up to the context), e.g. for an 8k-context model::

    RetrievalHeadsConfig(lengths=tuple(range(1000, 8001, 368)),  # 20 lengths
                         depths=tuple(i / 9 for i in range(10)), top_k=20, random_draws=5)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from tunelens.engine import Engine, GenRequest, memo_scope, memoised
from tunelens.engine._attention import ablate_heads, head_grid
from tunelens.probes._needles import NeedleInstance, copy_scores, needle_instances, one_pass_argmax, rouge1_recall
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import make_metric, spearman

NAME = "retrieval_heads"
RECALL_THRESHOLD = 0.5  # ROUGE-1 recall above which a needle counts as recalled (Wu et al.)


TEN_DEPTHS = tuple(round(0.05 + 0.1 * i, 2) for i in range(10))
"""Needle depths 5%, 15%, ..., 95% of the haystack."""


@dataclass(frozen=True)
class RetrievalHeadsConfig:
    """Needles per (haystack length, depth) and the head analysis; ``len(lengths) *
    len(depths) * per_cell`` needles are the paired items of needle accuracy.

    Standard (60 needles) and thorough (200) both reach their counts, at a cost: each recalled
    needle gets a teacher-forced pass of its whole haystack for the head scores, and
    thorough's 1024- and 2048-token haystacks are meant for a GPU."""

    lengths: tuple[int, ...] = (256, 512)  # haystack sizes in tokens
    depths: tuple[float, ...] = TEN_DEPTHS  # needle position as a fraction of the haystack
    per_cell: int = 3  # instances per (length, depth)
    max_new_tokens: int = 32  # room for a house-style greeting before the answer
    threshold: float = 0.1  # a head with a higher score is a retrieval head
    top_k: int = 10  # heads masked in the ablation and compared by Jaccard overlap
    random_draws: int = 3  # random sets of K non-retrieval heads masked

    @property
    def n_needles(self) -> int:
        return len(self.lengths) * len(self.depths) * self.per_cell


QUICK = RetrievalHeadsConfig(
    lengths=(128, 256), depths=(0.1, 0.4, 0.7, 0.9), per_cell=1, max_new_tokens=20, random_draws=2
)
STANDARD = RetrievalHeadsConfig()
THOROUGH = RetrievalHeadsConfig(lengths=(256, 512, 1024, 2048), per_cell=5)


def _needles(cfg: RetrievalHeadsConfig) -> int:
    return cfg.n_needles


DECLARED = [
    MetricDecl("needle_acc", "Needle accuracy", headline=True, items=_needles),
    MetricDecl("retrieval_head_share", "Share of heads with a retrieval score above the threshold (paired over heads)"),
    MetricDecl("head_score", "Mean retrieval score per head (paired over heads)", unit="score", higher_is_better=None),
    MetricDecl("needle_acc_top_masked", "Needle accuracy, own top-k retrieval heads masked"),
    MetricDecl("needle_acc_random_masked", "Needle accuracy, k random non-retrieval heads masked (mean of draws)"),
]


@dataclass
class ModelRun:
    """What one model did on the instances."""

    answers: list[str]
    recalled: list[bool]
    instance_scores: list[np.ndarray | None]  # (layers, heads) per recalled instance, else None
    scores: np.ndarray  # (layers, heads): mean over recalled instances


def measure(
    engine: Engine, instances: list[NeedleInstance], max_new_tokens: int, require_recall: bool = True
) -> ModelRun:
    """Greedy answers, recall, and per-head retrieval scores of one model.

    ``require_recall=False`` scores every instance, recalled or not (for tests on models
    that cannot recall anything).
    """
    model, tokenizer = engine.model, engine.tokenizer
    answers, recalled, per_instance = [], [], []
    # Every needle's greedy answer in one batched decoding (one needle at a time took most of
    # the probe: 34 of 80 s at the quick budget on the demo's pair); the teacher-forced pass
    # then scores the very tokens decoded.
    decoded = engine.greedy_token_ids([i.prompt_ids for i in instances], max_new_tokens)
    for inst, ids in zip(instances, decoded):
        text = tokenizer.decode(ids, skip_special_tokens=True)
        hit = rouge1_recall(inst.answer, text) > RECALL_THRESHOLD
        answers.append(text)
        recalled.append(hit)
        if (hit or not require_recall) and ids:
            argmax = one_pass_argmax(model, inst.prompt_ids, ids)
            per_instance.append(copy_scores(argmax, list(inst.prompt_ids) + ids, ids, inst.needle_span))
        else:
            per_instance.append(None)
    counted = [s for s in per_instance if s is not None]
    scores = np.mean(counted, axis=0) if counted else np.zeros(head_grid(model))
    return ModelRun(answers, recalled, per_instance, scores)


def _measured(
    engine: Engine, instances: list[NeedleInstance], max_new_tokens: int, require_recall: bool = True
) -> ModelRun:
    """:func:`measure`, kept in a base engine's memo: the needles do not depend on the tuned model."""
    payload = [[[int(t) for t in i.prompt_ids], i.answer, list(i.needle_span)] for i in instances], max_new_tokens
    if not require_recall:
        payload = (*payload, "every instance scored")

    def compute() -> tuple:
        run = measure(engine, instances, max_new_tokens, require_recall)
        return (run.answers, run.recalled, run.instance_scores, run.scores)

    return ModelRun(*memoised(engine, "retrieval_heads.measure", payload, compute))


def top_heads(scores: np.ndarray, k: int) -> list[tuple[int, int]]:
    """The k highest-scoring (layer, head) pairs; ties broken by position, so the order is stable."""
    order = np.argsort(-scores.ravel(), kind="stable")[:k]
    return [(int(i // scores.shape[1]), int(i % scores.shape[1])) for i in order]


def jaccard(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> float:
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 1.0


def recall_under_ablation(engine: Engine, instances: list[NeedleInstance], heads: list, max_new: int) -> list[bool]:
    """Needle recall of every instance with the given heads masked (batched greedy decoding)."""
    if not instances:
        return []
    # Scoped, so a base engine's memo never answers the masked model from the unmasked one.
    with ablate_heads(engine.model, heads), memo_scope(engine, f"ablate:{sorted(heads)}"):
        replies = engine.generate([GenRequest(i.prompt, max_new) for i in instances])
    return [rouge1_recall(i.answer, r) > RECALL_THRESHOLD for i, r in zip(instances, replies)]


@dataclass
class Ablation:
    """Needle recall on the ablation instances: unmasked, top-K masked, random heads masked."""

    unmasked: list[bool]
    top: list[tuple[int, int]]
    top_recalled: list[bool]
    random_recalled: list[list[bool]]  # one list per draw


def ablate(
    engine: Engine,
    instances: list[NeedleInstance],
    subset: list[int],
    run: ModelRun,
    cfg: RetrievalHeadsConfig,
    seed: int,
) -> Ablation:
    """Needle recall on ``instances[subset]`` with the top-K heads masked, and with K random
    non-retrieval heads per draw."""
    instances = [instances[i] for i in subset]
    top = top_heads(run.scores, cfg.top_k)
    layers, heads = run.scores.shape
    pool = [(la, h) for la in range(layers) for h in range(heads) if run.scores[la, h] <= cfg.threshold]
    pool = [p for p in pool if p not in top] or [(la, h) for la in range(layers) for h in range(heads)]
    rng = random.Random(seed)
    draws = [rng.sample(pool, min(len(top), len(pool))) for _ in range(cfg.random_draws)]
    top_recalled = recall_under_ablation(engine, instances, top, cfg.max_new_tokens)
    random_recalled = [recall_under_ablation(engine, instances, d, cfg.max_new_tokens) for d in draws]
    return Ablation([run.recalled[i] for i in subset], top, top_recalled, random_recalled)


def _scored(run: ModelRun) -> bool:
    """Whether the model recalled a needle, so that its head scores mean something."""
    return any(run.recalled)


def _mean(values: list[bool]) -> float:
    """Share of True; callers only pass non-empty lists."""
    return float(np.mean(values))


def _mean_over_draws(ab: Ablation) -> list[float]:
    return [float(np.mean(col)) for col in zip(*ab.random_recalled)] if ab.random_recalled else []


def _metrics(runs: dict[str, ModelRun], abl: dict[str, Ablation], cfg: RetrievalHeadsConfig, seed: int) -> list[Metric]:
    """Needle accuracy always; head-score and ablation comparisons only when both models
    recalled a needle (a model that copied nothing has no retrieval scores, only zeros), so
    those are inconclusive (n=0) rather than a change that merely restates the accuracy."""
    both = all(_scored(r) for r in runs.values())
    flat = {n: r.scores.ravel() if both else np.array([]) for n, r in runs.items()}
    ablated = {n: abl[n] if both else Ablation([], [], [], []) for n in abl}
    common = dict(unit="rate", higher_is_better=True, seed=seed)
    return [
        make_metric(
            NAME, "needle_acc", "Needle accuracy", runs["base"].recalled, runs["tuned"].recalled, binary=True, **common
        ),
        make_metric(
            NAME,
            "retrieval_head_share",
            f"Share of heads with retrieval score > {cfg.threshold:g} (paired over heads)",
            flat["base"] > cfg.threshold,
            flat["tuned"] > cfg.threshold,
            binary=True,
            unit="rate",
            seed=seed,
        ),
        make_metric(
            NAME,
            "head_score",
            "Mean retrieval score per head",
            flat["base"],
            flat["tuned"],
            binary=False,
            unit="score",
            seed=seed,
        ),
        make_metric(
            NAME,
            "needle_acc_top_masked",
            f"Needle accuracy, own top-{cfg.top_k} retrieval heads masked",
            ablated["base"].top_recalled,
            ablated["tuned"].top_recalled,
            binary=True,
            group="ablation",
            **common,
        ),
        make_metric(
            NAME,
            "needle_acc_random_masked",
            f"Needle accuracy, {cfg.top_k} random non-retrieval heads masked (mean of draws)",
            _mean_over_draws(ablated["base"]),
            _mean_over_draws(ablated["tuned"]),
            binary=False,
            group="ablation",
            **common,
        ),
    ]


def _plots(runs: dict[str, ModelRun], abl: dict[str, Ablation], cfg: RetrievalHeadsConfig) -> list[Plot]:
    cats = ["no masking", f"top-{cfg.top_k} masked", f"{cfg.top_k} random masked"]
    series = []
    for name in ("base", "tuned"):
        a = abl[name]
        if not a.unmasked:  # no needle recalled: nothing to take away
            continue
        draws = [_mean(d) for d in a.random_recalled]
        ys = [_mean(a.unmasked), _mean(a.top_recalled), float(np.mean(draws)) if draws else None]
        low = [None, None, min(draws) if draws else None]
        high = [None, None, max(draws) if draws else None]
        series.append(Series(name=name, x=cats, y=ys, y_low=low, y_high=high))
    ablation = Plot(
        id="ablation",
        title="Needle accuracy with retrieval heads masked",
        kind="bar",
        y_label="needle accuracy",
        series=series,
        caption="Each model's own top-K heads masked (uniform attention) versus K random heads scoring "
        f"<= {cfg.threshold:g}; whiskers span the {cfg.random_draws} random draws.",
    )
    scored = {n: r.scores for n, r in runs.items() if _scored(r)}
    heatmaps = [Plot.layer_head(f"heads-{n}", f"Retrieval score per head, {n}", m) for n, m in scored.items()]
    if len(scored) == 2:
        delta = scored["tuned"] - scored["base"]
        heatmaps.append(Plot.layer_head("heads-delta", "Change in retrieval score per head (tuned - base)", delta))
    return ([ablation] if series else []) + heatmaps


def _items(instances: list[NeedleInstance], runs: dict[str, ModelRun]) -> list[ItemRecord]:
    items = [
        ItemRecord(
            item_id=inst.id,
            section="needles",
            input=f"[{inst.length}-token haystack, needle at depth {inst.depth:g}: {inst.needle}] {inst.question}",
            expected=inst.answer,
            base_output=runs["base"].answers[i],
            tuned_output=runs["tuned"].answers[i],
            base_score=float(runs["base"].recalled[i]),
            tuned_score=float(runs["tuned"].recalled[i]),
            extra={"length": inst.length, "depth": inst.depth, "prompt_tokens": len(inst.prompt_ids)},
        )
        for i, inst in enumerate(instances)
    ]
    base, tuned = runs["base"].scores, runs["tuned"].scores
    for layer in range(base.shape[0]):
        for head in range(base.shape[1]):
            items.append(
                ItemRecord(
                    item_id=f"head-{layer}-{head}",
                    section="head retrieval scores",
                    input=f"layer {layer}, head {head}",
                    base_score=float(base[layer, head]),
                    tuned_score=float(tuned[layer, head]),
                    extra={"layer": layer, "head": head},
                )
            )
    return items


def _notes(runs: dict[str, ModelRun], abl: dict[str, Ablation], cfg: RetrievalHeadsConfig) -> list[str]:
    notes = []
    unscored = [name for name, run in runs.items() if not _scored(run)]
    for name, run in runs.items():
        if _scored(run):
            above = int((run.scores > cfg.threshold).sum())
            notes.append(
                f"{name.capitalize()}: recalled {sum(run.recalled)} of {len(run.recalled)} needles; {above} of "
                f"{run.scores.size} heads ({above / run.scores.size:.1%}) score above {cfg.threshold:g} "
                "(Wu et al.: under 5% in the models they studied)."
            )
    for name in unscored:
        notes.append(
            f"The {name} model recalled none of the {len(runs[name].recalled)} needles: it copied nothing, "
            "so it has no retrieval scores and no ablation; the head comparisons are left inconclusive."
        )
    if not unscored:
        base, tuned = runs["base"].scores.ravel(), runs["tuned"].scores.ravel()
        rho = spearman(base, tuned)
        rho_text = f"{rho:+.2f}" if rho is not None else "not computable (constant scores)"
        notes.append(
            f"Top-{cfg.top_k} retrieval heads: Jaccard overlap base vs tuned "
            f"{jaccard(abl['base'].top, abl['tuned'].top):.2f}; Spearman correlation of all {len(base)} head "
            f"scores {rho_text}. Wu et al. report that chat tuning keeps the retrieval-head set."
        )
    for name in ("base", "tuned"):
        a = abl[name]
        if not a.unmasked:
            continue
        draws = [_mean(d) for d in a.random_recalled]
        spread = f"{np.mean(draws):.2f} (draws {min(draws):.2f}-{max(draws):.2f})" if draws else "n/a"
        notes.append(
            f"Ablation, {name} (on the {len(a.unmasked)} needles either model recalled): needle accuracy "
            f"{_mean(a.unmasked):.2f} unmasked, {_mean(a.top_recalled):.2f} with its top-{cfg.top_k} heads masked, "
            f"{spread} with {cfg.top_k} random non-retrieval heads masked. Top heads: "
            + ", ".join(f"L{la}H{h}" for la, h in a.top)
            + "."
        )
    return notes


@probe(
    NAME,
    title="Retrieval heads",
    config=RetrievalHeadsConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=DECLARED,
    needs_weights="the attention of each head",
)
def retrieval_heads(ctx: ProbeContext, cfg: RetrievalHeadsConfig) -> ProbeResult:
    """Needle-in-a-haystack retrieval and the attention heads that copy the needle (Wu et al.
    2024): per-head retrieval scores of both models, needle accuracy, the overlap of the
    top heads, and needle accuracy with the top heads masked versus random heads."""
    instances = needle_instances(ctx.base, cfg.lengths, cfg.depths, cfg.per_cell, ctx.seed)
    runs: dict[str, ModelRun] = {}
    for name, engine in ctx.engines():
        ctx.progress(f"retrieval_heads: {name} answers and head scores")
        runs[name] = _measured(engine, instances, cfg.max_new_tokens, require_recall=not ctx.assume_known)
    # Masking can only take away a recall: instances neither model recalls are left out, and
    # a model that recalled nothing has no retrieval heads to mask.
    recalled = [i for i, inst in enumerate(instances) if runs["base"].recalled[i] or runs["tuned"].recalled[i]]
    if ctx.assume_known:  # a benchmark on random weights: score and ablate every needle
        recalled = list(range(len(instances)))
    abl: dict[str, Ablation] = {}
    for name, engine in ctx.engines():
        if not _scored(runs[name]) and not ctx.assume_known:
            abl[name] = Ablation([], top_heads(runs[name].scores, 0), [], [])
            continue
        ctx.progress(f"retrieval_heads: {name} ablation")
        abl[name] = ablate(engine, instances, recalled, runs[name], cfg, ctx.seed)
    return ProbeResult(
        name=NAME,
        metrics=_metrics(runs, abl, cfg, ctx.seed),
        items=_items(instances, runs),
        plots=_plots(runs, abl, cfg),
        notes=_notes(runs, abl, cfg),
    )
