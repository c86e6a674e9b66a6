"""Every checkpoint of a run against one base, on the tiny model: the base's memo answers
exactly what the base computes, the base's side runs once, verdicts are corrected over all
checkpoints, the trajectory page is written, Ray gives the serial run's numbers, and
``tunelens tune --save-every`` writes checkpoints ``--checkpoints`` finds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tunelens import audit, audit_checkpoints
from tunelens.cli.main import main
from tunelens.engine import Engine, GenRequest, LLRequest, Memo, MemoEngine, Sampling
from tunelens.results import ResultCache, load_results

pytestmark = pytest.mark.integration

PROBES = ["forgetting", "behaviour"]


def _perturbed(base_dir: Path, target: Path, scale: float, seed: int) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base_dir))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.add_(torch.randn(p.shape, generator=generator) * scale)
    model.save_pretrained(str(target))
    AutoTokenizer.from_pretrained(str(base_dir)).save_pretrained(str(target))
    return target


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A run with two checkpoints, the later one further from the base."""
    run = tmp_path_factory.mktemp("run")
    _perturbed(tiny_model_dir, run / "checkpoint-20", 0.12, seed=2)
    _perturbed(tiny_model_dir, run / "checkpoint-10", 0.06, seed=1)
    return run


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, run_dir: Path):
    """The serial audit of the run's checkpoints (its own results cache), which the tests of
    the trajectory and of the Ray run both read."""
    out = tmp_path_factory.mktemp("serial")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNELENS_RESULTS_CACHE", str(out / "cache"))
        trajectory = audit_checkpoints(
            str(tiny_model_dir), run_dir=run_dir, out_dir=out / "traj", probes=PROBES, quick=True
        )
    return trajectory, out / "traj"


def test_memo_engine_answers_what_the_engine_computes(tiny_loaded) -> None:
    plain, memo = Engine(tiny_loaded), MemoEngine(tiny_loaded, Memo())
    requests = [LLRequest("The capital of France is", c) for c in (" Paris", " Lyon", " a city by the sea")]
    texts = ["Once upon a time there was a model.", "Two plus two is four."]
    prompts = [GenRequest("Hello there", 6), GenRequest("Write a word:", 5, stop=("\n",))]
    sampled = Sampling(temperature=0.9, top_p=0.95, seed=3)
    for _ in range(2):  # the second round is answered from the memo
        assert memo.loglikelihood(requests) == plain.loglikelihood(requests)
        for a, b in zip(memo.token_logprobs(texts), plain.token_logprobs(texts)):
            np.testing.assert_array_equal(a, b)
        assert memo.generate(prompts) == plain.generate(prompts)
        assert memo.generate(prompts, sampled) == plain.generate(prompts, sampled)
    assert memo.memo is not None
    assert memo.memo.hits == memo.memo.misses == 3 + 2 + 2 + 1
    # Half known, half new: only the new request runs, answers in the asked order (equal up to
    # float tolerance: a known answer was computed in another batch).
    mixed = [requests[1], LLRequest("The capital of Spain is", " Madrid")]
    for got, want in zip(memo.loglikelihood(mixed), plain.loglikelihood(mixed)):
        assert got.logprob == pytest.approx(want.logprob, abs=1e-4) and got.n_tokens == want.n_tokens
    assert memo.memo.misses == 9
    # Inside a scope (the model altered meanwhile) nothing is answered from outside it.
    with memo.scope("altered"):
        memo.loglikelihood(requests[:1])
    assert memo.memo.misses == 10


def test_every_checkpoint_against_one_base(tmp_path: Path, tiny_model_dir: Path, run_dir: Path, serial) -> None:
    trajectory, out = serial
    assert trajectory.steps == [10, 20] and trajectory.folders == ["step-000010", "step-000020"]
    assert (out / "trajectory.html").is_file() and (out / "trajectory.json").is_file()
    first, second = (load_results(out / f / "results.json") for f in trajectory.folders)
    assert second.checkpoint is not None and second.checkpoint.step == 20 and second.checkpoint.corrected_over == 2
    html = (out / "trajectory.html").read_text()
    assert "corrected over all 2 checkpoints" in html and "step-000020/report.html" in html
    # The base's side ran once: the second checkpoint's forgetting probe asked the base nothing new.
    notes = {p.name: " ".join(p.notes) for p in second.probes}
    assert "Base side: " in notes["forgetting"] and "ran now" not in notes["forgetting"]
    # behaviour scores the tuned model's replies under the base: those run for every checkpoint.
    assert "ran now because they depend on the tuned model" in notes["behaviour"]
    assert not any("Base side" in n for p in first.probes for n in p.notes)

    # The numbers equal an audit of that checkpoint alone, with nothing replayed ...
    alone = audit(str(tiny_model_dir), str(run_dir / "checkpoint-20"), out_dir=tmp_path / "alone", probes=PROBES,
                  quick=True, cache=False)  # fmt: skip
    pairs = list(zip(second.metrics(), alone.metrics()))
    assert len(pairs) == len(alone.metrics()) > 5
    for got, want in pairs:
        assert (got.name, got.base, got.tuned, got.delta, got.p_value) == (
            want.name,
            want.base,
            want.tuned,
            want.delta,
            want.p_value,
        )
        # ... but corrected over both checkpoints: never less strict than one audit's correction.
        if want.p_adjusted is not None:
            assert got.p_adjusted is not None and got.p_adjusted >= want.p_adjusted - 1e-12
    head = [(g, w) for g, w in pairs if w.headline and w.p_adjusted is not None and w.p_adjusted < 1]
    assert any(g.p_adjusted > w.p_adjusted for g, w in head)
    # The trajectory holds every headline metric at both steps.
    for metric in trajectory.metrics:
        assert [p.step for p in metric.points] == [10, 20]
        changed = [p.step for p in metric.points if p.verdict == "changed"]
        assert metric.first_changed == (changed[0] if changed else None)


