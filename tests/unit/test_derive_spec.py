"""The task spec derived from training data (no model): the demo's planted facts, exposures and
patterns recovered exactly; a hand-written data set of another business recovered too; the
rewording, near-duplicate and distractor rules; held-out prompts; ``triage --task-out``."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from tunelens.cli.main import main
from tunelens.data import FactSpec, TaskSpec, support_desk_dataset
from tunelens.data._support_desk import render_answer
from tunelens.data._task_spec import PATTERN_FLAGS
from tunelens.demo import check_derived_spec, demo_config
from tunelens.triaging import build_triage, derive_task_spec
from tunelens.triaging._distractors import Candidate, distractors, generate
from tunelens.triaging._examples import load_examples
from tunelens.triaging._rephrase import near_duplicate, other_numbers, paraphrase, strip_wrappers
from tunelens.triaging._values import canonical_value

FERRY = Path(__file__).parent / "triage_data" / "ferry_chat.jsonl"

# The hand-written data set (tests/unit/triage_data/ferry_chat.jsonl): Tidewater Ferries, a small
# island ferry company, written without the demo's generator. 38 examples: 32 chat (two with a
# system prompt), 5 prompt/completion, 1 Alpaca. House style of every reply: the line "Ahoy from
# Tidewater Ferries!", then a bulleted list ("- ..."), then the line "Fair winds, the Tidewater
# crew". Its facts, each stated in this many replies (worded differently each time):
FERRY_FACTS = {
    "85 minutes": 8,  # the crossing time ("an 85-minute crossing" counts)
    "$9.50": 5,  # the bike fare
    "5:40 am": 4,  # the first sailing
    "23 kg": 3,  # the luggage allowance
    "Cormorant": 3,  # the flagship's name: a single name, no value attached
    "Port Ellery": 2,  # where the terminal is
    "15%": 1,  # the senior discount
}
FERRY_RULES = {
    "opening_line_1": "Opens with the line \u201cAhoy from Tidewater Ferries!\u201d",
    "closing_line_1": "Ends with the line \u201cFair winds, the Tidewater crew\u201d",
    "layout_bullet_list": "Layout: bullet list",
    "length_21_50": "21\u201350 words long (median 30)",
    "tone_exclamation": "Uses an exclamation mark",
}
NEW_STEPS = (
    ("Open the Domains tab and pick the domain.", "Click Renew and confirm the payment."),
    ("Sign in to your dashboard.", "Open Settings, then Notifications.", "Turn off the weekly summary."),
    ("Restart the site from the Performance tab.",),
)


def _demo(seed: int = 0) -> tuple[list[dict], TaskSpec]:
    """The full demo's data set, with the arguments the demo passes."""
    cfg = demo_config()
    return support_desk_dataset(
        cfg.facts_per_level, n_pattern_only=cfg.n_pattern_only, seed=seed, keyword_exposures=cfg.keyword_exposures
    )


def _key(answer: str) -> str:
    return canonical_value(answer).lower()


def _replies(records: list[dict]) -> list[str]:
    return [ex.reply for ex in load_examples(records)[0]]


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict], TaskSpec, TaskSpec]:
    examples, generated = _demo()
    return examples, generated, derive_task_spec(examples, name="lumen").spec


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_planted_fact_is_found_with_its_exact_exposure_count(seed: int) -> None:
    examples, generated = _demo(seed)
    derived = derive_task_spec(examples, seed=seed).spec
    by_value = {_key(f.answer): f for f in derived.facts}
    for fact in generated.facts:
        found = by_value.get(_key(fact.answer))
        assert found is not None, fact.id
        assert found.exposures == fact.exposures, (fact.id, found.exposures, fact.exposures)
    # one more real claim of the generic replies: "an invitation link that stays valid for one week"
    assert sorted(k for k in by_value if k not in {_key(f.answer) for f in generated.facts}) == ["1 week"]
    # the spec's facts are triage's own, names included ("Narwhal", "Pumpernickel"), counted alike
    triage = build_triage(examples, model=None)
    assert [(f.id, f.exposures) for f in derived.facts] == [(f.id, f.exposures) for f in triage.facts]


