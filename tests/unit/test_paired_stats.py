"""The paired bootstrap of a corpus-level aggregate, its verdicts, and ``paired`` on synthetic
lm-eval logs: the motivating example (an unpaired z-test misses what exact McNemar finds),
BLEU through the bootstrap, and the refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from tunelens.errors import TunelensError
from tunelens.results import Verdict, load_results
from tunelens.stats import (
    BOOTSTRAP_DRAWS,
    apply_verdicts,
    bootstrap_aggregate,
    bootstrap_p,
    bootstrap_sums,
    declare,
    metric_from,
)

sacrebleu = pytest.importorskip("sacrebleu")

# -- the bootstrap ---------------------------------------------------------------------------


def test_bootstrap_sums_matches_the_generic_bootstrap_and_the_plain_aggregate() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 5, size=(60, 2)).astype(float) + [0, 1]
    tuned = base + rng.integers(0, 3, size=(60, 2)) * [1, 0]

    def ratio(sums: np.ndarray) -> float:
        return float(sums[0] / sums[1])

    fast = bootstrap_sums(base, tuned, ratio, n_resamples=2000, seed=3)
    slow = bootstrap_aggregate(list(base), list(tuned), lambda rows: ratio(np.sum(rows, axis=0)), n_resamples=2000)
    assert fast.test == slow.test == "bootstrap_aggregate"
    assert fast.base == pytest.approx(ratio(base.sum(0))) and fast.tuned == pytest.approx(ratio(tuned.sum(0)))
    assert fast.delta == pytest.approx(slow.delta)
    # Two samplers of the same bootstrap distribution: the intervals agree to Monte Carlo error.
    assert fast.ci_low == pytest.approx(slow.ci_low, abs=0.05) and fast.ci_high == pytest.approx(slow.ci_high, abs=0.05)
    assert fast.ci_low < fast.ci90_low < fast.delta < fast.ci90_high < fast.ci_high
    assert fast.diff_sd is None and fast.base_values is None  # a pooled aggregate has no per-item differences
    assert fast.min_p == pytest.approx(2 / 2001)


def test_bootstrap_p_inverts_the_percentile_interval() -> None:
    deltas = np.linspace(-1, 9, 1000)  # 10% of the resampled changes at or below zero
    assert bootstrap_p(deltas, 4.0) == pytest.approx(2 * (1 + 100) / 1001, rel=0.02)
    assert bootstrap_p(np.full(100, 2.0), 2.0) == pytest.approx(2 / 101)  # never zero
    assert bootstrap_p(np.zeros(100), 0.0) == 1.0


def test_bootstrap_of_a_mean_agrees_with_the_paired_t_test() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(0.5, 0.2, 300)
    tuned = base + rng.normal(0.04, 0.1, 300)
    boot = bootstrap_sums(np.c_[base, np.ones(300)], np.c_[tuned, np.ones(300)], lambda s: s[0] / s[1], seed=0)
    t = sps.ttest_rel(tuned, base)
    assert boot.p_value == pytest.approx(t.pvalue, rel=0.5, abs=5e-4)
    half = (boot.ci_high - boot.ci_low) / 2
    assert half == pytest.approx(1.96 * np.std(tuned - base, ddof=1) / math.sqrt(300), rel=0.1)


def test_bootstrap_of_bleu_reproduces_sacrebleu() -> None:
    from tunelens.pairing._aggregates import pooling

    refs = [f"the cat sat on mat number {i}" for i in range(40)]
    base = [[r, r.replace("cat", "dog")] for r in refs]
    tuned = [[r, r if i % 2 else r.replace("sat", "stood")] for i, r in enumerate(refs)]
    how = pooling("bleu", base + tuned)
    assert not isinstance(how, str) and how.stats is not None and how.score is not None
    got = bootstrap_sums(how.stats(base), how.stats(tuned), how.score, n_resamples=500)
    expected_b = sacrebleu.corpus_bleu([b[1] for b in base], [refs]).score
    expected_t = sacrebleu.corpus_bleu([t[1] for t in tuned], [refs]).score
    assert got.base == pytest.approx(expected_b) and got.tuned == pytest.approx(expected_t)


def test_verdicts_read_a_bootstrap_sensibly() -> None:
    rng = np.random.default_rng(2)
    stats = np.c_[rng.normal(20, 5, 200), np.ones(200)]
    better = stats + np.c_[rng.normal(3, 2, 200), np.zeros(200)]
    same = stats + np.c_[rng.normal(0, 0.2, 200), np.zeros(200)]
    changed = metric_from(bootstrap_sums(stats, better, lambda s: s[0] / s[1]), "t", "up", "up")
    flat = metric_from(bootstrap_sums(stats, same, lambda s: s[0] / s[1]), "t", "flat", "flat")
    for m, headline in ((changed, True), (flat, False)):
        declare(m, None, 1.0)
        m.headline = headline
    apply_verdicts([changed, flat])
    assert changed.verdict == Verdict.changed and changed.family == "confirmatory"
    assert flat.verdict == Verdict.equivalent
    assert changed.mde is not None and changed.equivalence_reach is not None  # read from the interval

    # Too few draws for the corrected level: the reason names the draws, not the items.
    short = metric_from(bootstrap_sums(stats, better, lambda s: s[0] / s[1], n_resamples=30), "t", "short", "short")
    declare(short, None, 0.01)
    short.headline = True
    apply_verdicts([short])
    assert short.verdict == Verdict.inconclusive
    assert "draws" in short.reason and short.n_needed is None
    assert BOOTSTRAP_DRAWS >= 10_000


# -- synthetic lm-eval logs --------------------------------------------------------------------


def _hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def write_samples(
    folder: Path,
    task: str,
    outcomes: list[int],
    *,
    model: str,
    metric: str = "acc",
    records: list[list[str]] | None = None,
    shots: int = 0,
    date: str = "2024-05-01T10-00-00.000001",
) -> Path:
    """A samples file and its results file as lm-eval writes them, with the given per-document outcomes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples_{task}_{date}.jsonl"
    metric_list = [{"metric": metric, "aggregation": "mean", "higher_is_better": True}]
    if records is not None:
        metric_list.append({"metric": "bleu", "higher_is_better": True})
    with path.open("w") as fh:
        for i, outcome in enumerate(outcomes):
            prompt = ("Q: 1+1?\nA: 2\n\n" * shots) + f"Question {i}: pick A or B.\nAnswer:"
            doc = {"question": f"Question {i}", "answer": 0}
            row = {
                "doc_id": i,
                "doc": doc,
                "target": "0",
                "arguments": {
                    "gen_args_0": {"arg_0": prompt, "arg_1": " A"},
                    "gen_args_1": {"arg_0": prompt, "arg_1": " B"},
                },
                "resps": [],
                "filtered_resps": [["-1.0", "False"], ["-2.0", "False"]][:: 1 if outcome else -1],
                "filter": "none",
                "metrics": [metric] + (["bleu"] if records is not None else []),
                "doc_hash": _hash(json.dumps(doc, indent=2)),
                "prompt_hash": _hash(prompt),
                "target_hash": _hash("0"),
                metric: float(outcome),
            }
            if records is not None:
                row["bleu"] = records[i]
            fh.write(json.dumps(row) + "\n")
    results = {
        "results": {task: {f"{metric},none": sum(outcomes) / len(outcomes)}},
        "configs": {task: {"task": task, "metric_list": metric_list, "num_fewshot": shots,
                           "output_type": "multiple_choice"}},
        "n-shot": {task: shots},
        "higher_is_better": {task: {metric: True}},
        "config": {"model": "hf", "model_args": f"pretrained={model},dtype=float32"},
        "model_name": model,
    }  # fmt: skip
    (folder / f"results_{date}.json").write_text(json.dumps(results))
    return path


