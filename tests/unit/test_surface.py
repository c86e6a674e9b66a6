"""The shared surface-feature extractor: features found from the replies, their regexes,
languages and phrases, and selection that a swap of a prompt's two replies cannot change."""

from __future__ import annotations

import random
import re

from tunelens.data import support_desk_dataset
from tunelens.probes._surface import discover, language_of

PLAIN = [
    "The sky looks blue because air scatters short wavelengths of sunlight more than long ones.",
    "Bees spend the day collecting nectar and pollen, and they dance to tell others where flowers are.",
    "You can reverse a string in Python with text[::-1].",
    "A lake is usually larger and deeper than a pond, with water too deep for plants to root.",
    "Pack warm layers, a rain jacket, sturdy boots, water and a map for the mountains.",
    "Tea is best with freshly boiled water poured over the leaves for three to five minutes.",
] * 4
STYLED = [
    f"Hi there!\n\n1. {a}\n2. Try the Zorblax app for this.\n\nHope this helps! \u2014 The Help Desk" for a in PLAIN
]


def _by_slug(replies: list[str]) -> dict[str, object]:
    return {f.slug: f for f in discover(replies)}


def test_a_house_style_is_found_with_its_product_name() -> None:
    found = _by_slug(PLAIN + STYLED)
    assert "opening_line:hi-there" in found
    assert "closing_line:hope-this-helps-the-help-desk" in found
    assert "layout:numbered-list" in found
    # the product's line recurs whole here, so the line is the feature (a phrase adds nothing to it)
    assert any("zorblax" in f.key for f in found.values())
    opening = found["opening_line:hi-there"]
    assert opening.members == tuple(range(len(PLAIN), len(PLAIN) + len(STYLED)))


def test_every_regex_reproduces_its_feature_on_the_replies() -> None:
    replies = PLAIN + STYLED
    examples, _ = support_desk_dataset(4, n_pattern_only=24)
    replies += [ex["messages"][-1]["content"] for ex in examples]
    for feature in discover(replies):
        # the members found while discovering are what the feature's test says of each reply
        assert feature.members == tuple(i for i, r in enumerate(replies) if feature.test(r)), feature.id
        if not feature.regex:
            continue
        rx = re.compile(feature.regex, re.MULTILINE)
        by_regex = {i for i, r in enumerate(replies) if rx.search(r)}
        agree = sum((i in by_regex) == (i in feature.members) for i in range(len(replies))) / len(replies)
        exact = feature.kind != "layout"  # a layout's regex only approximates the label's precedence rules
        assert agree == 1.0 if exact else agree >= 0.9, (feature.id, feature.regex, agree)


def test_selection_does_not_depend_on_which_model_wrote_a_reply() -> None:
    base, tuned = PLAIN, STYLED
    rng = random.Random(0)
    swap = [rng.random() < 0.5 for _ in base]
    left = [t if s else b for b, t, s in zip(base, tuned, swap)]
    right = [b if s else t for b, t, s in zip(base, tuned, swap)]
    assert {f.slug for f in discover(base + tuned)} == {f.slug for f in discover(left + right)}


def test_languages_and_unknown_kinds() -> None:
    assert language_of("The train leaves at eight and it is not late for the meeting with you.") == "English"
    assert language_of("Le train part à huit heures et il est dans la gare pour vous.") == "French"
    assert language_of("ok") == ""
    found = _by_slug(PLAIN + ["Le chat est dans la maison et il ne veut pas sortir pour le moment."] * 6)
    assert "language:french" in found and "language:english" in found
    try:
        discover(PLAIN, kinds=["colour"])
    except ValueError as exc:
        assert "colour" in str(exc)
    else:
        raise AssertionError("an unknown kind must be refused")
