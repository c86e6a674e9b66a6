"""Two- and three-digit sums and two-digit times one-digit products with exact integer answers.

Arithmetic is a cheap, unambiguous capability probe: a fine-tune on unrelated data should
not change whether a model can add 47 and 38. Items are seeded so the before/after
comparison uses the same questions. Each item carries its answer among the wrong results
a broken skill would give (:func:`slip_choices`): the result off by ten either way, the
result of a dropped carry or a forgotten borrow, and the result off by one. Those are the
procedural "bugs" of column arithmetic that Brown and Burton (1978, "Diagnostic models for
procedural bugs in basic mathematical skills") catalogued, so a fine-tune that teaches a
systematic error (every sum plus ten, say) moves a model's choice towards one of them.

Chat replies are read with :func:`last_integer` (the prompt asks for only the number, and
a reply that restates the problem, "47 + 38 = 85", ends with the result);
:func:`parse_integer` is the older first-line reader other probes use.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ArithmeticItem:
    """One arithmetic question, its bare expression, its integer answer, and the answer
    among wrong results a broken skill would give (``choices[0]`` is the answer)."""

    question: str
    expression: str
    answer: int
    digits: int
    operator: str = "+"
    choices: tuple[str, ...] = ()


ARITHMETIC_KINDS: tuple[tuple[int, str], ...] = ((2, "+"), (3, "+"), (2, "*"))
"""(digits, operator) of the items, cycled in this order: two- and three-digit sums and a
two-digit number times a one-digit one. Measured on SmolLM2-135M-Instruct by likelihood
against the slips (seed 0, 80 each; chance 25%): 48%, 33% and 45%. Differences are not
drawn: the model gets two-digit ones right 17% of the time, below chance, because it picks
the difference minus ten (33 of 60), so a fine-tune that shifts results upwards made them
look better (2 -> 7 of 20 right under a LoRA that taught every sum plus ten) and masked the
damage to the rest; three-digit differences sat at chance and products of two two-digit
numbers are out of a small model's reach. ``slip_choices`` still handles a difference."""

_MAX_ITEMS = 3 * 90 * 7
"""Three kinds, the smallest pool 90 two-digit numbers times 7 one-digit ones."""

MIN_ANSWER = 10
"""Every answer is at least this, so the result minus ten is never negative."""

QUESTION = "What is {expression}? Reply with only the number."
"""The chat question: asking for only the number keeps the reply short, and "Reply" rather
than "Answer" draws a bare result from SmolLM2-135M-Instruct more often (17% against 3% on
two-digit sums in our measurement)."""

# A thousands-separated number such as 1,234,567, or a plain run of digits,
# not continuing another number (so the "0" of "85.0" is never read alone).
# A leading minus counts only when it does not follow a digit or a letter,
# so "12-3" reads as 12 and "a-5" as 5, while "= -5" reads as negative five.
_INTEGER = re.compile(r"(?<![\d.])(?:(?<!\w)(-))?(\d{1,3}(?:,\d{3})+(?!\d)|\d+)")


