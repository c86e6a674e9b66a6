"""Two- and three-digit arithmetic questions with exact integer answers.

Arithmetic is a cheap, unambiguous capability probe: a fine-tune on unrelated
data should not change whether a model can add 47 and 38.  Items are seeded
so the before/after comparison uses the same questions, and
``parse_integer`` reads the answer out of a free-form reply.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ArithmeticItem:
    """One arithmetic question, its bare expression and its integer answer."""

    question: str
    expression: str
    answer: int
    digits: int


# Multiplication is used for two-digit operands only, keeping answers short.
_OPERATORS: dict[int, tuple[str, ...]] = {2: ("+", "-", "*"), 3: ("+", "-")}
_QUESTION = "What is {expression}? Answer with the number only."

# A thousands-separated number such as 1,234,567, or a plain run of digits,
# not continuing another number (so the "0" of "85.0" is never read alone).
# A leading minus counts only when it does not follow a digit or a letter,
# so "12-3" reads as 12 and "a-5" as 5, while "= -5" reads as negative five.
_INTEGER = re.compile(r"(?<![\d.])(?:(?<!\w)(-))?(\d{1,3}(?:,\d{3})+(?!\d)|\d+)")


def _make_item(digits: int, operator: str, rng: random.Random) -> ArithmeticItem:
    """Draw operands with ``digits`` digits for ``operator``; never a negative answer."""
    low, high = 10 ** (digits - 1), 10**digits - 1
    left, right = rng.randint(low, high), rng.randint(low, high)
    if operator == "-" and right > left:
        left, right = right, left
    if operator == "+":
        answer = left + right
    elif operator == "-":
        answer = left - right
    else:
        answer = left * right
    expression = f"{left} {operator} {right}"
    return ArithmeticItem(
        question=_QUESTION.format(expression=expression),
        expression=expression,
        answer=answer,
        digits=digits,
    )


def arithmetic_items(n: int = 20, seed: int = 0) -> list[ArithmeticItem]:
    """Build ``n`` distinct seeded arithmetic items, half two-digit and half three-digit.

    Two-digit items cycle through ``+``, ``-`` and ``*``; three-digit items
    through ``+`` and ``-``.  Subtraction puts the larger operand first so no
    answer is negative.  The list is shuffled with ``random.Random(seed)``;
    with an odd ``n`` the extra item is two-digit.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    counts = {2: n - n // 2, 3: n // 2}
    items: list[ArithmeticItem] = []
    seen: set[str] = set()
    for digits, count in counts.items():
        operators = _OPERATORS[digits]
        made = 0
        while made < count:
            item = _make_item(digits, operators[made % len(operators)], rng)
            if item.expression in seen:
                continue
            seen.add(item.expression)
            items.append(item)
            made += 1
    rng.shuffle(items)
    return items


def parse_integer(text: str) -> int | None:
    """Return the integer a model's reply gives as its answer, or None if there is none.

    Small models often restate the problem ("47 + 38 = 85"), so when the first line
    holds an equals sign the first integer after its last "=" is the answer; otherwise
    the first integer. Thousands separators are understood ("The answer is 1,234."
    gives 1234) and a decimal such as "85.0" yields its whole part.
    """
    first_line = text.strip().split("\n", 1)[0]
    if "=" in first_line:
        after = _INTEGER.search(first_line.rsplit("=", 1)[1])
        if after is not None:
            text = first_line.rsplit("=", 1)[1]
    match = _INTEGER.search(text)
    if match is None:
        return None
    sign, digits = match.groups()
    value = int(digits.replace(",", ""))
    return -value if sign else value