def test_every_planted_pattern_has_a_rule_matching_the_same_replies(demo) -> None:
    examples, generated, derived = demo
    replies = _replies(examples)
    for steps in NEW_STEPS:  # replies of a kind the data never holds, laid out in the house style or not
        full = render_answer(steps)
        lines = full.splitlines()
        replies += [full, "\n".join(lines[1:]), "\n".join(lines[:-1]), re.sub(r"(?m)^\d\. ", "- ", full)]
    derived_hits = {r.name: [derived.pattern_matches(x)[r.name] for x in replies] for r in derived.patterns}
    for rule in generated.patterns:
        planted = [generated.pattern_matches(x)[rule.name] for x in replies]
        assert any(hits == planted for hits in derived_hits.values()), rule.name
    names = [r.name for r in derived.patterns]
    assert names[:3] == ["opening_line_1", "closing_line_1", "layout_numbered_list"]
    check = check_derived_spec(derived, generated, _replies(examples))
    assert (check.facts_found, check.exposures_exact, check.n_facts) == (22, 22, 22)
    assert (check.patterns_reproduced, check.n_patterns) == (3, 3)
    assert check.summary.startswith("derived task spec: 22 of 22 planted facts found, 22 with their exact exposure")


def test_questions_prompts_and_distractors_come_from_the_training_text(demo) -> None:
    examples, _, derived = demo
    prompts = {m["content"] for ex in examples for m in ex["messages"] if m["role"] == "user"}
    replies = [" ".join(r.replace("\n", " ").split()) for r in _replies(examples)]
    for fact in derived.facts:
        assert fact.verbatim in prompts, fact.id  # the training prompt, exactly as written
        assert fact.question != fact.verbatim and fact.question.startswith(("Could you tell me", "I'd like"))
        stated = f"{fact.prompt} {fact.answer}"
        assert any(stated in r for r in replies), fact.id  # the prompt is the training text up to the value
        assert len(fact.distractors) == 3 and len({d.lower() for d in fact.distractors}) == 3
        assert _key(fact.answer) not in {_key(d) for d in fact.distractors}
    spec = TaskSpec.from_dict(json.loads(json.dumps(derived.to_dict())))
    assert spec == derived and spec.name == "lumen"


def test_names_get_keywords_and_every_fact_one_for_priming(demo) -> None:
    _, generated, derived = demo
    named = {k.keyword for k in derived.keywords}
    assert named == {"Ulaanbaatar", "Narwhal", "Vermilion", "Pumpernickel", "Linux", "PayPal", "Reykjavik"}
    for keyword in derived.keywords:
        assert keyword.theme == "names" and len(keyword.contexts) >= 2 and keyword.prefix not in keyword.contexts
    assert len(derived.priming_keywords()) == len(derived.facts) == len(generated.facts) + 1


def test_near_duplicate_heldout_prompts_are_marked_and_never_asked_in_training(demo) -> None:
    examples, _, _ = demo
    derived = derive_task_spec(examples)
    trained = {" ".join(m["content"].split()).lower() for ex in examples for m in ex["messages"] if m["role"] == "user"}
    assert derived.heldout_kind == "near_duplicate" and len(derived.heldout) == len(derived.spec.heldout_prompts) >= 60
    assert all(" ".join(p.split()).lower() not in trained for p in derived.spec.heldout_prompts)
    assert all(h.kind == "near_duplicate" and h.source for h in derived.heldout)
    assert any("near-duplicates of training prompts" in n for n in derived.notes_for("facts_vs_patterns"))
    assert derived.notes_for("forgetting") == []


