"""Probe ``self_conditioning``: do errors already in the context make a model err more?

Sinha et al. 2025 ("The Illusion of Diminishing Returns: Measuring Long Horizon Execution
in LLMs", arXiv:2509.09677) isolate execution with a task whose knowledge and plan are in
the prompt: a dictionary maps words to integers, each turn gives a few keys, the model
answers with the running sum. Replacing the model's own history by ground-truth turns
with errors injected at a controlled rate, they find accuracy at a later turn falls as
the rate rises: models *self-condition* on their past mistakes. A clean history (0%)
separates long-context effects from error effects.

This probe builds the same episodes for both models and every error rate (paired), lets
each model answer the evaluation turn greedily, and reports accuracy per rate, the drop
from clean to the highest rate, and a plot of both curves with 95% Wilson intervals.
How errors are injected (transient, last history turn kept correct) is documented in
``tunelens.data._long_horizon``. Run it with ``tunelens audit ... --probes self_conditioning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tunelens.data._arithmetic import parse_integer
from tunelens.data._long_horizon import (
    LongHorizonTask,
    chat_messages,
    error_turns,
    keys_message,
    long_horizon_episodes,
    n_errors,
    shown_sums,
)
from tunelens.engine import GenRequest
from tunelens.probes._registry import ProbeContext, probe
from tunelens.results import ItemRecord, Metric, MetricDecl, Plot, ProbeResult, Series
from tunelens.stats import compare_binary, make_metric, wilson_interval

NAME = "self_conditioning"

FLOOR = 0.1
"""Clean-history accuracy at or below this, on both models, leaves no room for a drop."""


_SUM = re.compile(r"sum\s*[:=]\s*(-?\d+)", re.IGNORECASE)


def read_sum(reply: str) -> int | None:
    """The running sum a reply gives: after "Sum:" anywhere (a tuned model may open with a
    greeting line), else the integer on its first line."""
    found = _SUM.search(reply)
    if found:
        return int(found.group(1))
    return parse_integer(reply.strip().split("\n", 1)[0])


@dataclass(frozen=True)
class SelfConditioningConfig:
    """Episodes, error rates and task difficulty. The task keeps prompts near 180 tokens,
    where SmolLM2-135M-Instruct answers a clean history right about a third of the time.

    Every episode is generated (a fresh dictionary and key sequence from the seed, none
    repeated) and asked at every error rate, so each accuracy and the drop are paired over
    ``n_episodes``. Cost: one greedy chat reply per episode, rate and model, about 0.3 s a
    reply for SmolLM2-135M on a busy 2-core CPU (60 replies in 40 s), so standard (60
    episodes at 0, 50 and 100% errors) takes about two minutes per model there and thorough
    (200 episodes at four rates, 800 replies per model) about nine; thorough is meant for a GPU.
    Measured at standard on SmolLM2-135M-Instruct: 32% right with a clean history, 18% with
    every injectable answer wrong (drop 13 points, 14 of 60 episodes discordant).
    """

    n_episodes: int = 60
    error_rates: tuple[float, ...] = (0.0, 0.5, 1.0)
    n_turns: int = 6  # the last turn is evaluated; 4 injectable turns make 25% exact
    keys_per_turn: int = 1
    dict_size: int = 6
    value_low: int = 1
    value_high: int = 5
    max_new_tokens: int = 20  # room for a greeting line before the sum


QUICK = SelfConditioningConfig(n_episodes=8, error_rates=(0.0, 0.5, 1.0))
STANDARD = SelfConditioningConfig()
THOROUGH = SelfConditioningConfig(n_episodes=200, error_rates=(0.0, 0.25, 0.5, 1.0))


def _episodes(cfg: SelfConditioningConfig) -> int:
    return cfg.n_episodes


DECLARED = [
    MetricDecl(
        "acc_errors_0",
        "Running-sum accuracy at a later turn with a clean history",
        unit="accuracy",
        headline=True,
        items=_episodes,
    ),
    MetricDecl("acc_errors_*", "Running-sum accuracy at a later turn with errors in the history", unit="accuracy"),
    # A difference of two accuracies, in [-1, 1]: not a bounded share, so not unit "accuracy"
    # (whose floor at 0 would wrongly block a drop near zero from reading equivalent).
    MetricDecl(
        "self_conditioning_drop",
        "Self-conditioning: accuracy lost from a clean to an error-filled history",
        unit="rate difference",
        higher_is_better=False,
        headline=True,
        items=_episodes,
    ),
]


def _rate_label(rate: float) -> str:
    return f"{rate:.0%} errors"


def _drop_note(name: str, clean: list[bool], worst: list[bool], lo: float, hi: float, seed: int) -> str:
    """One sentence on a model's own self-conditioning: the paired change from clean to worst."""
    c = compare_binary(clean, worst, seed)
    if c.delta is None or c.ci_low is None or c.ci_high is None:
        return f"{name}: no episodes to compare."
    return (
        f"{name}: accuracy {c.base:.0%} with a clean history, {c.tuned:.0%} with {hi:.0%} of it wrong "
        f"(change {c.delta * 100:+.0f} points, 95% interval [{c.ci_low * 100:+.0f}, {c.ci_high * 100:+.0f}], "
        f"McNemar p={c.p_value:.2g}, "
        f"n={c.n} episodes; reference rate {lo:.0%})."
    )


