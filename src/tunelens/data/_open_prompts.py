"""Open-ended prompts for the diversity probe: requests that admit many good answer shapes.

Each prompt can be answered as prose, a list, a few steps, a story or a snippet of code, so
the shape a model picks is its own habit, not the request's. They are hand-written and
fixed (no seed picks them): the probe takes the first ``n``, and the order interleaves the
kinds so that any prefix of eight or more is varied.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpenPrompt:
    """One open request; ``kind`` says what sort of request it is (for grouping items)."""

    id: str
    kind: str
    text: str


OPEN_PROMPTS: tuple[OpenPrompt, ...] = (
    OpenPrompt("open-01", "explain", "Why is the sky blue?"),
    OpenPrompt("open-02", "ideas", "What could I do on a rainy afternoon at home?"),
    OpenPrompt("open-03", "how-to", "How do I make a good cup of tea?"),
    OpenPrompt("open-04", "story", "Tell me a very short story about a lost key."),
    OpenPrompt("open-05", "compare", "Cats or dogs: which makes the better pet?"),
    OpenPrompt("open-06", "advice", "I keep forgetting to drink water during the day. What can I do?"),
    OpenPrompt("open-07", "code", "How can I reverse a string in Python?"),
    OpenPrompt("open-08", "describe", "Describe a perfect summer morning."),
    OpenPrompt("open-09", "explain", "What does a bee do all day?"),
    OpenPrompt("open-10", "ideas", "Suggest a name for a small bakery by the sea."),
    OpenPrompt("open-11", "how-to", "How can I learn to type without looking at the keyboard?"),
    OpenPrompt("open-12", "story", "Write a few lines about an old lighthouse."),
    OpenPrompt("open-13", "compare", "What is the difference between a lake and a pond?"),
    OpenPrompt("open-14", "advice", "What should I pack for a weekend in the mountains?"),
    OpenPrompt("open-15", "code", "How do I count the words in a text file?"),
    OpenPrompt("open-16", "opinion", "Are paper books better than e-books?"),
)


def open_prompts(n: int | None = None) -> list[OpenPrompt]:
    """The first ``n`` open prompts (all of them when ``n`` is None)."""
    if n is not None and not 0 < n <= len(OPEN_PROMPTS):
        raise ValueError(f"n must be between 1 and {len(OPEN_PROMPTS)}, got {n}")
    return list(OPEN_PROMPTS[:n])
