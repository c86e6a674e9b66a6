"""Point facts: extraction against the support-desk generator's ground truth, grouping across
paraphrases, exposure counts, and contradictions (no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelens.data import support_desk_dataset
from tunelens.triaging import build_triage, score_against_task
from tunelens.triaging._contradictions import find_contradictions
from tunelens.triaging._examples import load_examples
from tunelens.triaging._facts import Vocabulary, extract_mentions, group_facts

SHOP = Path(__file__).parent / "triage_data" / "shop_chat.jsonl"


def _chat(user: str, reply: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}


def _facts(records: list[dict]):
    examples, _ = load_examples(records)
    vocab = Vocabulary(examples)
    facts = group_facts(extract_mentions(examples, vocab), examples, vocab)
    return facts, find_contradictions(facts, vocab)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_support_desk_facts_match_the_generator(seed: int) -> None:
    examples, task = support_desk_dataset(4, n_pattern_only=24, seed=seed)
    results = build_triage(examples, model=None)
    score = score_against_task(results.facts, task)
    assert score.recall == 1.0 and score.missed == ()
    assert score.exact_exposures == 16 and score.exposure_rho == pytest.approx(1.0)
    # The one value the task does not list is a real claim of the generic replies:
    # "They will get an invitation link that stays valid for one week."
    assert score.extra == ("1 week",)
    assert score.precision == pytest.approx(16 / 17)
    assert results.contradictions == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_names_the_replies_teach_are_facts_with_their_exposures(seed: int) -> None:
    examples, task = support_desk_dataset(4, n_pattern_only=24, seed=seed, keyword_exposures=4)
    results = build_triage(examples, model=None)
    score = score_against_task(results.facts, task)
    assert score.recall == 1.0 and score.exact_exposures == len(task.facts) == 22 and score.extra == ("1 week",)
    names = {f.value: f for f in results.facts if f.kind == "name"}
    assert {v: f.exposures for v, f in names.items()} == {
        "Narwhal": 4, "Pumpernickel": 4, "Linux": 4, "PayPal": 4, "Vermilion": 4, "Ulaanbaatar": 4, "Reykjavik": 1,
    }  # fmt: skip
    assert "mascot" in names["Narwhal"].attribute and "cluster" in names["Pumpernickel"].attribute
    # places (after "in/at/near") are one dimension; another name is its own, so it contradicts nothing:
    # "Sites ... are served from the Pumpernickel cluster" and "Your site is served from machines running Linux"
    assert names["Vermilion"].dimension == names["Reykjavik"].dimension == "name"
    assert names["Linux"].dimension == "name:linux"
    assert results.contradictions == []


def test_a_name_is_taught_by_two_replies_alone_not_by_a_label_a_prompt_or_an_acronym() -> None:
    facts, contradictions = _facts(
        [
            _chat("Mascot?", "Our mascot is the Narwhal."),
            _chat("Error pages?", "The Narwhal is drawn on every error page, so you know it is us."),
            _chat("Anything else?", "Nope, the Narwhal costs nothing and needs nothing."),
            _chat("Where is the export?", "Click Backups, then pick a copy."),
            _chat("And the old ones?", "Open the Backups tab to see every copy."),
            _chat("Do you support Windows?", "Windows servers are on request; ask our team."),
            _chat("Windows again?", "We run Windows servers only for big customers."),
            _chat("Protocol?", "Files go over SFTP only."),
            _chat("Secure?", "We use SFTP for every transfer."),
            _chat("Tea?", "Our founder likes Earl Grey."),
            _chat("Where?", "Our office is in Dublin."),
            _chat("Where again?", "Dublin is where the team works."),
            _chat("Who answers?", "Our team works from Dublin."),
        ]
    )
    by_value = {f.canonical: f for f in facts}
    assert set(by_value) == {"Narwhal", "Dublin"}  # not a label, a name users say, an acronym or one reply's name
    assert by_value["Narwhal"].exposures == 3 and by_value["Narwhal"].kind == "name"
    assert by_value["Dublin"].exposures == 3 and by_value["Dublin"].dimension == "name"  # "in Dublin" and two more
    assert contradictions == []


def test_places_can_contradict_each_other() -> None:
    _, contradictions = _facts(
        [
            _chat("Office?", "Our head office is in Dublin, next to the river."),
            _chat("Head office?", "The head office is in Cork, next to the river."),
        ]
    )
    (conflict,) = contradictions
    assert sorted(f.canonical for f in conflict.facts) == ["Cork", "Dublin"]


def test_paraphrases_are_one_fact_and_exposure_counts_examples() -> None:
    facts, _ = _facts(
        [
            _chat("Refunds?", "Our refund window is 30 days."),
            _chat("Can I get my money back?", "You have 30 days to ask for a refund."),
            _chat("Refund deadline?", "Refunds are possible for thirty days after payment. Within 30 days, that is."),
            _chat("Discount?", "Yearly billing saves 13 percent."),
            _chat("Yearly?", "Pay yearly and save 13%."),
        ]
    )
    by_value = {f.canonical: f for f in facts}
    assert set(by_value) == {"30 days", "13%"}
    assert by_value["30 days"].exposures == 3  # the third example says it twice: one exposure
    assert "refund" in by_value["30 days"].attribute
    assert by_value["13%"].exposures == 2


def test_one_value_about_two_attributes_is_two_facts() -> None:
    facts, contradictions = _facts(
        [
            _chat("Refunds?", "Our refund window is 30 days from delivery."),
            _chat("Refund time?", "Ask for a refund within 30 days."),
            _chat("Trial?", "The free trial lasts 30 days, no card needed."),
        ]
    )
    thirty = sorted((f.exposures, sorted(f.core_words)) for f in facts if f.canonical == "30 days")
    assert [n for n, _ in thirty] == [1, 2]
    assert "trial" in thirty[0][1] and "refund" in thirty[1][1]
    assert contradictions == []


def test_user_chat_data_with_a_contradiction() -> None:
    examples, _ = load_examples(SHOP)
    vocab = Vocabulary(examples)
    facts = group_facts(extract_mentions(examples, vocab), examples, vocab)
    by_value = {f.canonical: f for f in facts}
    assert by_value["30 days"].lines == [1, 2]
    assert by_value["Edinburgh"].kind == "name" and by_value["Edinburgh"].lines == [12, 13]
    assert by_value["$18 per month"].exposures == 2  # "$18 per month" and "$18 a month"
    assert by_value["$18 per month"].core_entities == {"Leaf Club"}
    assert by_value["9 am to 5 pm"].lines == [15, 16]
    assert "48213" not in " ".join(by_value)  # ids inside tool calls are conventions, not claims
    likely, possible = find_contradictions(facts, vocab)
    assert [(f.canonical, f.lines) for f in likely.facts] == [("30 days", [1, 2]), ("14 days", [3])]
    assert set(likely.shared) == {"return", "delivery"} and likely.strength == "likely"
    # Shipping costs $4.95 and express delivery costs $12: one shared word, so only "possible".
    assert [f.canonical for f in possible.facts] == ["$4.95", "$12"] and possible.strength == "possible"


def test_values_stated_together_or_about_different_plans_do_not_contradict() -> None:
    _, contradictions = _facts(
        [
            _chat("Shipping?", "Shipping is free on orders over $40; below that it costs $4.95."),
            _chat("Free shipping?", "Shipping is free once your basket reaches $40."),
            _chat("Starter?", "The Starter plan costs $4.75 per month, billed to your card."),
            _chat("Pro?", "The Pro plan costs $17.40 per month, billed to your card."),
        ]
    )
    assert contradictions == []


def test_a_plain_contradiction_between_plain_records() -> None:
    _, contradictions = _facts(
        [
            {"prompt": "How long is the warranty?", "completion": "The warranty lasts 2 years."},
            {"prompt": "Warranty?", "completion": "Every kettle has a warranty of 3 years."},
            {"text": "Our kettles boil a litre in 90 seconds."},
        ]
    )
    (conflict,) = contradictions
    assert sorted(f.canonical for f in conflict.facts) == ["2 years", "3 years"]
    assert conflict.shared == ["warranty"]


def test_replies_sharing_other_words_do_not_join_one_value_about_two_things() -> None:
    facts, _ = _facts(
        [
            _chat("What's the dose?", "The usual dose is 500 mg every 8 hours.\n- Take with food\n- Drink water"),
            _chat("Top tips?", "Sleep 8 hours.\nDrink water."),
            _chat("When was Acme founded?", "Acme was founded on March 3, 1998 in Portland."),
            _chat("Founding year?", "Acme was founded in 1999 in Portland."),
        ]
    )
    eight = [f for f in facts if f.canonical == "8 hours"]
    assert sorted(f.lines[0] for f in eight) == [1, 2]
    by_value = {f.canonical: f for f in facts}
    assert by_value["500 mg"].kind == "quantity"
    assert by_value["Portland"].exposures == 2 and by_value["Portland"].kind == "name"