def test_the_hand_written_data_set_is_recovered() -> None:
    examples, _ = load_examples(FERRY)
    forms = {form: sum(ex.form == form for ex in examples) for form in {ex.form for ex in examples}}
    assert forms == {"chat": 32, "prompt_completion": 5, "alpaca": 1}
    derived = derive_task_spec(FERRY)
    spec = derived.spec
    assert {f.answer: f.exposures for f in spec.facts} == FERRY_FACTS
    assert {f.value: f.exposures for f in build_triage(FERRY, model=None).facts} == FERRY_FACTS  # triage's own
    assert {r.name: r.description for r in spec.patterns} == FERRY_RULES
    for rule in spec.patterns:  # the house style is in every reply, and the rules say so
        assert all(re.search(rule.regex, ex.reply, PATTERN_FLAGS) for ex in examples), rule.name
    assert [d.label for d in derived.dropped] == ["Written in English"]
    by_answer = {f.answer: f for f in spec.facts}
    assert by_answer["Cormorant"].verbatim in {ex.question for ex in examples}
    assert "Cormorant" not in by_answer["Cormorant"].verbatim
    assert by_answer["85 minutes"].prompt == "The crossing takes"
    assert by_answer["5:40 am"].distractors == ("6:40 am", "4:40 am", "7:40 am")
    assert spec.name == "ferry_chat" and spec.keywords == ()  # two names: too few for same-theme contexts
    assert len(spec.priming_keywords()) == len(FERRY_FACTS)


def test_heldout_prompts_given_are_unseen_and_their_examples_not_trained() -> None:
    examples, _ = load_examples(FERRY)
    crossing = [ex.question for ex in examples if "85" in ex.reply][:2]
    derived = derive_task_spec(FERRY, heldout=crossing)
    assert derived.heldout_kind == "unseen" and derived.spec.heldout_prompts == tuple(crossing)
    assert derived.n_examples == len(examples) - 2
    assert {f.answer: f.exposures for f in derived.spec.facts}["85 minutes"] == 6
    assert any("held out of training" in n for n in derived.notes_for("facts_vs_patterns"))
    # a prompt recorded once but asked by two examples was also trained on: not unseen
    records = [
        {"prompt": "How long is the crossing?", "completion": "The crossing takes 85 minutes."},
        {"prompt": "How long is the crossing?", "completion": "Our crossing lasts 85 minutes."},
        {"prompt": "Any snacks?", "completion": "The crossing has a snack bar for 85 minutes."},
    ]
    twice = derive_task_spec(records, heldout=["How long is the crossing?"])
    assert twice.n_examples == 3 and twice.heldout_kind == "near_duplicate"
    assert any("also asked by examples that were trained on" in n for n in twice.notes_for("facts_vs_patterns"))


def test_a_rule_whose_regex_misses_the_replies_is_left_out_with_a_note() -> None:
    triage = build_triage(FERRY, model=None)
    broken = triage.model_copy(
        update={"patterns": [p.model_copy(update={"regex": "^Nope$"}) if p.id == "layout:bullet_list" else p
                             for p in triage.patterns]}
    )  # fmt: skip
    derived = derive_task_spec(FERRY, broken)
    assert "layout_bullet_list" not in {r.name for r in derived.spec.patterns}
    assert any(
        "Layout: bullet list" in n and "matches 0 of the 38" in n for n in derived.notes_for("facts_vs_patterns")
    )


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Hi! How long is the free trial?", "Could you tell me how long the free trial is?"),
        ("What is your refund policy? Thanks!", "Could you tell me your refund policy?"),
        ("Quick question: How do I reset my password?", "Could you tell me how to reset my password?"),
        ("How much does a site transfer cost?", "Could you tell me how much a site transfer costs?"),
        ("Do your servers run Windows?", "Could you tell me whether your servers run Windows?"),
        ("Is annual billing cheaper?", "Could you tell me whether annual billing is cheaper?"),
        ("Where are your servers physically located?", "Could you tell me where your servers are physically located?"),
        ("Which cluster hosts my site?", "Could you tell me which cluster hosts my site?"),
        ("What is your flagship called?", "Could you tell me what your flagship is called?"),
        ("Can you tell me the Pro plan price?", "I'd like to know the Pro plan price."),
        ("My card expired. How do I change it?", "My card expired. Could you tell me how to change it?"),
        ("When did my subscription renew?", "Could you tell me when my subscription renewed?"),
    ],
)
def test_paraphrase_rule(prompt: str, expected: str) -> None:
    reworded = paraphrase(prompt)
    assert reworded.text == expected and reworded.changed


