"""The rule-based format labeller on hand-written replies, edge cases and precedence included."""

from __future__ import annotations

import pytest

from tunelens.probes._formats import (
    FORMAT_NAMES,
    FORMATS,
    ONE_LINE_WORDS,
    SHORT_PHRASE_WORDS,
    fenced_blocks,
    is_json_text,
    label_format,
)

NUMBERED_AFTER_GREETING = """Sure! Here are some ideas for a rainy afternoon:

1. Bake cookies with whatever is in the cupboard.
2. Start a jigsaw puzzle.
3. Read a book you have been meaning to finish."""

BULLETS = """Things to pack:
- warm socks
- a rain jacket
* a water bottle"""

FENCED_JSON = """Here is the data:
```json
{"name": "tea", "steps": ["boil water", "steep"]}
```"""

FENCED_PYTHON = """You can slice the string backwards:

```python
def reverse(text):
    return text[::-1]
```

This returns a new string."""

CUT_OFF_CODE = """Here's a short function:
```python
def count_words(path):
    with open(path) as f:"""

TABLE = """| Pet | Care |
|-----|------|
| Cat | low  |
| Dog | high |"""

SECTIONS = """## Why it happens
Sunlight scatters off air molecules.

## Why blue
Short wavelengths scatter the most."""

BOLD_SECTIONS = """**Morning**
Birds sing and the air is cool.

**Noon:**
The sun is high."""

PROSE = """The sky looks blue because air molecules scatter short wavelengths of sunlight more than long ones.

At sunset the light crosses more air, so the blue is scattered away and reds remain."""


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ('{"a": 1, "b": [1, 2]}', "json"),
        ('[{"id": 1}, {"id": 2}]', "json"),
        ('{"name": "bakery", "ideas": ["Crumb', "json"),  # cut off by the token budget
        (FENCED_JSON, "json"),  # JSON inside a code fence is JSON, not code
        (FENCED_PYTHON, "code"),
        (CUT_OFF_CODE, "code"),  # an unclosed fence runs to the end
        ("~~~\nwc -w file.txt\n~~~", "code"),
        (TABLE, "table"),
        ("| a | b |\n| c | d |\n| e | f |", "table"),  # no separator row, three piped rows
        (SECTIONS, "sections"),
        (BOLD_SECTIONS, "sections"),
        (NUMBERED_AFTER_GREETING, "numbered_list"),  # a greeting line before the list
        ("1) Boil water\n2) Add the tea", "numbered_list"),
        ("**1. Boil water.** Use fresh water.\n**2. Steep.** Three minutes.", "numbered_list"),
        ("1. Walk\n   - slowly\n   - twice a day\n2. Rest\n   - on Sundays", "numbered_list"),  # bullets under items
        (BULLETS, "bullet_list"),
        ("\u2022 one\n\u2022 two", "bullet_list"),
        ("It is blue because of Rayleigh scattering.", "one_line"),
        ("42", "one_line"),
        ("Crumbs by the Sea", "one_line"),  # a short phrase needs no full stop
        ('He said "maybe tomorrow."', "one_line"),
        ("The sky looks blue because sunlight is scattered by the molecules of the", "prose"),  # cut off
        (PROSE, "prose"),
        (" ".join(["word"] * (ONE_LINE_WORDS + 1)) + ".", "prose"),  # one long line is a paragraph
        (" ".join(["word"] * SHORT_PHRASE_WORDS), "one_line"),
        (" ".join(["word"] * (SHORT_PHRASE_WORDS + 1)), "prose"),
    ],
)
def test_labels(text: str, label: str) -> None:
    assert label_format(text) == label


def test_a_single_item_or_a_title_is_not_a_structure() -> None:
    assert label_format("1. Boil water and pour it over the leaves.") == "one_line"
    assert label_format("- just one bullet") == "one_line"
    assert label_format("# Ideas\n1. Read\n2. Bake") == "numbered_list"  # one heading is a title
    assert label_format("**Bold** words inside a sentence.\nAnd a second line of prose.") == "prose"


def test_markdown_lookalikes_are_not_lists() -> None:
    # Bold text and horizontal rules start with '*' or '-' but are not bullets.
    assert label_format("**Note** this.\n---\n**Also** that, said plainly.") == "prose"
    assert label_format("1.5 litres of water is plenty.\n2.0 would be too much.") == "prose"


def test_precedence_json_over_code_over_table_over_sections_over_lists() -> None:
    assert label_format("```\n" + TABLE + "\n```") == "code"
    assert label_format(SECTIONS + "\n\n" + TABLE) == "table"
    assert label_format(SECTIONS + "\n- a\n- b\n1. c\n2. d") == "sections"
    assert label_format("```json\n[1, 2]\n```\n```python\nprint(1)\n```") == "code"  # not every block is JSON


def test_json_helpers() -> None:
    assert is_json_text('{"a": 1}') and is_json_text('["x"') and not is_json_text('"just a string"')
    assert not is_json_text("{not json}") and not is_json_text("[1] Smith et al.")
    assert fenced_blocks("a\n```\nx\ny\n```\nb\n```py\nz") == ["x\ny", "z"]


def test_every_label_has_a_display_name() -> None:
    assert set(FORMATS) == set(FORMAT_NAMES)
    assert len(set(FORMAT_NAMES.values())) == len(FORMATS)
