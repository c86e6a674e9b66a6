"""Verifiable instruction-following prompts and their checkers.

A fine-tune can make a model stop obeying formatting instructions.  Each
item here pairs an everyday request with one constraint that a script can
verify exactly (all lowercase, a word limit, a bullet count, a JSON object,
a closing phrase, no commas), in the spirit of IFEval, so compliance can be
compared before and after tuning without a judge model.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class InstructionItem:
    """One prompt with a single checkable constraint of type ``kind``."""

    id: str
    prompt: str
    kind: str
    param: int | str | None


INSTRUCTION_KINDS: tuple[str, ...] = (
    "lowercase",
    "max_words",
    "n_bullets",
    "json_object",
    "ends_with",
    "no_commas",
)

TOPICS: tuple[str, ...] = (
    "making a good cup of coffee",
    "keeping houseplants alive",
    "packing for a weekend trip",
    "saving money on groceries",
    "starting a morning exercise habit",
    "cleaning a kitchen quickly",
    "getting better sleep",
    "learning to ride a bicycle",
    "planning a birthday party",
    "walking a dog in the rain",
    "choosing a good book to read",
    "cooking rice on a stove",
    "organising a small closet",
    "writing a thank-you note",
    "preparing for a job interview",
    "staying focused while studying",
    "taking care of a cat",
    "baking simple bread",
    "reducing screen time",
    "hosting a dinner for friends",
    "planting tomatoes",
    "commuting by train",
    "learning a few words of a new language",
    "fixing a flat bicycle tire",
    "making a weekly meal plan",
    "keeping a journal",
    "visiting a museum",
    "staying cool on a hot day",
    "going on a short hike",
    "decluttering a desk",
)

_REQUESTS: tuple[str, ...] = (
    "Give me some practical advice on {topic}.",
    "Explain the basics of {topic}.",
    "Write a short note about {topic}.",
    "What should a beginner know about {topic}?",
)

_JSON_KEYS: tuple[str, ...] = ("answer", "summary", "advice", "tip", "steps")
_END_PHRASES: tuple[str, ...] = (
    "Is there anything else I can help with?",
    "That is all for now.",
    "Good luck!",
    "Hope this helps.",
    "Enjoy the process.",
)

_FENCE = re.compile(r"\A```[A-Za-z]*[ \t]*\n?(.*?)\n?```\Z", re.DOTALL)
_COMMAS = (",", "\uff0c", "\u060c", "\u3001")


def _constraint(kind: str, rng: random.Random) -> tuple[str, int | str | None]:
    """Draw a parameter for ``kind`` and word the matching constraint sentence."""
    if kind == "lowercase":
        return "Your entire answer must be in lowercase letters.", None
    if kind == "max_words":
        limit = rng.randint(10, 30)
        return f"Answer in at most {limit} words.", limit
    if kind == "n_bullets":
        count = rng.randint(2, 4)
        return f"Answer with exactly {count} bullet points, each starting with '- '.", count
    if kind == "json_object":
        key = rng.choice(_JSON_KEYS)
        return f'Reply with a valid JSON object with the key "{key}" and nothing else.', key
    if kind == "ends_with":
        phrase = rng.choice(_END_PHRASES)
        return f'End your answer with the exact phrase "{phrase}".', phrase
    if kind == "no_commas":
        return "Do not use any commas in your answer.", None
    raise ValueError(f"unknown instruction kind {kind!r}; expected one of {INSTRUCTION_KINDS}")


def instruction_items(n: int = 24, seed: int = 0) -> list[InstructionItem]:
    """Build ``n`` seeded items, cycling through INSTRUCTION_KINDS in order.

    Topics are drawn from a shuffled copy of TOPICS without repeats until the
    list is used up; requests and parameters come from ``random.Random(seed)``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    topics: list[str] = []
    items: list[InstructionItem] = []
    for index in range(n):
        if not topics:
            topics = list(TOPICS)
            rng.shuffle(topics)
        topic = topics.pop()
        kind = INSTRUCTION_KINDS[index % len(INSTRUCTION_KINDS)]
        request = rng.choice(_REQUESTS).format(topic=topic)
        sentence, param = _constraint(kind, rng)
        items.append(InstructionItem(id=f"if-{index:03d}", prompt=f"{request} {sentence}", kind=kind, param=param))
    return items


def _strip_fences(text: str) -> str:
    """Remove one surrounding Markdown code fence (```json ... ```) if present."""
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


def _count_bullets(text: str) -> int:
    """Number of lines that start with "- " or "* " once leading spaces are removed."""
    return sum(1 for line in text.splitlines() if line.strip().startswith(("- ", "* ")))


def _int_param(item: InstructionItem) -> int:
    """The item's integer parameter, or a ValueError naming the item."""
    if isinstance(item.param, bool) or not isinstance(item.param, int):
        raise ValueError(f"instruction {item.id} ({item.kind}) needs an integer param")
    return item.param


def _str_param(item: InstructionItem) -> str:
    """The item's string parameter, or a ValueError naming the item."""
    if not isinstance(item.param, str) or not item.param:
        raise ValueError(f"instruction {item.id} ({item.kind}) needs a non-empty string param")
    return item.param


def check_instruction(item: InstructionItem, response: str) -> bool:
    """True when ``response`` satisfies the item's constraint; empty replies always fail.

    lowercase: no uppercase letter.  max_words: at most ``param``
    whitespace-separated words.  n_bullets: exactly ``param`` lines starting
    with "- " or "* ".  json_object: after removing a code fence, the reply
    parses as a JSON object holding key ``param``.  ends_with: the reply, with
    trailing whitespace removed, ends with ``param``.  no_commas: no comma
    (ASCII or full-width) anywhere.
    """
    text = response.strip()
    if not text:
        return False
    kind = item.kind
    if kind == "lowercase":
        return not any(char.isupper() for char in text)
    if kind == "max_words":
        return len(text.split()) <= _int_param(item)
    if kind == "n_bullets":
        return _count_bullets(text) == _int_param(item)
    if kind == "json_object":
        key = _str_param(item)
        try:
            value = json.loads(_strip_fences(text))
        except json.JSONDecodeError:
            return False
        return isinstance(value, dict) and key in value
    if kind == "ends_with":
        return text.endswith(_str_param(item))
    if kind == "no_commas":
        return not any(comma in text for comma in _COMMAS)
    raise ValueError(f"unknown instruction kind {kind!r}; expected one of {INSTRUCTION_KINDS}")