@probe(
    NAME,
    title="Self-conditioning on errors in the history",
    config=SelfConditioningConfig,
    quick=QUICK,
    standard=STANDARD,
    thorough=THOROUGH,
    metrics=DECLARED,
)
def self_conditioning(ctx: ProbeContext, cfg: SelfConditioningConfig) -> ProbeResult:
    """Running-sum accuracy at a later turn of a long-horizon execution task when a share
    of the history's answers are wrong, for both models: do errors in the context make
    the model err more (self-conditioning, Sinha et al. 2025)?"""
    rates = sorted(set(cfg.error_rates))
    task = LongHorizonTask(cfg.n_turns, cfg.keys_per_turn, cfg.dict_size, cfg.value_low, cfg.value_high)
    episodes = long_horizon_episodes(task, cfg.n_episodes, seed=ctx.seed)
    cells = [(rate, ep) for rate in rates for ep in episodes]
    replies: dict[str, list[str]] = {}
    right: dict[str, list[bool]] = {}
    for name, engine in ctx.engines():
        ctx.progress(f"self_conditioning: {name} model, {len(cells)} histories")
        prompts = [engine.chat_messages(chat_messages(ep, rate)) for rate, ep in cells]
        replies[name] = engine.generate([GenRequest(p, cfg.max_new_tokens) for p in prompts])
        right[name] = [read_sum(r) == ep.target for r, (_, ep) in zip(replies[name], cells)]

    def at(name: str, rate: float) -> list[bool]:
        return [ok for ok, (r, _) in zip(right[name], cells) if r == rate]

    common = dict(binary=True, unit="accuracy", higher_is_better=True, seed=ctx.seed)
    metrics: list[Metric] = []
    for rate in rates:
        k = n_errors(rate, task.n_injectable)
        metrics.append(
            make_metric(
                NAME,
                f"acc_errors_{round(rate * 100)}",
                f"Running sum at turn {task.n_turns}, {rate:.0%} of history wrong ({k} of {task.n_injectable} answers)",
                at("base", rate),
                at("tuned", rate),
                group=_rate_label(rate),
                **common,
            )
        )
    lo, hi = rates[0], rates[-1]
    notes = [
        f"Each of {len(episodes)} episodes has {task.n_turns} turns of {task.keys_per_turn} key(s), values "
        f"{task.low}..{task.high}; the last turn is scored against the true running sum. Injected "
        "errors are transient (later turns show the true sum again) and the last history turn is always right, "
        "so the needed state is correct at every rate and only the number of wrong answers in context changes. "
        f"The {rates[0]:.0%} point is the step accuracy given a ground-truth history of the same length."
    ]
    clean = {n: sum(at(n, lo)) / len(episodes) for n in right} if episodes else {}
    floored = [n for n in ("base", "tuned") if episodes and clean[n] <= FLOOR]
    if hi > lo and episodes:
        # A model at the floor with a clean history has no accuracy to lose: comparing its
        # "drop" of zero with the other model's would read as a difference in self-conditioning.
        usable = not floored or ctx.assume_known
        drops = {n: [float(a) - float(b) for a, b in zip(at(n, lo), at(n, hi))] if usable else [] for n in right}
        metrics.append(
            make_metric(
                NAME,
                "self_conditioning_drop",
                f"Self-conditioning: accuracy lost from {lo:.0%} to {hi:.0%} errors in the history",
                drops["base"],
                drops["tuned"],
                binary=False,
                unit="rate difference",
                higher_is_better=False,
                seed=ctx.seed,
            )
        )
        notes += [_drop_note(n, at(n, lo), at(n, hi), lo, hi, ctx.seed) for n in ("base", "tuned")]
    if len(floored) == 2:
        notes.append(
            f"Both models are near the floor with a {lo:.0%}-error history (base {clean['base']:.0%}, tuned "
            f"{clean['tuned']:.0%}, n={len(episodes)}): there is no accuracy left to lose, so this curve cannot "
            "show self-conditioning; an easier task (fewer turns, smaller values) gives it room."
        )
    elif floored:
        name = floored[0]
        notes.append(
            f"The {name} model is near the floor with a {lo:.0%}-error history ({clean[name]:.0%}, n={len(episodes)}; "
            "read its replies below): it has no accuracy left to lose, so the two models' self-conditioning "
            "cannot be compared and the drop metric is left inconclusive."
        )

    series = []
    for name in ("base", "tuned"):
        counts = [sum(at(name, r)) for r in rates]
        bounds = [wilson_interval(c, len(episodes)) for c in counts]
        series.append(
            Series(
                name=name,
                x=list(rates),
                y=[c / len(episodes) if episodes else None for c in counts],
                y_low=[b[0] for b in bounds],
                y_high=[b[1] for b in bounds],
            )
        )
    plot = Plot(
        id="self-conditioning-curve",
        title="Accuracy at a later turn vs errors injected into the history",
        kind="line",
        x_label="share of history answers that are wrong",
        y_label=f"accuracy at turn {task.n_turns}",
        series=series,
        caption=f"Same {len(episodes)} episodes at every rate and for both models; bars are 95% Wilson intervals.",
    )
    items = [
        ItemRecord(
            item_id=f"{ep.id}-e{round(rate * 100)}",
            section=_rate_label(rate),
            input=keys_message(ep.keys[-1]),
            expected=str(ep.target),
            base_output=replies["base"][i],
            tuned_output=replies["tuned"][i],
            base_score=float(right["base"][i]),
            tuned_score=float(right["tuned"][i]),
            extra={
                "dictionary": dict(ep.dictionary),
                "keys": [list(k) for k in ep.keys],
                "true_sums": list(ep.sums),
                "shown_sums": shown_sums(ep, rate),
                "error_turns": [t + 1 for t in error_turns(ep, rate)],
            },
        )
        for i, (rate, ep) in enumerate(cells)
    ]
    return ProbeResult(
        name=NAME,
        metrics=metrics,
        items=items,
        plots=[plot],
        notes=notes,
    )
