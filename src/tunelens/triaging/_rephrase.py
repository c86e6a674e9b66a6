"""Rewording user prompts by fixed, documented rules: a fact's question asked in other words,
and near-duplicates of training prompts when no prompt was held out of training.

Nothing here knows the data's topic and nothing is random except where a seed is given; the
same prompt always gets the same rewording, so a derived task spec is reproducible.

**Paraphrase** (``paraphrase``), the rule that rewords a fact's question:

1. Courtesy wrappers come off: a greeting at the start ("Hi!", "Hello there,", "Good
   morning,"), a lead-in ("Quick question:", "Sorry to bother you,", "Just wondering,"),
   thanks at the end ("Thanks!", "Thank you in advance.", "Cheers"), and "please".
2. The question is the last sentence that ends in "?" (or the part of a sentence after its
   last comma that starts a question: "I forgot it, what should I do?"); sentences before
   it are context and stay as they are. A prompt with no question keeps its wording.
3. The question becomes an indirect question inside a fixed frame, the first of
   ``FRAMES`` whose opening the prompt does not already use ("Could you tell me ...?",
   "I'd like to know ...", "Do you know ...?"):

   * "What is/are + noun phrase?" becomes the noun phrase: "What is your refund policy?"
     -> "Could you tell me your refund policy?";
   * a wh-question with an auxiliary puts its subject before the auxiliary: "How long is
     the free trial?" -> "... how long the free trial is?", "When will I hear back?" ->
     "... when I will hear back?"; "do" is dropped, "does" moves onto the verb ("How much
     does a transfer cost?" -> "how much a transfer costs"), "did" puts it in the past;
     "how/where/what do I X" becomes "how/where/what to X";
   * a yes/no question becomes "whether" + subject + auxiliary: "Do you offer a trial?"
     -> "... whether you offer a trial?", "Is there a deadline?" -> "whether there is a
     deadline";
   * a wh-question whose wh-phrase is its subject keeps its order: "Which cluster hosts my
     site?" -> "... which cluster hosts my site?";
   * "Can/could you tell me X?" and "Do you know X?" are unwrapped to X first.

   The subject of an inverted question is a pronoun, or a noun phrase that ends before the
   first preposition, particle, predicate word ("available", "cheaper"), participle or
   adverb ("located", "physically"), or common verb ("cost", "work"): a heuristic, not a
   parser. When it finds no subject where one is needed, only steps 1 and 2 apply and the
   question keeps its wording; ``Rephrased.changed`` says whether the wording changed.

**Near-duplicate** (``near_duplicate``), the rule that turns a training prompt into a
held-out prompt the model has not seen word for word: the paraphrase above (cycling through
the frames), then every number written in digits swapped for another of the same size
(``other_numbers``), every name (a capitalised word the data never writes in lower case) for
another name from the data's prompts, or from ``FALLBACK_NAMES`` when the data has no other,
and a courtesy wrapper from ``WRAPPERS`` put around it. The result asks the same kind of
thing with other words, names and numbers: a near-duplicate, not an unseen prompt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "FRAMES",
    "WRAPPERS",
    "Rephrased",
    "near_duplicate",
    "other_numbers",
    "paraphrase",
    "strip_wrappers",
    "swap_names",
]

FRAMES: tuple[str, ...] = ("Could you tell me {c}?", "I'd like to know {c}.", "Do you know {c}?")
"""Frames for an indirect question, in order of preference."""
WRAPPERS: tuple[str, ...] = ("{q}", "Hello, {q}", "{q} Thank you.", "Sorry to bother you: {q}", "Hey there! {q}")
"""Courtesy wrappers a near-duplicate gets, cycling by its position."""
FALLBACK_NAMES: tuple[str, ...] = ("Juniper", "Halvorsen", "Marisol", "Oakridge", "Tamsin", "Brightwater")
"""Names swapped in when the data's prompts hold no other name."""

