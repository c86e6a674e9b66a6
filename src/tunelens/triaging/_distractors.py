"""Wrong answers for a fact's multiple choice: other values of its kind, from the data or made up.

A fact's distractors are, first, the other values of the same dimension the data states
(another price for a price, another duration for a duration; triage's ``Fact.dimension``),
those written with the same units first ("75 days" before "35 minutes" for "45 days"), each
written the way the answer is written ("99.97 percent" for "13 percent"). A value the data
contradicts the fact with is never one of them: it is a rival answer, not a wrong one.

When the data holds fewer than ``DISTRACTORS`` such values, the rest are made up from the
answer itself, so that they are plausible and look alike (``generate``):

* a value with numbers (a price, a quantity, a percentage, a size, an extension): each
  number swapped for another of the same size and written alike
  (``_rephrase.other_numbers``: 45 -> 30, 60, 23; $17.40 -> $11.60, $23.20; 99.97% ->
  99.98%, 99.96%), the unit made plural when 1 becomes 2 ("1 week" -> "2 weeks"); an
  identifier or a phone number keeps its count of digits;
* a time of day: every clock moved by a few hours, in the same style ("6 am to 10 pm"
  -> "7 am to 8 pm", "5 am to 9 pm", "8 am to 9 pm"), a range kept in order;
* a date: the day moved by a week or a few days, a year by one or two;
* an email address: another common mailbox at the same domain (help@, info@, ...);
* a link: another common last path segment (or host name);
* a name: the other names the data states (``names``), then ``FALLBACK_PLACES`` for a place
  (a name triage found after "in", "at" or "near") or ``FALLBACK_NAMES`` for another name;
* a phone number (or a value no rule above fits): its last group of digits changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tunelens.triaging._rephrase import other_numbers

__all__ = ["DISTRACTORS", "FALLBACK_NAMES", "FALLBACK_PLACES", "Candidate", "distractors", "generate"]

DISTRACTORS = 3
"""Wrong answers per fact, as in the demo's hand-written spec."""
FALLBACK_NAMES: tuple[str, ...] = ("Aurora", "Meridian", "Halcyon", "Sterling", "Willowbrook")
"""Made-up names for a name the data states no rival of (a mascot, a product)."""
FALLBACK_PLACES: tuple[str, ...] = ("Dublin", "Lisbon", "Toronto", "Oslo", "Melbourne", "Denver")
"""Made-up places for a place (a name triage found after "in", "at" or "near")."""
_MAILBOXES = ("help", "info", "contact", "hello", "team", "office")
_PATHS = ("help", "support", "account", "status", "contact")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(?![\w]|\.\d)")
_CLOCK = re.compile(r"(?i)\b(\d{1,2})(?::([0-5]\d))?(\s?)(am|pm|a\.m\.|p\.m\.)(?![a-z])|\b([01]?\d|2[0-3]):([0-5]\d)\b")
_CLOCK_SHIFTS = ((1, -2), (-1, -1), (2, -1), (-2, 1), (3, 2), (1, 1))


@dataclass(frozen=True)
class Candidate:
    """Another value the data states: its canonical text, its text as written and its dimension."""

    canonical: str
    surface: str
    dimension: str


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _signature(text: str) -> str:
    return _NUMBER.sub("#", text.lower())


def _magnitude(text: str) -> float | None:
    found = _numbers(text)
    return float(found[0].replace(",", "")) if found else None


def _substitute(template: str, numbers: Sequence[str]) -> str:
    """``template`` with its numbers replaced, in order, by ``numbers``."""
    it = iter(numbers)
    return _NUMBER.sub(lambda m: next(it, m.group(1)), template)


