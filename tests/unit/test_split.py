"""``--method split`` without a model: the fact sheet holds every fact triage finds once, each
example's prompt holds its facts as the retrieval channel puts them, varied copies change a
value in context and reply alike, contradictions stop the split unless resolved, and the
strip mode leaves no fact in a reply."""

from __future__ import annotations

import re

import pytest

from tunelens.data import support_desk_dataset
from tunelens.errors import TunelensError, UsageError
from tunelens.models._retrieval import FACTS_HEADER
from tunelens.triaging._examples import load_examples
from tunelens.triaging._facts import Vocabulary, extract_mentions, group_facts
from tunelens.tuning import plan_split, split_recipe


@pytest.fixture(scope="module")
def records() -> list[dict]:
    examples, _ = support_desk_dataset(facts_per_level=2, n_pattern_only=6, seed=0)
    return examples


def _system(conversation: list[dict]) -> str:
    return next((m["content"] for m in conversation if m["role"] == "system"), "")


def _reply(conversation: list[dict]) -> str:
    return conversation[-1]["content"]


def test_split_recipe_reads_the_weight_method() -> None:
    assert split_recipe("split") == "lora"
    assert split_recipe("split:full") == "full"
    assert split_recipe("lora") is None
    assert split_recipe("splitter") is None


def test_every_fact_is_in_the_sheet_once_and_in_the_prompt_of_each_example_that_states_it(records) -> None:
    plan = plan_split(records, mode="copy", variants=1)
    examples, _ = load_examples(records)
    vocab = Vocabulary(examples)
    groups = group_facts(extract_mentions(examples, vocab), examples, vocab)
    assert len(plan.facts) == len(groups) > 5
    for fact, group in zip(plan.facts, groups):
        surfaces = {m.value.surface.lower() for m in group.mentions}
        stating = [line for line in plan.sheet if any(s in line.lower() for s in surfaces)]
        assert stating == [fact.line], f"{fact.value}: stated by {stating}"
        for mention in group.mentions:
            original = plan.conversations[mention.example][0]
            assert _system(original).startswith(FACTS_HEADER)
            assert f"- {fact.line}" in _system(original), f"line {mention.line} lacks {fact.value} in its prompt"
            assert _reply(original) == examples[mention.example].reply  # the reply as written
    assert len(plan.sheet) == len(set(plan.sheet))
    fact_free = [i for i in range(len(examples)) if i not in {m.example for g in groups for m in g.mentions}]
    assert fact_free and all(len(plan.conversations[i]) == 1 for i in fact_free)


def test_varied_copies_change_the_value_in_context_and_reply_alike(records) -> None:
    plan = plan_split(records, mode="copy", variants=2, seed=3)
    examples, _ = load_examples(records)
    varied = 0
    for index, copies in enumerate(plan.conversations):
        original = copies[0]
        for copy in copies[1:]:
            assert copy[-2]["content"] == original[-2]["content"]  # the same question
            new_lines = set(_system(copy).splitlines()) - set(_system(original).splitlines())
            assert new_lines, "a variant must change a sheet line"
            for fact in plan.facts:
                if f"- {fact.line}" in _system(original) and f"- {fact.line}" not in _system(copy):
                    assert fact.value.lower() not in _reply(copy).lower() or fact.value.lower() in _system(copy).lower()
                    varied += 1
            # every value the copy's reply states that its original did not is in its context
            for number in set(re.findall(r"\d+", _reply(copy))) - set(re.findall(r"\d+", _reply(original))):
                assert number in _system(copy)
        assert len(copies) <= 3
        if len(copies) > 1:
            assert _reply(copies[1]) != examples[index].reply
    assert varied > 10
    assert plan.counts["n_variant_copies"] > 10


def _conflicting() -> list[dict]:
    def chat(q: str, a: str) -> dict:
        return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}

    old = [
        chat(f"How long is the refund window? ({i})", "Our refund window is 30 days from purchase.") for i in range(3)
    ]
    new = [chat(f"Refund window length? ({i})", "The refund window is 45 days from purchase.") for i in range(3)]
    other = [chat("Where is the office?", "Our office is in Reykjavik, open on weekdays.")]
    topics = ["passwords", "invoices", "domains", "email", "backups", "themes", "plugins", "logins"]
    plain = [chat(f"Help with {t}?", f"Open the {t} page in your dashboard and follow the steps.") for t in topics]
    return old + other + new + plain


def test_a_contradiction_stops_the_split_naming_its_lines() -> None:
    with pytest.raises(TunelensError) as caught:
        plan_split(_conflicting())
    message = str(caught.value)
    assert "30 days on lines 1, 2, 3" in message and "45 days on lines 5, 6, 7" in message
    assert "--prefer" in message


@pytest.mark.parametrize(
    ("prefer", "kept", "dropped"), [("last", "45 days", "30 days"), ("first", "30 days", "45 days")]
)
def test_prefer_keeps_one_value_everywhere(prefer: str, kept: str, dropped: str) -> None:
    plan = plan_split(_conflicting(), prefer=prefer, variants=0)
    assert any(kept in line for line in plan.sheet) and not any(dropped in line for line in plan.sheet)
    for copies in plan.conversations:
        for conv in copies:
            assert dropped not in _reply(conv) and dropped not in _system(conv)
    assert len(plan.resolved) == 1 and f"kept {kept}" in plan.resolved[0]


def test_a_sheet_of_the_users_own_settles_a_contradiction(tmp_path) -> None:
    sheet = tmp_path / "facts.txt"
    sheet.write_text("Refunds: the refund window is 45 days from purchase.\nOur office is in Reykjavik.\n")
    plan = plan_split(_conflicting(), facts=sheet, variants=0)
    assert plan.sheet == sheet.read_text().splitlines()
    assert "the fact sheet given" in plan.resolved[0]
    both = tmp_path / "both.txt"
    both.write_text("The refund window is 45 days.\nIt used to be 30 days.\nOur office is in Reykjavik.\n")
    with pytest.raises(TunelensError, match="states more than one"):
        plan_split(_conflicting(), facts=both)


def test_strip_removes_every_fact_sentence_and_renumbers(records) -> None:
    plan = plan_split(records, mode="strip")
    values = [f.value.lower() for f in plan.facts]
    for copies in plan.conversations:
        for conv in copies:
            reply = _reply(conv)
            assert not any(v in reply.lower() for v in values)
            assert not _system(conv)
            numbers = [int(n) for n in re.findall(r"^(\d+)\. ", reply, re.M)]
            assert numbers == list(range(1, len(numbers) + 1))
    assert plan.counts["n_sentences_removed"] >= plan.counts["n_examples_with_facts"]


def test_bad_settings_and_fact_free_data_are_refused(records) -> None:
    with pytest.raises(UsageError, match="split mode"):
        plan_split(records, mode="paste")
    with pytest.raises(UsageError, match="--prefer"):
        plan_split(records, prefer="newest")
    plain = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}]}]
    with pytest.raises(TunelensError, match="no point facts"):
        plan_split(plain)