def _digits(value: int, width: int) -> list[int]:
    """The decimal digits of ``value``, least significant first, padded to ``width``."""
    return [(value // 10**i) % 10 for i in range(width)]


def dropped_carry(left: int, right: int) -> int:
    """``left + right`` added column by column with every carry forgotten (the top column
    is written whole): 456 + 378 gives 724, not 834."""
    width = max(len(str(left)), len(str(right)))
    a, b = _digits(left, width), _digits(right, width)
    total = sum(((a[i] + b[i]) % 10) * 10**i for i in range(width - 1))
    return total + (a[-1] + b[-1]) * 10 ** (width - 1)


def dropped_carry_product(left: int, digit: int) -> int:
    """``left * digit`` (``digit`` one digit) column by column with every carry forgotten
    (the top column written whole): 47 * 6 gives 242, not 282."""
    width = len(str(left))
    a = _digits(left, width)
    total = sum(((a[i] * digit) % 10) * 10**i for i in range(width - 1))
    return total + a[-1] * digit * 10 ** (width - 1)


def smaller_from_larger(left: int, right: int) -> int:
    """``left - right`` column by column, taking the smaller digit from the larger instead
    of borrowing (Brown and Burton's commonest subtraction bug): 52 - 38 gives 26."""
    width = max(len(str(left)), len(str(right)))
    a, b = _digits(left, width), _digits(right, width)
    return sum(abs(a[i] - b[i]) * 10**i for i in range(width))


def _result(left: int, operator: str, right: int) -> int:
    return left + right if operator == "+" else left - right if operator == "-" else left * right


def slip_choices(left: int, operator: str, right: int, rng: random.Random) -> tuple[str, ...]:
    """The answer first, then three wrong results a broken skill would give: the answer
    plus ten, minus ten, and the column bug (a dropped carry for a sum or a product,
    smaller-from-larger for a difference) where it differs from those, else the answer off
    by one (the sign drawn from ``rng``). Four distinct non-negative results; chance is 25%."""
    answer = _result(left, operator, right)
    wrong = [answer + 10, answer - 10]
    if operator == "+":
        bug = dropped_carry(left, right)
    elif operator == "-":
        bug = smaller_from_larger(left, right)
    else:
        bug = dropped_carry_product(left, right)
    if bug in (answer, *wrong) or bug < 0:
        bug = answer + rng.choice((1, -1))
    return tuple(str(value) for value in (answer, *wrong, bug))


def _make_item(digits: int, operator: str, rng: random.Random) -> ArithmeticItem:
    """Draw operands with ``digits`` digits for ``operator`` (a product's second operand has
    one digit, 3 to 9); the answer is at least MIN_ANSWER."""
    low, high = 10 ** (digits - 1), 10**digits - 1
    while True:
        left = rng.randint(low, high)
        right = rng.randint(3, 9) if operator == "*" else rng.randint(low, high)
        if operator == "-" and right > left:
            left, right = right, left
        answer = _result(left, operator, right)
        if answer >= MIN_ANSWER:
            break
    expression = f"{left} {operator} {right}"
    return ArithmeticItem(
        question=QUESTION.format(expression=expression),
        expression=expression,
        answer=answer,
        digits=digits,
        operator=operator,
        choices=slip_choices(left, operator, right, rng),
    )


def arithmetic_items(n: int = 20, seed: int = 0) -> list[ArithmeticItem]:
    """Build ``n`` distinct seeded items, cycling through ARITHMETIC_KINDS so each kind
    gets a third.

    Every answer is at least MIN_ANSWER. The list is shuffled with ``random.Random(seed)``.
    No expression repeats; the smallest pool (two-digit times one-digit) holds 630, so up
    to 1,890 items can be drawn.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if n > _MAX_ITEMS:
        raise ValueError(f"n must be at most {_MAX_ITEMS} (the smallest kind's pool is spent), got {n}")
    rng = random.Random(seed)
    items: list[ArithmeticItem] = []
    seen: set[str] = set()
    while len(items) < n:
        digits, operator = ARITHMETIC_KINDS[len(items) % len(ARITHMETIC_KINDS)]
        item = _make_item(digits, operator, rng)
        if item.expression in seen:
            continue
        seen.add(item.expression)
        items.append(item)
    rng.shuffle(items)
    return items


def _to_int(match: re.Match[str]) -> int:
    sign, digits = match.groups()
    value = int(digits.replace(",", ""))
    return -value if sign else value


def last_integer(text: str) -> int | None:
    """The last integer in a reply, or None if there is none.

    Asked for only the number, a small model replies with it, or restates the problem
    first ("47 + 38 = 85"); either way the result comes last. Thousands separators are
    understood ("1,234" gives 1234), a decimal such as "85.0" yields its whole part, and a
    minus sign counts as for :func:`parse_integer`.
    """
    matches = list(_INTEGER.finditer(text))
    return _to_int(matches[-1]) if matches else None


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
    return None if match is None else _to_int(match)