def motivating_outcomes() -> tuple[list[int], list[int]]:
    """200 items: base right on 150, tuned on 136; 17 lost and 3 gained."""
    base = [1] * 150 + [0] * 50
    tuned = [1] * 133 + [0] * 17 + [1] * 3 + [0] * 47
    return base, tuned


def test_motivating_example_unpaired_misses_paired_finds(tmp_path: Path) -> None:
    from tunelens.pairing import paired, unpaired_z_p

    base, tuned = motivating_outcomes()
    write_samples(tmp_path / "a" / "org__base", "mc", base, model="org/base")
    write_samples(tmp_path / "b" / "org__tuned", "mc", tuned, model="org/tuned")
    unpaired = unpaired_z_p([float(x) for x in base], [float(x) for x in tuned])
    assert 0.1 < unpaired < 0.15  # lm-eval's z-test: no difference at 5%

    results = paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out")
    (probe,) = results.probes
    (acc,) = probe.metrics
    assert acc.test == "mcnemar" and acc.n == 200 and acc.headline
    assert acc.p_value == pytest.approx(sps.binomtest(3, 20, 0.5).pvalue) and acc.p_value < 0.005
    assert acc.verdict == Verdict.changed and acc.delta == pytest.approx(-14 / 200)
    assert results.source == "lm-eval" and results.base.ref == "org/base" and results.tuned.ref == "org/tuned"
    assert results.base.kind == "lm-eval log" and results.base.n_params is None
    assert probe.tables[0].rows[0][1:5] == ["133", "17", "3", "47"]
    assert probe.items[0].expected == "A" and probe.items[0].base_output == "A"
    assert any(line.startswith("mc acc: 75% → 68%") for line in results.summary)
    assert load_results(tmp_path / "out" / "results.json") == results
    assert "tunelens paired" in (tmp_path / "out" / "report.html").read_text()