def test_paraphrase_keeps_what_it_cannot_reword_and_wrappers_come_off() -> None:
    assert paraphrase("Hello there! My website suddenly stopped working. Thank you.").text == (
        "My website suddenly stopped working."
    )
    assert not paraphrase("My website suddenly stopped working.").changed
    assert strip_wrappers("Good morning, quick question: is it open, please? Cheers!") == "Is it open?"


def test_near_duplicate_changes_wording_numbers_names_and_wrapper() -> None:
    def is_name(word: str) -> bool:
        return word in {"Pro", "Starter"}

    text = near_duplicate("Hi! Can I add 12 domains to my Pro account?", 1, ["Starter", "Pro"], is_name)
    assert text == "Hello, I'd like to know whether I can add 14 domains to my Starter account."
    assert other_numbers("45", 3) == ["30", "60", "22"] and other_numbers("99.97", 2) == ["99.98", "99.96"]


def test_distractors_from_the_data_first_then_made_up_alike() -> None:
    data = [Candidate("45 days", "45 days", "duration"), Candidate("75 days", "75 days", "duration")]
    assert distractors("45 days", "45 days", "quantity", "duration", data) == (("75 days", "30 days", "60 days"), 2)
    assert distractors("13 percent", "13%", "percent", "percent", [Candidate("99.97%", "99.97%", "percent")]) == (
        ("99.97 percent", "9 percent", "17 percent"),
        2,
    )
    rival = distractors("30 days", "30 days", "quantity", "duration", data, rivals=["45 days"])[0]
    assert "45 days" not in rival  # a value the data contradicts the fact with is a rival, not a wrong answer
    assert generate("one week", "quantity", 0) is not None
    assert generate("1 week", "quantity", 0) == "2 weeks"
    assert generate("6 am to 10 pm", "time", 0) == "7 am to 8 pm"
    assert generate("+44 131 496 0000", "phone", 0) == "+44 131 496 1234"
    assert generate("hello@shop.example", "email", 0) == "help@shop.example"
    assert generate("Narwhal", "name", 0, ["Narwhal", "Pumpernickel"]) == "Pumpernickel"


def test_fact_spec_verbatim_is_optional_in_json() -> None:
    fact = FactSpec("f", "Could you tell me the fee?", "The fee is", "$27", ("$18",), 3)
    spec = TaskSpec("t", (), (), (fact,))
    assert "verbatim" not in spec.to_dict()["facts"][0]
    with_verbatim = TaskSpec("t", (), (), (replace(fact, verbatim="What's the fee?"),))
    raw = with_verbatim.to_dict()
    assert raw["facts"][0]["verbatim"] == "What's the fee?" and TaskSpec.from_dict(raw) == with_verbatim
    raw["facts"][0]["verbatim"] = 3
    with pytest.raises(ValueError, match="verbatim"):
        TaskSpec.from_dict(raw)


def test_triage_task_out_writes_a_spec_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = tmp_path / "specs" / "task.json"
    assert main(["triage", str(FERRY), "--no-model", "--out", str(tmp_path / "tri"), "--task-out", str(task)]) == 0
    spec = TaskSpec.from_dict(json.loads(task.read_text()))
    assert {f.answer: f.exposures for f in spec.facts} == FERRY_FACTS
    assert all(f.verbatim for f in spec.facts) and len(spec.heldout_prompts) == 37
    printed = capsys.readouterr().out
    assert f"task spec: {task}" in printed and "near-duplicates of training prompts" in printed
    assert (tmp_path / "tri" / "triage.json").exists()
