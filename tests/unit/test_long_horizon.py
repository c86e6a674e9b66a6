"""The long-horizon execution task: deterministic episodes, exact sums, exact error rates."""

from __future__ import annotations

import pytest

from tunelens.data._arithmetic import parse_integer
from tunelens.data._long_horizon import (
    ANSWER_PREFIX,
    ERROR_OFFSETS,
    LongHorizonTask,
    chat_messages,
    error_turns,
    format_answer,
    long_horizon_episodes,
    n_errors,
    shown_sums,
)

TASK = LongHorizonTask(n_turns=10, keys_per_turn=2, dict_size=7, low=-4, high=9)


def test_episodes_deterministic_and_seed_sensitive() -> None:
    assert long_horizon_episodes(TASK, 5, seed=1) == long_horizon_episodes(TASK, 5, seed=1)
    assert long_horizon_episodes(TASK, 5, seed=1) != long_horizon_episodes(TASK, 5, seed=2)


def test_running_sums_are_correct_and_keys_come_from_the_dictionary() -> None:
    for ep in long_horizon_episodes(TASK, 20, seed=0):
        values = dict(ep.dictionary)
        assert len(values) == TASK.dict_size
        assert all(TASK.low <= v <= TASK.high for v in values.values())
        assert len(ep.keys) == len(ep.sums) == TASK.n_turns
        total = 0
        for turn, expected in zip(ep.keys, ep.sums):
            assert len(turn) == TASK.keys_per_turn
            total += sum(values[k] for k in turn)
            assert expected == total
        assert ep.target == total


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_error_rate_is_exact_and_spares_the_last_history_turn(rate: float) -> None:
    task = LongHorizonTask(n_turns=10)  # 8 injectable turns: every rate above is a whole count
    for ep in long_horizon_episodes(task, 10, seed=3):
        wrong = error_turns(ep, rate)
        assert len(wrong) == rate * task.n_injectable
        assert all(0 <= t < task.n_injectable for t in wrong)
        shown = shown_sums(ep, rate)
        assert len(shown) == task.n_turns - 1
        differs = [t for t, (s, true) in enumerate(zip(shown, ep.sums)) if s != true]
        assert differs == list(wrong)  # injected values differ from the truth, nothing else does
        assert all(shown[t] - ep.sums[t] in ERROR_OFFSETS for t in wrong)
        assert shown[-1] == ep.sums[-2]


def test_errors_are_nested_across_rates() -> None:
    ep = long_horizon_episodes(LongHorizonTask(n_turns=10), 1, seed=0)[0]
    assert set(error_turns(ep, 0.25)) <= set(error_turns(ep, 0.5)) <= set(error_turns(ep, 1.0))


def test_n_errors_rounds_half_up_and_rejects_bad_rates() -> None:
    assert n_errors(0.25, 4) == 1
    assert n_errors(0.5, 3) == 2
    assert n_errors(0.0, 3) == 0
    with pytest.raises(ValueError):
        n_errors(1.5, 4)


def test_chat_messages_render_history_and_evaluation_turn() -> None:
    ep = long_horizon_episodes(TASK, 1, seed=0)[0]
    messages = chat_messages(ep, 0.5)
    assert messages[0]["role"] == "system"
    assert all(f"{w}: {v}" in messages[0]["content"] for w, v in ep.dictionary)
    body = messages[1:]
    assert [m["role"] for m in body] == ["user", "assistant"] * (TASK.n_turns - 1) + ["user"]
    answers = [parse_integer(m["content"]) for m in body if m["role"] == "assistant"]
    assert answers == shown_sums(ep, 0.5)
    assert all(m["content"].startswith(ANSWER_PREFIX) for m in body if m["role"] == "assistant")
    assert body[-1]["content"] == ", ".join(ep.keys[-1])
    first = chat_messages(ep, 1.0, upto=0)
    assert len(first) == 2 and first[1]["content"] == ", ".join(ep.keys[0])
    assert format_answer(-7) == "Sum: -7" and parse_integer(format_answer(-7)) == -7


def test_task_validates_its_shape() -> None:
    with pytest.raises(ValueError):
        LongHorizonTask(n_turns=1)
    with pytest.raises(ValueError):
        LongHorizonTask(dict_size=0)


def test_injected_sums_stay_non_negative_without_negative_values() -> None:
    task = LongHorizonTask(n_turns=10, low=1, high=3)
    for ep in long_horizon_episodes(task, 30, seed=0):
        assert min(shown_sums(ep, 1.0)) >= 0


def test_episodes_never_repeat_and_a_too_small_task_says_so() -> None:
    task = LongHorizonTask(n_turns=6, dict_size=6, low=1, high=5)
    episodes = long_horizon_episodes(task, 200, seed=0)
    assert len({(ep.dictionary, ep.keys) for ep in episodes}) == 200
    assert [ep.id for ep in episodes] == [f"ep{i}" for i in range(200)]
    assert long_horizon_episodes(task, 60, seed=0) == episodes[:60]  # a larger budget only adds episodes
    tiny = LongHorizonTask(n_turns=2, dict_size=1, low=1, high=1)  # one episode per word: 40 in all
    assert len({ep.dictionary for ep in long_horizon_episodes(tiny, 40)}) == 40
    with pytest.raises(ValueError, match="distinct episodes"):
        long_horizon_episodes(tiny, 41)
