"""A killed audit resumes: the rerun reuses the probes that finished and gives the numbers an
uninterrupted run gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import build_tiny_model
from tunelens import audit
from tunelens.cli.main import main
from tunelens.results import load_results

pytestmark = pytest.mark.integration

PROBES = ("locality", "forgetting")


def _kill_when(command: list[str], marker: str, env: dict[str, str]) -> list[str]:
    """Run ``command`` and kill it (SIGKILL) at the first stderr line that starts with ``marker``."""
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(marker):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the audit ended before it was killed: {''.join(seen)[-2000:]}"
    return seen


def _numbers(path: Path) -> dict[str, tuple]:
    results = load_results(path)
    return {
        f"{m.probe}.{m.name}.{m.group}": (m.base, m.tuned, m.delta, m.ci_low, m.ci_high, m.p_value, m.verdict, m.n)
        for m in results.metrics()
    }


def test_a_killed_audit_resumes_after_its_last_finished_probe(
    tmp_path: Path, tiny_model_dir: Path, smollm_tokenizer, capsys: pytest.CaptureFixture[str]
) -> None:
    other = build_tiny_model(tmp_path / "other", smollm_tokenizer, seed=1)
    out = tmp_path / "audit"
    args = ["audit", str(tiny_model_dir), str(other), "--probes", ",".join(PROBES), "--quick", "--out", str(out)]
    command = [sys.executable, "-m", "tunelens", *args]
    _kill_when(command, "forgetting:", dict(os.environ))  # locality finished, forgetting under way

    halfway = json.loads((out / "results.json").read_text())
    assert halfway["complete"] is False and [p["name"] for p in halfway["probes"]] == ["locality"]
    assert not (out / "report.html").exists()

    assert main(args) == 0
    said = capsys.readouterr().err
    assert "locality: reusing its result from an earlier run" in said
    assert "forgetting: reusing" not in said
    assert "resumed: 1 of 2 probes reused (locality); --fresh recomputes" in said
    resumed = load_results(out / "results.json")
    assert resumed.complete and [p.name for p in resumed.probes] == list(PROBES)
    assert any("Reused from an earlier run" in note for note in resumed.probes[0].notes)
    assert (out / "items.jsonl").is_file() and (out / "report.html").is_file()

    # the same numbers as a run that was never interrupted, computed without the cache
    whole = tmp_path / "whole"
    audit(str(tiny_model_dir), str(other), probes=PROBES, quick=True, out_dir=whole, cache=False)
    assert _numbers(out / "results.json") == _numbers(whole / "results.json")

    # --fresh recomputes everything; another seed is another key
    assert main([*args, "--fresh"]) == 0
    assert "reusing" not in capsys.readouterr().err
    assert main([*args, "--seed", "1", "--out", str(tmp_path / "seed1")]) == 0
    assert "reusing" not in capsys.readouterr().err


def _sharpened(model_dir: Path, out: Path) -> Path:
    """The model with its final norm scaled up fourfold: its next-token distributions sharpen on
    the wrong tokens, so its loss on general text rises on every chunk (a planted regression)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    with torch.no_grad():
        model.model.norm.weight.mul_(4.0)
    model.save_pretrained(str(out), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(model_dir)).save_pretrained(str(out))
    return out


def test_gate_exit_codes_on_a_real_pair(tmp_path: Path, tiny_model_dir: Path, capsys) -> None:
    worse = _sharpened(tiny_model_dir, tmp_path / "sharpened")
    base = ["audit", str(tiny_model_dir), str(worse), "--probes", "forgetting", "--quick"]
    assert main([*base, "--out", str(tmp_path / "a"), "--fail-on", "regression", "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["gate"]["passed"] is False and "forgetting.general_text_nll" in printed["gate"]["failing"]
    nll = next(m for m in printed["headline"] if m["name"] == "general_text_nll")
    assert nll["verdict"] == "changed" and nll["worse"] and nll["delta"] > 0
    assert nll["tuned"] > nll["base"] + 0.5  # not a borderline call
    # a model against itself changes nothing; at the quick budget some headline metric stays
    # inconclusive, which --require-verdicts refuses to pass
    same = ["audit", str(tiny_model_dir), str(tiny_model_dir), "--probes", "forgetting", "--quick"]
    assert main([*same, "--out", str(tmp_path / "b"), "--fail-on", "change"]) == 0
    assert "gate passed: no headline metric changed" in capsys.readouterr().out
    code = main([*same, "--out", str(tmp_path / "c"), "--fail-on", "change", "--require-verdicts", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["gate"]["failing"] == [] and printed["gate"]["unsettled"]
    assert code == 4


def test_set_changes_the_probe_config(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "set"
    args = ["audit", str(tiny_model_dir), str(tiny_model_dir), "--probes", "forgetting", "--quick", "--out", str(out)]
    assert main([*args, "--set", "forgetting.n_arithmetic=20", "--set", "forgetting.n_instructions=5"]) == 0
    probe = load_results(out / "results.json").probes[0]
    assert probe.budget == "custom" and probe.config["n_arithmetic"] == 20
    arithmetic = next(m for m in probe.metrics if m.name == "arithmetic_acc")
    assert arithmetic.n == 20 and probe.config["n_instructions"] == 5