def test_bleu_goes_through_the_bootstrap(tmp_path: Path) -> None:
    from tunelens.pairing import paired

    refs = [f"the quick brown fox jumps over dog {i}" for i in range(30)]
    worse = [[r, " ".join(r.split()[:4])] for r in refs]
    better = [[r, r] if i % 3 else [r, " ".join(r.split()[:5])] for i, r in enumerate(refs)]
    write_samples(tmp_path / "a", "gen", [0] * 30, model="a", metric="exact_match", records=worse)
    write_samples(tmp_path / "b", "gen", [0] * 30, model="b", metric="exact_match", records=better)
    results = paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out", seed=1)
    em, bleu = results.probes[0].metrics
    assert em.headline and not bleu.headline and bleu.family == "exploratory"
    assert bleu.test == "bootstrap_aggregate" and bleu.unit == "points" and bleu.margin == 1.0
    assert bleu.base == pytest.approx(sacrebleu.corpus_bleu([w[1] for w in worse], [refs]).score)
    assert bleu.tuned == pytest.approx(sacrebleu.corpus_bleu([b[1] for b in better], [refs]).score)
    assert bleu.verdict == Verdict.changed and bleu.ci_low > 0


def test_refusals_say_what_differs(tmp_path: Path) -> None:
    from tunelens.pairing import paired

    base, tuned = motivating_outcomes()
    write_samples(tmp_path / "a", "mc", base, model="m1")
    write_samples(tmp_path / "fewshot", "mc", tuned, model="m2", shots=2)
    with pytest.raises(TunelensError, match=r"task mc: 200 of 200 paired documents differ.*prompt_hash.*e\.g\. "
                       r"doc_id 0.*few-shot setting \(base 0-shot, tuned 2-shot\)"):  # fmt: skip
        paired(tmp_path / "a", tmp_path / "fewshot", out_dir=tmp_path / "out")

    write_samples(tmp_path / "short", "mc", tuned[:150], model="m2")
    write_samples(tmp_path / "short", "other", tuned, model="m2")
    with pytest.raises(TunelensError, match=r"tasks only in the tuned logs: other; task mc: the base log has 200 "
                       r"items, the tuned log 150, and 150 pair; 50 only in base \(doc_id 150, 151, 152"):  # fmt: skip
        paired(tmp_path / "a", tmp_path / "short", out_dir=tmp_path / "out")

    with pytest.raises(TunelensError, match="margins for metrics the logs do not have: mc.nope"):
        write_samples(tmp_path / "b", "mc", tuned, model="m2")
        paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out", margins={"mc.nope": 0.1})
    margin = paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out", margins={"mc.acc": 0.2})
    assert margin.probes[0].metrics[0].margin == 0.2

    results_json = next((tmp_path / "a").glob("results_*.json"))
    with pytest.raises(TunelensError, match="aggregated results, which hold no per-item outcomes"):
        paired(results_json, tmp_path / "b", out_dir=tmp_path / "out")
    with pytest.raises(TunelensError, match="no per-sample logs found"):
        paired(tmp_path / "out", tmp_path / "b", out_dir=tmp_path / "out2")
    results_only = tmp_path / "results_only"
    results_only.mkdir()
    results_json.rename(results_only / results_json.name)
    with pytest.raises(TunelensError, match="aggregated results but no per-sample logs; rerun lm-eval with --log_samp"):
        paired(results_only, tmp_path / "b", out_dir=tmp_path / "out2")


def test_tunelens_paired_stays_callable(tmp_path: Path) -> None:
    """``tunelens.paired`` is the function, also after its package (``tunelens.pairing``) is imported."""
    import tunelens

    base, tuned = motivating_outcomes()
    write_samples(tmp_path / "a", "mc", base, model="m1")
    write_samples(tmp_path / "b", "mc", tuned, model="m2")
    first = tunelens.paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "one")
    second = tunelens.paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "two")
    assert first.metrics()[0].p_value == second.metrics()[0].p_value
    assert tunelens.paired is tunelens.pairing.paired


def test_several_runs_of_a_task_take_the_newest_with_a_note(tmp_path: Path) -> None:
    from tunelens.pairing import paired

    base, tuned = motivating_outcomes()
    write_samples(tmp_path / "a", "mc", tuned, model="m1", date="2024-04-01T10-00-00.000001")
    write_samples(tmp_path / "a", "mc", base, model="m1")
    write_samples(tmp_path / "b", "mc", tuned, model="m2")
    results = paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out")
    assert results.probes[0].metrics[0].base == pytest.approx(0.75)  # the newest run's accuracy
    assert any("2 runs of mc" in note and "read the newest" in note for note in results.probes[0].notes)

    write_samples(tmp_path / "a", "mc", tuned, model="other", date="2024-06-01T10-00-00.000001")
    with pytest.raises(TunelensError, match=r"runs of task mc by several models \(m1, other\)"):
        paired(tmp_path / "a", tmp_path / "b", out_dir=tmp_path / "out")


def test_a_json_file_that_is_no_log_is_named_as_such(tmp_path: Path) -> None:
    from tunelens.pairing import paired

    junk = tmp_path / "junk.json"
    junk.write_text('{"a": 1}')
    with pytest.raises(TunelensError, match="junk.json is not a log tunelens reads"):
        paired(junk, junk, out_dir=tmp_path / "out")