def test_a_later_audit_replays_the_base_from_the_cache(tmp_path: Path, tiny_model_dir: Path, run_dir: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    audit(str(tiny_model_dir), str(run_dir / "checkpoint-10"), out_dir=tmp_path / "a", probes=["forgetting"],
          quick=True, cache=cache)  # fmt: skip
    assert list((tmp_path / "cache" / "base").glob("*.json"))
    later = audit(str(tiny_model_dir), str(run_dir / "checkpoint-20"), out_dir=tmp_path / "b", probes=["forgetting"],
                  quick=True, cache=cache)  # fmt: skip
    assert "Base side" in " ".join(later.probes[0].notes)
    fresh = audit(str(tiny_model_dir), str(run_dir / "checkpoint-20"), out_dir=tmp_path / "c", probes=["forgetting"],
                  quick=True, cache=cache, fresh=True)  # fmt: skip
    assert "Base side" not in " ".join(fresh.probes[0].notes)
    assert [m.delta for m in fresh.metrics()] == [m.delta for m in later.metrics()]


def test_ray_gives_the_serial_numbers(
    tmp_path: Path, tiny_model_dir: Path, run_dir: Path, serial, monkeypatch: pytest.MonkeyPatch
) -> None:
    ray = pytest.importorskip("ray")
    serial_run, serial_out = serial
    monkeypatch.setenv("TUNELENS_RESULTS_CACHE", str(tmp_path / "cache-ray"))  # nothing shared with the serial run
    on_ray = audit_checkpoints(
        str(tiny_model_dir),
        [str(run_dir / "checkpoint-20"), str(run_dir / "checkpoint-10")],  # named out of order
        out_dir=tmp_path / "ray",
        probes=PROBES,
        quick=True,
        ray="local",
    )
    ray.shutdown()
    assert on_ray.executor == "ray (local)" and serial_run.executor == "serial"
    assert on_ray.folders == serial_run.folders
    assert on_ray.metrics == serial_run.metrics
    for folder in serial_run.folders:
        here, there = (load_results(out / folder / "results.json") for out in (serial_out, tmp_path / "ray"))
        assert [m.model_dump() for m in here.metrics()] == [m.model_dump() for m in there.metrics()]
        assert [p.notes for p in here.probes] == [p.notes for p in there.probes]


def test_cli_audits_a_run_tune_saved(tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from tunelens.data import support_desk_dataset, write_jsonl

    examples, _ = support_desk_dataset(facts_per_level=1, n_pattern_only=4, seed=0)
    data = tmp_path / "data.jsonl"
    write_jsonl(data, examples[::6])
    run = tmp_path / "run"
    code = main(["tune", str(tiny_model_dir), str(data), "--out", str(run), "--no-audit", "--epochs", "1",
                 "--batch-size", "4", "--max-length", "64", "--save-every", "2"])  # fmt: skip
    assert code == 0
    steps = json.loads((run / "training.json").read_text())["steps"]
    saved = sorted(int(p.name.split("-")[1]) for p in run.glob("checkpoint-*"))
    assert saved == list(range(2, steps + 1, 2))
    assert all((run / f"checkpoint-{s}" / "tunelens.json").is_file() for s in saved)
    out = tmp_path / "traj"
    code = main(["audit", str(tiny_model_dir), "--checkpoints", str(run), "--out", str(out), "--quick",
                 "--probes", "forgetting"])  # fmt: skip
    assert code == 0
    trajectory = json.loads((out / "trajectory.json").read_text())
    expected = saved + ([steps] if steps not in saved else [])
    assert trajectory["steps"] == expected
    assert "trajectory:" in capsys.readouterr().out
    # Contradictions are usage errors (exit 2), before any model loads.
    assert main(["audit", str(tiny_model_dir), str(run / "adapter"), "--checkpoints", str(run)]) == 2
    assert main(["audit", str(tiny_model_dir), str(run / "adapter"), "--ray"]) == 2
    assert main(["audit", str(tiny_model_dir)]) == 2
    assert main(["tune", str(tiny_model_dir), str(data), "--out", str(tmp_path / "x"), "--save-every", "-1"]) == 2
