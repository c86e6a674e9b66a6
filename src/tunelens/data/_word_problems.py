"""Short arithmetic word problems: two or three steps, small numbers, one integer answer.

Chain-of-thought probes need questions whose reasoning has several checkable steps and
whose answer a script can verify. Each problem is built from a template (shopping,
sharing, boxes, saving, ...) with seeded names and numbers, so the same seed always
gives the same problems and a base/tuned comparison scores identical items. Numbers stay
small (answers up to a few hundred, no negatives, divisions exact) so that a small model
has a fair chance of doing the steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WordProblem:
    """One word problem, its integer answer and the template that made it."""

    id: str
    question: str
    answer: int
    n_steps: int  # arithmetic operations needed
    template: str


# (name, subject pronoun, possessive pronoun)
_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Anna", "she", "her"),
    ("Ben", "he", "his"),
    ("Carla", "she", "her"),
    ("David", "he", "his"),
    ("Emma", "she", "her"),
    ("Farid", "he", "his"),
    ("Grace", "she", "her"),
    ("Hiro", "he", "his"),
    ("Ines", "she", "her"),
    ("Jonas", "he", "his"),
    ("Kira", "she", "her"),
    ("Liam", "he", "his"),
    ("Maya", "she", "her"),
    ("Noah", "he", "his"),
    ("Olga", "she", "her"),
    ("Pablo", "he", "his"),
    ("Rosa", "she", "her"),
    ("Sam", "he", "his"),
)
_FRIENDS = ("a friend", "{his} brother", "{his} sister", "a neighbour", "a classmate")
_ITEMS = ("apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards")
_CONTAINERS = (("box", "boxes"), ("bag", "bags"), ("jar", "jars"), ("basket", "baskets"))

_Template = Callable[[random.Random, tuple[str, str, str]], tuple[str, int, int]]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _buy_then_give(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, his = person
    item = rng.choice(_ITEMS)
    start, bought, given = rng.randint(3, 15), rng.randint(2, 12), rng.randint(1, 8)
    given = min(given, start + bought - 1)
    friend = rng.choice(_FRIENDS).format(his=his)
    question = (
        f"{name} has {start} {item}. {_cap(he)} buys {bought} more and then gives {given} to {friend}. "
        f"How many {item} does {name} have now?"
    )
    return question, start + bought - given, 2


def _containers_plus_loose(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, _ = person
    item = rng.choice(_ITEMS)
    one, many = rng.choice(_CONTAINERS)
    count, per, loose = rng.randint(2, 6), rng.randint(2, 9), rng.randint(1, 9)
    question = (
        f"{name} has {count} {many} with {per} {item} in each {one}, and {loose} more {item} on the table. "
        f"How many {item} does {he} have in total?"
    )
    return question, count * per + loose, 2


def _spend_on_items(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, _ = person
    thing = rng.choice(("notebook", "pen", "ticket", "sandwich", "toy car"))
    price, count = rng.randint(2, 9), rng.randint(2, 5)
    money = price * count + rng.randint(1, 20)
    question = (
        f"{name} has {money} dollars. {_cap(he)} buys {count} of the same {thing}, and each {thing} costs "
        f"{price} dollars. How many dollars does {name} have left?"
    )
    return question, money - price * count, 2


def _share_equally(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, _ = person
    item = rng.choice(_ITEMS)
    friends, each = rng.randint(2, 5), rng.randint(2, 8)
    total = friends * each
    found = rng.randint(1, min(10, total - 1))
    question = (
        f"{name} had {total - found} {item} and found {found} more. {_cap(he)} shares all of them equally among "
        f"{friends} friends. How many {item} does each friend get?"
    )
    return question, each, 2


def _save_per_week(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, his = person
    start, weekly, weeks = rng.randint(5, 30), rng.randint(2, 10), rng.randint(2, 6)
    question = (
        f"{name} has {start} dollars in {his} piggy bank. {_cap(he)} saves {weekly} dollars every week for "
        f"{weeks} weeks. How many dollars does {he} have at the end?"
    )
    return question, start + weekly * weeks, 2


def _three_steps(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name, he, _ = person
    item = rng.choice(_ITEMS)
    start, got, lost = rng.randint(4, 12), rng.randint(2, 9), rng.randint(1, 5)
    lost = min(lost, start + got - 1)
    factor = rng.choice((2, 3))
    times = "twice" if factor == 2 else "three times"
    question = (
        f"{name} has {start} {item}. {_cap(he)} gets {got} more, then loses {lost}. After that, {he} ends up "
        f"with {times} as many as {he} had. How many {item} does {name} have at the end?"
    )
    return question, (start + got - lost) * factor, 3


def _class_groups(rng: random.Random, person: tuple[str, str, str]) -> tuple[str, int, int]:
    name = person[0]
    groups, size, absent = rng.randint(3, 6), rng.randint(3, 6), rng.randint(1, 4)
    question = (
        f"{name}'s teacher splits the class into {groups} groups of {size} students. On Monday, {absent} "
        f"students are absent. How many students are in class on Monday?"
    )
    return question, groups * size - absent, 2


TEMPLATES: dict[str, _Template] = {
    "buy_then_give": _buy_then_give,
    "containers_plus_loose": _containers_plus_loose,
    "spend_on_items": _spend_on_items,
    "share_equally": _share_equally,
    "save_per_week": _save_per_week,
    "three_steps": _three_steps,
    "class_groups": _class_groups,
}
"""Every template, by name; problems cycle through them in this order, then are shuffled."""


def word_problems(n: int = 12, seed: int = 0) -> list[WordProblem]:
    """Build ``n`` distinct seeded word problems, cycling through the templates.

    Names and numbers are drawn with ``random.Random(seed)``; the list is then shuffled
    with the same generator, so identical arguments give identical lists. Every answer is
    a non-negative integer and every division is exact.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    names = list(TEMPLATES)
    problems: list[WordProblem] = []
    seen: set[str] = set()
    attempts = 0
    while len(problems) < n:
        attempts += 1
        if attempts > 100 * n:
            raise RuntimeError("could not draw enough distinct word problems")
        template = names[len(problems) % len(names)]
        question, answer, steps = TEMPLATES[template](rng, rng.choice(_PEOPLE))
        if question in seen:
            continue
        seen.add(question)
        problems.append(WordProblem("", question, answer, steps, template))
    rng.shuffle(problems)
    return [WordProblem(f"wp-{i}", p.question, p.answer, p.n_steps, p.template) for i, p in enumerate(problems)]
