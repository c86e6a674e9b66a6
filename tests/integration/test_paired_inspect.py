"""``paired`` on real inspect_ai logs, written by inspect_ai itself (a local task, ``mockllm/model``
with scripted replies, two epochs, nothing from the network), in both log formats."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")

from tunelens.errors import TunelensError  # noqa: E402
from tunelens.results import Verdict  # noqa: E402

N = 12
EPOCHS = 2


def _task(name: str = "tiny_math", offset: int = 0):
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import Score, Target, match, mean, scorer
    from inspect_ai.solver import TaskState, generate

    @scorer(metrics={"chars": [mean()], "has_digit": [mean()]})
    def shape():
        async def score(state: TaskState, target: Target) -> Score:
            text = state.output.completion
            return Score(value={"chars": len(text), "has_digit": int(any(c.isdigit() for c in text))})

        return score

    samples = [Sample(input=f"What is {i + offset} plus {i + offset}?", target=str(2 * (i + offset)), id=f"q{i}")
               for i in range(N)]  # fmt: skip
    return Task(dataset=samples, solver=[generate()], scorer=[match(), shape()], name=name)


def _model(right: callable):
    """A mock model answering item i right when ``right(i, k)`` for its k-th call on that item."""
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    calls: Counter[int] = Counter()

    def reply(messages, tools, tool_choice, config) -> ModelOutput:
        i = int(messages[-1].text.split()[2])
        calls[i] += 1
        out = ModelOutput.from_content(model="mockllm/model", content=str(2 * i) if right(i, calls[i]) else "no idea")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # no tokenizer download
        return out

    return get_model("mockllm/model", custom_outputs=reply)


def _run(log_dir: Path, right: callable, fmt: str, task=None) -> Path:
    from inspect_ai import eval as inspect_eval

    (log,) = inspect_eval(
        task or _task(), model=_model(right), epochs=EPOCHS, log_dir=str(log_dir), log_format=fmt, display="none"
    )
    assert log.status == "success", log.error
    return Path(log.location)


def base_right(i: int, k: int) -> bool:
    return i % 4 != 0  # wrong on q0, q4, q8


def tuned_right(i: int, k: int) -> bool:
    if i % 3 == 0:
        return k == 2  # q0, q3, q6, q9: wrong in one epoch, right in the other
    return i % 2 == 0


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inspect")
    out = {}
    for fmt in ("eval", "json"):
        out[f"base_{fmt}"] = _run(root / f"base_{fmt}", base_right, fmt)
        out[f"tuned_{fmt}"] = _run(root / f"tuned_{fmt}", tuned_right, fmt)
    out["root"] = root
    return out


def _expected_means(path: Path) -> dict[str, float]:
    """Each sample's match score averaged over its epochs, read with inspect's reader."""
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(path))
    by_id: dict[str, list[float]] = {}
    for s in log.samples:
        by_id.setdefault(str(s.id), []).append(1.0 if s.scores["match"].value == "C" else 0.0)
    return {k: sum(v) / len(v) for k, v in by_id.items()}


@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_epochs_are_averaged_and_samples_paired(logs: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    from tunelens.pairing import paired

    results = paired(logs[f"base_{fmt}"].parent, logs[f"tuned_{fmt}"], out_dir=tmp_path / "out")
    assert results.source == "inspect"
    assert results.base.ref == "mockllm/model" and results.base.kind == "inspect log"
    assert results.tuned.source == str(logs[f"tuned_{fmt}"])
    (probe,) = results.probes
    assert probe.name == "tiny_math"
    names = [m.name for m in probe.metrics]
    assert names == ["match", "shape.chars", "shape.has_digit"]
    match = probe.metrics[0]
    assert match.headline and not any(m.headline for m in probe.metrics[1:])
    assert match.n == N  # samples, not samples x epochs
    assert len(probe.items) == N and [i.item_id for i in probe.items[:3]] == ["q0", "q1", "q2"]

    base_means, tuned_means = _expected_means(logs[f"base_{fmt}"]), _expected_means(logs[f"tuned_{fmt}"])
    assert sorted(set(tuned_means.values())) == [0.0, 0.5, 1.0]  # the scripted epochs disagree on q0, q3, ...
    ids = [i.item_id for i in probe.items]
    assert match.base_values == [base_means[k] for k in ids]
    assert match.tuned_values == [tuned_means[k] for k in ids]
    assert match.test in ("sign_flip_exact", "paired_t")  # 0.5 is not a binary outcome
    assert match.tuned == pytest.approx(sum(tuned_means.values()) / N)
    assert probe.items[0].tuned_score == 0.5 and probe.items[0].extra == {"base_epochs": 2, "tuned_epochs": 2}

    has_digit = probe.metrics[2]
    assert has_digit.base_values == match.base_values  # a digit exactly when the answer is right
    chars = probe.metrics[1]
    assert chars.unit == "" and chars.margin == 0.05
    assert any("shape.chars: tunelens knows no margin" in note for note in probe.notes)
    assert (tmp_path / "out" / "results.json").is_file() and (tmp_path / "out" / "report.html").is_file()


def test_both_formats_give_the_same_verdicts(logs: dict[str, Path], tmp_path: Path) -> None:
    from tunelens.pairing import paired

    a = paired(logs["base_eval"], logs["tuned_eval"], out_dir=tmp_path / "a")
    b = paired(logs["base_json"], logs["tuned_json"], out_dir=tmp_path / "b")
    for x, y in zip(a.metrics(), b.metrics()):
        assert (x.name, x.base, x.tuned, x.p_value, x.verdict) == (y.name, y.base, y.tuned, y.p_value, y.verdict)
    assert all(m.verdict in (Verdict.changed, Verdict.equivalent, Verdict.inconclusive) for m in a.metrics())


def test_other_inputs_under_the_same_ids_are_refused(logs: dict[str, Path], tmp_path: Path) -> None:
    from tunelens.pairing import paired

    shifted = _run(tmp_path / "shifted", tuned_right, "eval", task=_task(offset=1))
    with pytest.raises(TunelensError, match=rf"task tiny_math: {N} of {N} paired samples have another input and "
                       r"target in the two logs \(e\.g\. id q0\)"):  # fmt: skip
        paired(logs["base_eval"], shifted, out_dir=tmp_path / "out")

    other_task = _run(tmp_path / "other", tuned_right, "eval", task=_task(name="other_math"))
    with pytest.raises(TunelensError, match="tasks only in the base logs: tiny_math; tasks only in the tuned logs: "
                       "other_math"):  # fmt: skip
        paired(logs["base_eval"], other_task, out_dir=tmp_path / "out")

    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "samples_tiny_2024-01-01T00-00-00.000001.jsonl").write_text('{"doc_id": 0}\n')
    with pytest.raises(TunelensError, match="holds inspect_ai logs and tuned .* lm-evaluation-harness logs"):
        paired(logs["base_eval"], lm, out_dir=tmp_path / "out")