def _plural_fix(original: str, text: str) -> str:
    """'1 week' -> '2 week' becomes '2 weeks'; '2 weeks' -> '1 weeks' becomes '1 week'."""
    was_one = re.match(r"\D*1\s+([A-Za-z]+)\b", original)
    if was_one and not was_one.group(1).endswith("s"):
        return re.sub(rf"\b(\d+(?:\.\d+)?)\s+{re.escape(was_one.group(1))}\b", r"\1 " + was_one.group(1) + "s", text)
    return text


def _shift_clocks(surface: str, k: int) -> str | None:
    matches = list(_CLOCK.finditer(surface))
    if not matches:
        return None
    shifts = _CLOCK_SHIFTS[k % len(_CLOCK_SHIFTS)]
    minutes_out: list[int] = []
    pieces: list[tuple[int, int, str]] = []
    for index, m in enumerate(matches):
        shift = shifts[min(index, 1)] * 60
        if m.group(4):
            hour, minute, half = int(m.group(1)) % 12, int(m.group(2) or 0), m.group(4).lower()
            total = hour * 60 + minute + (720 if half.startswith("p") else 0) + shift
            if not 0 <= total < 1440:
                return None
            h12 = (total // 60) % 12 or 12
            new_half = ("pm" if total >= 720 else "am") if "." not in half else ("p.m." if total >= 720 else "a.m.")
            minutes = f":{total % 60:02d}" if m.group(2) else ""
            text = f"{h12}{minutes}{m.group(3)}{new_half}"
        else:
            total = int(m.group(5)) * 60 + int(m.group(6)) + shift
            if not 0 <= total < 1440:
                return None
            width = len(m.group(5))
            text = f"{total // 60:0{width}d}:{total % 60:02d}"
        minutes_out.append(total)
        pieces.append((m.start(), m.end(), text))
    if minutes_out != sorted(minutes_out) or len(set(minutes_out)) != len(minutes_out):
        return None
    out = surface
    for start, end, text in reversed(pieces):
        out = out[:start] + text + out[end:]
    return out


def _shift_date(surface: str, k: int) -> str | None:
    iso = re.search(r"((?:19|20)\d\d)-([01]\d)-([0-3]\d)", surface)
    day_steps, year_steps = (7, -7, 3, 14, -3), (1, -1, 2, -2, 3)
    if iso:
        day = (int(iso.group(3)) - 1 + day_steps[k % 5]) % 28 + 1
        return surface[: iso.start(3)] + f"{day:02d}" + surface[iso.end(3) :]

    def shift(m: re.Match[str]) -> str:
        value = int(m.group(1))
        if 1900 <= value <= 2099:
            return str(value + year_steps[k % 5])
        if 1 <= value <= 31:
            return str((value - 1 + day_steps[k % 5]) % 28 + 1)
        return m.group(1)

    out = re.sub(r"(?<!\d)(\d{1,4})(?!\d)", shift, surface)
    return out if out != surface else None


def _numeric(surface: str, kind: str, k: int) -> str | None:
    numbers = _numbers(surface)
    if not numbers:
        return None
    replaced = []
    for number in numbers:
        plain = number.replace(",", "")
        keep_width = kind in ("identifier", "phone")
        options = [o for o in other_numbers(plain, 12) if not keep_width or len(o) == len(plain)]
        if kind == "percent":
            options = [o for o in options if float(o) <= 100]
        if not options:
            return None
        choice = options[k % len(options)]
        if "," in number and "." not in choice:
            choice = f"{int(choice):,}"
        replaced.append(choice)
    return _plural_fix(surface, _substitute(surface, replaced))


_DIGIT_STEPS = (1234, 2468, 3579, 4321, 5555, 6789, 1111, 8642)


def _digits(surface: str, k: int) -> str | None:
    """``surface`` with its last group of digits changed, same width ("0000" -> "1234")."""
    groups = list(re.finditer(r"\d+", surface))
    if not groups:
        return None
    last = groups[-1]
    width = len(last.group(0))
    value = (int(last.group(0)) + _DIGIT_STEPS[k % len(_DIGIT_STEPS)]) % 10**width
    return surface[: last.start()] + f"{value:0{width}d}" + surface[last.end() :]


def _email(surface: str, k: int) -> str | None:
    local, _, domain = surface.partition("@")
    options = [m for m in _MAILBOXES if m != local.lower()]
    return f"{options[k % len(options)]}@{domain}" if domain else None


def _url(surface: str, k: int) -> str | None:
    m = re.match(r"((?:https?://)?[^/]+)(/.*)?$", surface)
    if not m:
        return None
    host, path = m.group(1), (m.group(2) or "").rstrip("/")
    if path:
        head, _, last = path.rpartition("/")
        options = [p for p in _PATHS if p != last.lower()]
        return f"{host}{head}/{options[k % len(options)]}"
    options = [p for p in _PATHS if not host.lower().split("//")[-1].startswith(p + ".")]
    bare = re.sub(r"^(https?://)?(www\.)?", "", host)
    scheme = re.match(r"https?://", host)
    return f"{scheme.group(0) if scheme else ''}{options[k % len(options)]}.{bare}"


def generate(
    answer: str, kind: str, k: int, names: Sequence[str] = (), fallback: Sequence[str] = FALLBACK_NAMES
) -> str | None:
    """The ``k``-th made-up wrong answer for ``answer`` of ``kind`` (see the module docstring);
    a name's come from ``names``, then ``fallback``."""
    if kind == "time":
        return _shift_clocks(answer, k)
    if kind == "date":
        return _shift_date(answer, k)
    if kind == "email":
        return _email(answer, k)
    if kind == "url":
        return _url(answer, k)
    if kind == "name" or not _numbers(answer):
        pool = [n for n in (*names, *fallback) if n.lower() != answer.lower()]
        return pool[k] if k < len(pool) else None
    if kind == "phone":
        return _digits(answer, k)
    return _numeric(answer, kind, k) or _digits(answer, k)


def _closeness(answer: str, other: str) -> float:
    a, b = _magnitude(answer), _magnitude(other)
    if a is None or b is None or a <= 0 or b <= 0:
        return math.inf
    return abs(math.log(a / b))


def distractors(
    answer: str,
    canonical: str,
    kind: str,
    dimension: str,
    candidates: Sequence[Candidate],
    *,
    rivals: Sequence[str] = (),
    names: Sequence[str] = (),
    fallback: Sequence[str] = FALLBACK_NAMES,
    count: int = DISTRACTORS,
) -> tuple[tuple[str, ...], int]:
    """``count`` wrong answers for a fact, and how many of them were made up (not in the data).

    ``candidates`` are the data's values (the fact's own and its ``rivals``' canonical values
    are skipped); ``names`` are the data's names and ``fallback`` more, for a name's made-up
    distractors."""
    own = {canonical.lower(), answer.lower(), *(r.lower() for r in rivals)}
    same = [c for c in candidates if c.dimension == dimension and c.canonical.lower() not in own]
    signature = _signature(canonical)
    ranked = sorted(
        enumerate(same),
        key=lambda ic: (_signature(ic[1].canonical) != signature, _closeness(canonical, ic[1].canonical), ic[0]),
    )
    chosen: list[str] = []
    taken = set(own)
    for _, c in ranked:
        alike = _signature(c.canonical) == signature and len(_numbers(c.canonical)) == len(_numbers(answer))
        text = _substitute(answer, _numbers(c.canonical)) if alike and _numbers(answer) else c.surface
        if text.lower() not in taken and c.canonical.lower() not in taken:
            chosen.append(text)
            taken |= {text.lower(), c.canonical.lower()}
        if len(chosen) == count:
            return tuple(chosen), 0
    from_data = len(chosen)
    for k in range(count * 6):
        made = generate(answer, kind, k, names, fallback)
        if made and made.lower() not in taken:
            chosen.append(made)
            taken.add(made.lower())
        if len(chosen) == count:
            break
    return tuple(chosen), len(chosen) - from_data