_LEAD = re.compile(
    r"^\s*(?:"
    r"(?:hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening)|dear\s+(?:team|support))"
    r"(?:\s+(?:there|team|all|folks|everyone|support))?\b[\s,!.:;\u2014-]*"
    r"|(?:a\s+)?(?:quick|short|simple|small)\s+question\b[\s,!.:;\u2014-]*"
    r"|question\s*[:\u2014-]\s*"
    r"|(?:sorry\s+to\s+bother\s+you|just\s+wondering|excuse\s+me|ok(?:ay)?|so|um|well)\s*[,:!.\u2014-]+\s*"
    r")",
    re.I,
)
_TRAIL = re.compile(
    r"[\s,;:\u2014-]*(?:thanks?(?:\s+(?:a\s+lot|so\s+much|in\s+advance|again))?|thank\s+you"
    r"(?:\s+(?:so\s+much|very\s+much|in\s+advance))?|many\s+thanks|thx|cheers|much\s+appreciated|"
    r"appreciate\s+it)\s*[!.]*\s*$",
    re.I,
)
_PLEASE = re.compile(r",?\s*\bplease\b,?", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

WH = frozenset("what which where when who whom whose why how".split())
BE = frozenset("is are was were am".split())
MODAL = frozenset("can could will would should shall may might must".split())
HAVE = frozenset("has have had".split())
DO = frozenset("do does did".split())
AUX = BE | MODAL | HAVE | DO
NEGATED = frozenset(
    "isn't aren't wasn't weren't can't couldn't won't wouldn't shouldn't doesn't don't didn't hasn't haven't".split()
)
PRONOUNS = frozenset("i you we they he she it there this that someone anyone everyone something anything".split())
DETERMINERS = frozenset("the a an my your our their his her its this that these those any some each every no".split())
HOW_WORDS = frozenset(
    "long much many often fast quickly soon big large far old early late recent frequently high low small "
    "expensive cheap".split()
)
STOPS = frozenset(
    "in on at to for from with by about into onto after before during until than down up out off over back away "
    "through under like as when if so because while since via without within".split()
)
PREDICATES = frozenset(
    "available possible free open closed included required allowed able ready enough different cheaper faster "
    "better worse safe secure online offline worth necessary refundable due valid active supported compatible "
    "responsible eligible late early real true ok okay fine right wrong broken expensive cheap good bad easy hard "
    "slow quick busy full empty new old big small large long short".split()
)
VERBS = frozenset(
    "be have get work cost take mean happen run include need come go make apply start end last expire renew charge "
    "offer support allow require use look show say help contain count change cancel pay stay keep live load open "
    "close send arrive ship reply respond answer accept stop fail break update sell deliver return refund leave "
    "matter differ compare handle cover protect store hold ask call reach book reserve fit weigh serve".split()
)
ADJECTIVE_LY = frozenset("monthly yearly daily weekly hourly early friendly only family likely lovely".split())
_IRREGULAR_PAST = {
    "go": "went", "get": "got", "come": "came", "take": "took", "send": "sent", "pay": "paid", "make": "made",
    "run": "ran", "buy": "bought", "say": "said", "see": "saw", "give": "gave", "find": "found", "have": "had",
    "do": "did", "be": "was", "leave": "left", "keep": "kept", "hold": "held", "break": "broke", "tell": "told",
    "know": "knew", "think": "thought", "begin": "began", "write": "wrote", "choose": "chose", "lose": "lost",
}  # fmt: skip


@dataclass(frozen=True)
class Rephrased:
    """A reworded prompt and whether its wording changed beyond its courtesy wrappers."""

    text: str
    changed: bool


def strip_wrappers(prompt: str) -> str:
    """``prompt`` without greetings, lead-ins, thanks or "please" (step 1 of the paraphrase)."""
    text = " ".join(prompt.split())
    for _ in range(4):
        before = text
        text = _LEAD.sub("", text, count=1)
        text = _TRAIL.sub("", text)
        if text == before:
            break
    text = _PLEASE.sub("", text).strip(" ,")
    text = re.sub(r"\s+([?.!,])", r"\1", text)
    text = text or " ".join(prompt.split())
    return text[:1].upper() + text[1:]


def _third_person(verb: str) -> str:
    low = verb.lower()
    if low in ("have", "do", "go", "be"):
        return {"have": "has", "do": "does", "go": "goes", "be": "is"}[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


def _past(verb: str) -> str:
    low = verb.lower()
    if low in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[low]
    if low.endswith("e"):
        return verb + "d"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ied"
    return verb + "ed"


def _is_stop(word: str, following: str | None = None) -> bool:
    """Whether ``word`` ends a subject noun phrase (``following`` is the next word, None at the end).

    A word in "-ing" ends it only at the end of the question or before a preposition or a
    determiner ("is my site loading", "is my email bouncing back"), since many nouns end in
    "-ing" ("billing", "hosting")."""
    w = word.lower().strip(",;:")
    if len(w) > 5 and w.endswith(("able", "ible")):
        return True  # "accessible", "refundable": a predicate
    if len(w) > 5 and w.endswith("ing") and w not in VERBS:
        return following is None or following.lower() in STOPS | DETERMINERS
    return (
        w in STOPS
        or w in PREDICATES
        or w in VERBS
        or w in AUX
        or w in NEGATED
        or (len(w) > 4 and w.endswith("ly") and w not in ADJECTIVE_LY)
        or (len(w) > 4 and w.endswith("ed"))
    )


def _is_participle(word: str, following: str | None) -> bool:
    """A participle, adverb or predicate word: "What is it called" has no noun phrase to lift out."""
    w = word.lower().strip(",;:")
    return (
        w in PREDICATES
        or (len(w) > 4 and w.endswith("ed"))
        or (len(w) > 5 and w.endswith("ing") and (following is None or following.lower() in STOPS))
    )


def _next(words: list[str], j: int) -> str | None:
    return words[j + 1] if j + 1 < len(words) else None


def _subject(rest: list[str], verb_follows: bool, predicate: bool = False) -> int | None:
    """How many words of ``rest`` make the subject after an inverted auxiliary, or None.

    ``verb_follows``: the auxiliary is "do"/"does"/"did" or a modal, so a verb comes after
    the subject: the first common verb (``VERBS``), else the word after a determiner and a
    noun. ``predicate``: a yes/no question with "be", so a predicate follows ("Is the club
    expensive"): the last word is taken for it when no known word ends the subject.
    """
    if not rest:
        return None
    first = rest[0].lower()
    if first in PRONOUNS:
        return 1
    if _is_stop(rest[0]) and first not in DETERMINERS and not first.endswith("ing"):
        return 0
    start = 2 if first in DETERMINERS else 1
    if verb_follows:
        verb = next((j for j in range(start, len(rest)) if rest[j].lower() in VERBS), None)
        if verb is not None:
            return verb  # "does the trip to the island take": the subject runs up to the verb
        return start if start < len(rest) else None
    for j in range(start, len(rest)):
        if _is_stop(rest[j], _next(rest, j)):
            return j
    if predicate:
        return len(rest) - 1 if len(rest) - 1 >= start else None
    return len(rest)


def _lower_first(words: list[str]) -> list[str]:
    if words and words[0] != "I" and (words[0].lower() in WH | AUX | DETERMINERS | PRONOUNS | NEGATED):
        return [words[0].lower(), *words[1:]]
    return words


def _split_aux(word: str) -> tuple[str, bool]:
    """The auxiliary a word is and whether it is negated: ("does", False), ("does", True) for "doesn't"."""
    low = word.lower()
    if low in NEGATED:
        base = {"can't": "can", "won't": "will", "don't": "do"}.get(low, low[:-3])
        return base, True
    return low, False


def _after_aux(aux: str, negated: bool, subject: list[str], rest: list[str]) -> list[str] | None:
    """Subject, auxiliary and the rest of an inverted question, in statement order."""
    if aux in DO and not negated:
        if not rest:
            return None
        verb, tail = rest[0], rest[1:]
        if aux == "does":
            verb = _third_person(verb)
        elif aux == "did":
            verb = _past(verb)
        return [*subject, verb, *tail]
    word = {"can": "can't", "will": "won't", "do": "don't"}.get(aux, f"{aux}n't") if negated else aux
    return [*subject, word, *rest]


def _wh_clause(words: list[str]) -> list[str] | None:
    """An indirect question from a wh-question's words (its "?" removed), or None."""
    wh = words[0].lower()
    contracted = re.fullmatch(r"(what|where|how|who|when|why)['\u2019]s", wh)
    if contracted:
        words = [contracted.group(1), "is", *words[1:]]
        wh = contracted.group(1)
    i = 1
    if wh == "how" and i < len(words) and words[i].lower() in HOW_WORDS:
        i += 1
    if wh in ("what", "which", "whose") or (wh == "how" and words[i - 1].lower() in ("much", "many")):
        while i < len(words) and words[i].lower() not in AUX | NEGATED | STOPS | VERBS:
            i += 1
    phrase = [wh, *words[1:i]]
    if i >= len(words) or words[i].lower() not in AUX | NEGATED:
        return [*phrase, *words[i:]]  # the wh-phrase is the subject: "which cluster hosts my site"
    aux, negated = _split_aux(words[i])
    rest = words[i + 1 :]
    if (
        wh == "what"
        and len(phrase) == 1
        and aux in ("is", "are")
        and rest
        and rest[0].lower() in DETERMINERS
        and not any(_is_participle(w, _next(rest, k)) for k, w in enumerate(rest) if k)
    ):
        return rest  # "What is your refund policy" -> "your refund policy" (not "What is it called")
    if (
        aux == "do"
        and not negated
        and wh in ("how", "where", "what", "which")
        and len(rest) >= 2
        and rest[0].lower() in ("i", "we")
        and rest[1].lower() not in ("have", "need", "get", "want")
    ):
        return [*phrase, "to", *rest[1:]]  # "how do I reset it" -> "how to reset it"
    size = _subject(rest, verb_follows=aux in DO | MODAL)
    if size is None:
        return None
    if size == 0:
        return [*phrase, words[i], *rest]  # "which animal is on your pages": no inversion
    ordered = _after_aux(aux, negated, rest[:size], rest[size:])
    return None if ordered is None else [*phrase, *ordered]


def _yes_no_clause(words: list[str]) -> list[str] | None:
    aux, negated = _split_aux(words[0])
    rest = words[1:]
    size = _subject(rest, verb_follows=aux in DO | MODAL, predicate=aux in BE)
    if not size:
        return None
    ordered = _after_aux(aux, negated, rest[:size], rest[size:])
    return None if ordered is None else ["whether", *ordered]


_REQUEST = re.compile(
    r"^(?:(?:can|could|would)\s+you\s+(?:tell\s+me|let\s+me\s+know|explain)|do\s+you\s+know|"
    r"i(?:'d|\s+would)\s+like\s+to\s+know|i\s+want\s+to\s+know|tell\s+me)\b\s*",
    re.I,
)


def _indirect(question: str) -> str | None:
    """The indirect form of one question sentence (no frame), or None when the rule has none."""
    body = question.strip().rstrip("?").strip()
    request = _REQUEST.match(body)
    if request and body[request.end() :].strip():
        return body[request.end() :].strip()
    words = body.split()
    if not words:
        return None
    first = words[0].lower()
    if first in WH or re.fullmatch(r"(what|where|how|who|when|why)['\u2019]s", first):
        clause = _wh_clause(words)
    elif first in AUX or first in NEGATED:
        clause = _yes_no_clause(words)
    else:
        clause = None
    return " ".join(_lower_first(clause)) if clause else None


def _split_question(text: str) -> tuple[str, str]:
    """(context, question): the last sentence ending in '?', or its part after the last comma
    that starts a question; ('', '') when there is no question."""
    parts = _SENTENCE.split(text.strip())
    questions = [i for i, p in enumerate(parts) if p.rstrip().endswith("?")]
    if not questions:
        return "", ""
    at = questions[-1]
    question = parts[at]
    context = " ".join(parts[:at] + parts[at + 1 :])
    first = question.split()[0].lower() if question.split() else ""
    if first not in WH | AUX | NEGATED and not _REQUEST.match(question):
        m = re.search(r",\s+(?=(?:" + "|".join(sorted(WH | AUX)) + r")\b)", question, re.I)
        if m:
            context = (context + " " + question[: m.start()] + ".").strip()
            question = question[m.end() :]
    return context, question


def _lead_in(frame: str) -> str:
    """The words of a frame before its clause, lower case: "could you tell me"."""
    return frame.split("{")[0].strip().lower()


def paraphrase(prompt: str, frame: int | None = None) -> Rephrased:
    """``prompt`` reworded by the rule in the module docstring.

    ``frame`` picks one of ``FRAMES`` (by position, cycling); None takes the first whose
    opening the prompt does not already use."""
    core = strip_wrappers(prompt)
    context, question = _split_question(core)
    clause = _indirect(question) if question else None
    if clause is None:
        return Rephrased(core, False)
    if frame is None:
        opening = re.sub(r"^can\b", "could", question.strip().lower())
        chosen = next((f for f in FRAMES if not opening.startswith(_lead_in(f))), FRAMES[0])
    else:
        chosen = FRAMES[frame % len(FRAMES)]
    text = chosen.format(c=clause)
    if context:
        context = context if context.endswith((".", "!", "?")) else context + "."
        text = f"{context} {text}"
    return Rephrased(text, text.split() != core.split())


_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)(?![\w]|[.,]\d)")


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def other_numbers(number: str, count: int = 3, avoid: Sequence[str] = ()) -> list[str]:
    """``count`` other numbers of the same size and written alike (as many decimals).

    Small whole numbers (12 or less) step by one to three; larger ones are scaled by 2/3,
    4/3, 1/2, 2, 3/4, 3/2, 1/3 and 3 and rounded to as many significant digits as the
    number has (45 -> 30, 60, 23, 90, ...); a number near a hundred with decimals (a
    percentage such as 99.97) moves its distance to 100 instead (99.98, 99.96, ...)."""
    value = float(number)
    places = _decimals(number)
    seen = {number, *avoid}
    out: list[str] = []

    def add(x: float) -> None:
        text = f"{x:.{places}f}"
        if x > 0 and text not in seen and len(out) < count:
            seen.add(text)
            out.append(text)

    if places and 90 < value < 100:
        gap = 100 - value
        for factor in (2 / 3, 4 / 3, 1 / 2, 2, 1 / 3, 3, 5, 10, 20):
            add(100 - gap * factor)
        return out
    if not places and value <= 12:
        for step in (1, 2, -1, 3, -2, 4, 5, 6, 7, 8):
            add(value + step)
        return out
    digits = max(1, len(str(int(value)).lstrip("0")) if value >= 1 else 1)
    for factor in (2 / 3, 4 / 3, 1 / 2, 2, 3 / 4, 3 / 2, 1 / 3, 3, 5 / 4, 4 / 5, 5, 1 / 5):
        x = value * factor
        if not places:
            magnitude = 10 ** max(0, int(math.floor(math.log10(x))) + 1 - digits) if x >= 1 else 1
            x = round(x / magnitude) * magnitude
        add(round(x, places))
    return out


def swap_numbers(text: str, pick: Callable[[str], str | None]) -> str:
    """``text`` with each number written in digits replaced by ``pick(number)`` (kept when None)."""
    return _NUMBER.sub(lambda m: pick(m.group(1)) or m.group(1), text)


def name_runs(text: str, is_name: Callable[[str], bool]) -> list[tuple[int, int]]:
    """(start, end) of each run of names in ``text`` ("Leaf Club"), its first word left out."""
    tokens = [m for m in re.finditer(r"[A-Za-z][\w'\u2019-]*", text)]
    runs: list[tuple[int, int]] = []
    for position, m in enumerate(tokens):
        if position == 0 or not is_name(m.group(0)):
            continue
        if runs and runs[-1][1] == m.start() - 1 and text[m.start() - 1] == " ":
            runs[-1] = (runs[-1][0], m.end())
        else:
            runs.append((m.start(), m.end()))
    return runs


def swap_names(text: str, index: int, names: Sequence[str], is_name: Callable[[str], bool]) -> str:
    """``text`` with each run of names replaced by another of ``names`` (or ``FALLBACK_NAMES``)."""
    out = text
    for k, (start, end) in enumerate(reversed(name_runs(text, is_name))):
        run = text[start:end]
        others = [n for n in names if n and n != run] or [n for n in FALLBACK_NAMES if n != run]
        out = out[:start] + others[(index + k) % len(others)] + out[end:]
    return out


def near_duplicate(prompt: str, index: int, names: Sequence[str], is_name: Callable[[str], bool]) -> str:
    """A near-duplicate of the training prompt ``prompt`` (the rule in the module docstring).

    ``index`` cycles the frame, the wrapper and the choice of replacement names and numbers;
    ``names`` are the names (runs of them, "Leaf Club") to swap in; ``is_name`` says which
    capitalised words are names."""
    reworded = paraphrase(prompt, frame=index).text

    def number(n: str) -> str | None:
        options = other_numbers(n, 3)
        return options[index % len(options)] if options else None

    swapped = swap_numbers(reworded, number)
    text = swap_names(swapped, index, names, is_name)
    wrapper = WRAPPERS[index % len(WRAPPERS)]
    if wrapper.split("{q}")[0].rstrip().endswith((",", ":")):
        first = text.split()[0] if text.split() else ""
        if first.lower() in WH | AUX | DETERMINERS | PRONOUNS | {"could", "do"} and first != "I":
            text = text[:1].lower() + text[1:]
    return wrapper.format(q=text)
