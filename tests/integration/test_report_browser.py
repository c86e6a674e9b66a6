"""Open a rendered report in headless Chromium: the DOM has every section and plot, and it paints.

Run: PYTHONPATH=src python -m pytest tests/integration/test_report_browser.py -q
Needs the `chromium` binary (Debian: apt-get install chromium). Without it the test is
skipped, except under CI (env var CI set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tunelens.report import write_report
from tunelens.results import (
    AuditResults,
    ItemRecord,
    Metric,
    ModelInfo,
    Plot,
    ProbeResult,
    Series,
    TrainingInfo,
    Verdict,
)

pytestmark = pytest.mark.integration

TIMEOUT_S = 60
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def chromium() -> str:
    """Path of the Chromium binary; skip (or fail under CI) when there is none."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if found:
        return found
    message = "chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def make_results() -> AuditResults:
    def metric(name: str, probe: str, verdict: Verdict, base: float, tuned: float) -> Metric:
        return Metric(
            name=name,
            probe=probe,
            label=name,
            unit="accuracy",
            higher_is_better=True,
            base=base,
            tuned=tuned,
            delta=tuned - base,
            ci_low=tuned - base - 0.05,
            ci_high=tuned - base + 0.05,
            n=120,
            test="mcnemar",
            p_value=0.001,
            p_adjusted=0.004,
            verdict=verdict,
        )

    info = ModelInfo(
        ref="embedded:smollm2-135m-instruct",
        kind="embedded",
        n_params=134_515_008,
        n_layers=30,
        n_heads=9,
        dtype="float32",
        tokenizer_fingerprint="abc123",
    )
    line = Plot(
        id="recall",
        title="Recall by exposure",
        kind="line",
        x_log=True,
        x_label="exposures",
        y_label="recall",
        series=[
            Series(name="base", x=[1, 4, 16], y=[0.1, 0.1, 0.1]),
            Series(name="tuned", x=[1, 4, 16], y=[0.2, 0.5, 0.8]),
        ],
    )
    bar = Plot(
        id="formats",
        title="Formats",
        kind="bar",
        series=[Series(name="base", x=["a", "b"], y=[0.4, 0.6]), Series(name="tuned", x=["a", "b"], y=[0.9, 0.1])],
    )
    probes = [
        ProbeResult(
            name="forgetting",
            title="Forgetting",
            description="General capability.",
            metrics=[metric("arithmetic", "forgetting", Verdict.changed, 0.6, 0.4)],
            plots=[bar],
            items=[
                ItemRecord(
                    item_id="1",
                    section="math",
                    input="2+2=",
                    expected="4",
                    base_output="4",
                    tuned_output="<script>document.title='pwned'</script>",
                    base_score=1,
                    tuned_score=0,
                )
            ],
        ),
        ProbeResult(
            name="facts_vs_patterns",
            title="Facts vs patterns",
            description="Own data.",
            metrics=[metric("recall", "facts_vs_patterns", Verdict.equivalent, 0.1, 0.12)],
            plots=[line],
        ),
    ]
    training = TrainingInfo(
        method="lora",
        data="d.jsonl",
        n_examples=10,
        epochs=1,
        steps=5,
        learning_rate=1e-4,
        batch_size=2,
        trainable_params=1000,
        loss_curve=[(i, 2.0 - 0.3 * i) for i in range(6)],
        seconds=3.0,
        checkpoint="ckpt",
    )
    return AuditResults(
        tunelens_version="0.1.0",
        created="2025-01-01T00:00:00+00:00",
        seed=0,
        base=info,
        tuned=info.model_copy(update={"ref": "runs/tuned"}),
        training=training,
        probes=probes,
        summary=["Arithmetic fell."],
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(make_results(), tmp_path_factory.mktemp("report") / "report.html")


def test_dom_has_sections_and_plots(report: Path, tmp_path: Path) -> None:
    done = run_chromium(tmp_path, "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for probe in ("forgetting", "facts_vs_patterns"):
        assert f'id="{probe}"' in dom
    assert 'id="tl-what-changed"' in dom and 'id="tl-training"' in dom
    assert dom.count("<svg") == 3  # two probe plots and the loss curve
    assert "<polyline" in dom and "<rect" in dom
    assert "<script" not in dom and "<title>tunelens audit" in dom  # the injected script is text, not code


def test_screenshot_is_painted(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = run_chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", report.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes


def test_missing_browser_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        chromium()


def test_triage_page_paints(tmp_path: Path) -> None:
    from tunelens.data import support_desk_dataset
    from tunelens.triaging import build_triage, write_triage

    examples, _ = support_desk_dataset(1, n_pattern_only=8)
    _, page = write_triage(build_triage(examples, model=None), tmp_path / "triage")
    done = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    for section in ("tl-what-to-do", "tl-contradictions", "tl-patterns", "tl-facts", "tl-rule"):
        assert f'id="{section}"' in done.stdout
    shot = tmp_path / "triage.png"
    done = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert done.returncode == 0 and shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 20_000
