"""The long-horizon execution task of Sinha et al. 2025 ("The Illusion of Diminishing
Returns: Measuring Long Horizon Execution in LLMs"), with errors injected into the history.

A dictionary maps common English words to small integers; each turn the user gives a few
keys and the assistant answers with the running sum ("Sum: 12"). Knowledge (the
dictionary) and plan (add the values) are in the prompt, so only execution is tested.

For the self-conditioning experiment the assistant turns of the history are ground truth,
except on a chosen share of turns, where the shown sum is off by a small nonzero amount.

Design choice: an injected error is *transient*. The turns after it show the true running
sum again, and the last history turn (the one right before the evaluation turn) is always
correct. So the state the model needs (the previous sum) is right whatever the error rate,
the target (the true running sum at the evaluation turn) is also the only step-correct
answer, and the keys and targets are identical across error rates. What differs between
rates is only how many wrong answers the context holds: exactly the effect Sinha et al.
call self-conditioning, not a wrong starting state (if errors propagated, a model that
adds correctly would be scored wrong, and a drop would mix "bad state" with "bad
context"). The error rate is over the injectable turns, all history turns but the last.

Episodes are deterministic in the seed; the error turns of one episode are a fixed random
order of its injectable turns, so the errors at 25% are a subset of those at 50%.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

WORDS: tuple[str, ...] = (
    "apple", "river", "chair", "cloud", "green", "house", "table", "stone", "bread", "light",
    "horse", "paper", "music", "water", "glass", "night", "plant", "train", "money", "sugar",
    "tiger", "lemon", "field", "clock", "dress", "heart", "beach", "smoke", "grape", "floor",
    "queen", "snake", "storm", "brush", "candy", "ocean", "piano", "mouse", "truck", "wheel",
)  # fmt: skip
"""Common English words, one key each; an episode's dictionary is a sample of them."""

ERROR_OFFSETS: tuple[int, ...] = (-3, -2, -1, 1, 2, 3)
"""How far an injected wrong sum is from the truth: small and never zero, so it is plausible
(and never below zero when the dictionary has no negative values)."""

ANSWER_PREFIX = "Sum:"

_SYSTEM = (
    "You keep a running total. The total starts at 0. Each turn I give you {keys}; add the "
    "value of each key from the dictionary below to the total, then reply with the new total "
    "only, as '{prefix} <number>'.\n\nDictionary:\n{table}"
)


@dataclass(frozen=True)
class LongHorizonTask:
    """Shape and difficulty of the task: turns per episode (the last one is evaluated),
    keys per turn, dictionary size and the range of the values."""

    n_turns: int = 8
    keys_per_turn: int = 1
    dict_size: int = 8
    low: int = 1
    high: int = 9

    def __post_init__(self) -> None:
        if self.n_turns < 2:
            raise ValueError("an episode needs at least one history turn and the evaluation turn")
        if not 1 <= self.dict_size <= len(WORDS):
            raise ValueError(f"dict_size must be between 1 and {len(WORDS)}")
        if self.keys_per_turn < 1 or self.low > self.high:
            raise ValueError("keys_per_turn must be positive and low <= high")

    @property
    def n_injectable(self) -> int:
        """History turns that may carry an error: all but the last history turn."""
        return self.n_turns - 2


@dataclass(frozen=True)
class Episode:
    """One episode: its dictionary, the keys of every turn, the true running sums, and
    the fixed error order and offsets used when errors are injected."""

    id: str
    dictionary: tuple[tuple[str, int], ...]
    keys: tuple[tuple[str, ...], ...]
    sums: tuple[int, ...]
    error_order: tuple[int, ...]  # injectable turn indices (0-based), in injection order
    offsets: tuple[int, ...]  # per turn: the offset used if that turn carries an error

    @property
    def target(self) -> int:
        """The true running sum at the evaluation (last) turn."""
        return self.sums[-1]


def long_horizon_episodes(task: LongHorizonTask, n: int, seed: int = 0) -> list[Episode]:
    """Build ``n`` seeded episodes of ``task``; the same seed always gives the same list.

    No two episodes share both their dictionary and their keys (a drawn repeat is drawn
    again), so growing ``n`` adds new items rather than copies; a task too small to hold
    ``n`` distinct episodes raises ValueError."""
    rng = random.Random(f"long-horizon-{seed}")
    episodes: list[Episode] = []
    seen: set[tuple[tuple[tuple[str, int], ...], tuple[tuple[str, ...], ...]]] = set()
    attempts = 0
    while len(episodes) < n:
        attempts += 1
        if attempts > 20 * n + 100:
            raise ValueError(f"the task cannot make {n} distinct episodes; enlarge its dictionary, values or turns")
        words = rng.sample(WORDS, task.dict_size)
        dictionary = tuple((w, rng.randint(task.low, task.high)) for w in words)
        values = dict(dictionary)
        keys = tuple(tuple(rng.choice(words) for _ in range(task.keys_per_turn)) for _ in range(task.n_turns))
        if (dictionary, keys) in seen:
            continue
        seen.add((dictionary, keys))
        i = len(episodes)
        sums: list[int] = []
        total = 0
        for turn in keys:
            total += sum(values[k] for k in turn)
            sums.append(total)
        order = list(range(task.n_injectable))
        rng.shuffle(order)
        # With no negative values a negative sum would be an implausible error: keep it >= 0.
        offsets = tuple(rng.choice([o for o in ERROR_OFFSETS if task.low < 0 or s + o >= 0]) for s in sums)
        episodes.append(Episode(f"ep{i}", dictionary, keys, tuple(sums), tuple(order), offsets))
    return episodes


def n_errors(rate: float, n_injectable: int) -> int:
    """How many history turns carry an error at ``rate`` (rounded half up)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"error rate must be in [0, 1], got {rate}")
    return int(rate * n_injectable + 0.5)


def error_turns(episode: Episode, rate: float) -> tuple[int, ...]:
    """The 0-based history turns whose shown sum is wrong at ``rate``, in turn order."""
    return tuple(sorted(episode.error_order[: n_errors(rate, len(episode.error_order))]))


def shown_sums(episode: Episode, rate: float) -> list[int]:
    """The sums the history's assistant turns show: truth, off by the episode's offset
    on the error turns; the evaluation turn is not part of the history."""
    wrong = set(error_turns(episode, rate))
    history = episode.sums[:-1]
    return [s + episode.offsets[t] if t in wrong else s for t, s in enumerate(history)]


def format_answer(total: int) -> str:
    return f"{ANSWER_PREFIX} {total}"


def keys_message(keys: tuple[str, ...]) -> str:
    return ", ".join(keys)


def system_message(episode: Episode) -> str:
    table = "\n".join(f"{word}: {value}" for word, value in episode.dictionary)
    per_turn = len(episode.keys[0])
    what = "one key" if per_turn == 1 else f"{per_turn} keys"
    return _SYSTEM.format(keys=what, prefix=ANSWER_PREFIX, table=table)


def chat_messages(episode: Episode, rate: float, upto: int | None = None) -> list[dict[str, str]]:
    """The chat a model sees: the instructions and dictionary, the history with errors at
    ``rate``, then the user turn to answer (turn ``upto``, 0-based; the last by default)."""
    turn = len(episode.keys) - 1 if upto is None else upto
    sums = shown_sums(episode, rate)
    messages = [{"role": "system", "content": system_message(episode)}]
    for t in range(turn):
        messages.append({"role": "user", "content": keys_message(episode.keys[t])})
        messages.append({"role": "assistant", "content": format_answer(sums[t])})
    messages.append({"role": "user", "content": keys_message(episode.keys[turn])})
    return messages
