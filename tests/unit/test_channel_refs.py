"""The two channels without a model: reference syntax, the vocabulary check, BM25, fact sheets."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tunelens.errors import TunelensError
from tunelens.models import BM25, FactRetriever, fact_sheet, parse_ref, read_facts, shared_vocab_size, write_fact_sheet

EMB = "embedded:smollm2-135m-instruct"


def _model_dir(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return path


def test_proxy_parts_may_hold_dashes_and_pluses(tmp_path: Path) -> None:
    large = _model_dir(tmp_path, "large-base+v2")
    tuned = _model_dir(tmp_path, "small-tuned")
    ref = parse_ref(f"proxy:{large}+{tuned}-{EMB}")
    assert ref.kind == "proxy"
    assert ref.parts == (str(large), str(tuned), EMB)
    assert ref.alpha == 1.0
    assert parse_ref(f"proxy:{EMB}+{tuned}-{EMB}*0.5").alpha == 0.5
    spaced = parse_ref(f"proxy: {EMB} + {tuned} - {EMB}")
    assert spaced.parts == (EMB, str(tuned), EMB)


def test_bad_proxy_strings_name_the_syntax(tmp_path: Path) -> None:
    with pytest.raises(TunelensError, match=r"LARGE_BASE\+SMALL_TUNED-SMALL_BASE"):
        parse_ref(f"proxy:{EMB}+{EMB}")
    with pytest.raises(TunelensError, match="LARGE_BASE"):
        parse_ref("proxy:/nowhere/a+/nowhere/b-/nowhere/c")
    facts = tmp_path / "facts.txt"
    facts.write_text("x\n")
    with pytest.raises(TunelensError, match="a part of a proxy must be a model with weights"):
        parse_ref(f"proxy:{EMB} + retrieval:{EMB}@{facts} - {EMB}")


def test_ambiguous_hub_ids_ask_for_spaces() -> None:
    with pytest.raises(TunelensError, match="with spaces"):
        parse_ref("proxy:org/big+org/small-chat-org/small")
    spaced = parse_ref("proxy:org/big + org/small-chat - org/small")
    assert spaced.parts == ("org/big", "org/small-chat", "org/small")


def test_retrieval_reference(tmp_path: Path) -> None:
    facts = tmp_path / "my@facts.txt"
    facts.write_text("The refund window is 30 days.\n")
    ref = parse_ref(f"retrieval:{EMB}@{facts}")
    assert ref.kind == "retrieval" and ref.parts == (EMB, str(facts.resolve()))
    with pytest.raises(TunelensError, match="facts file not found"):
        parse_ref(f"retrieval:{EMB}@{tmp_path / 'none.txt'}")
    with pytest.raises(TunelensError, match="retrieval:MODEL@FACTS"):
        parse_ref(f"retrieval:{EMB}")


class _Tokenizer:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens

    def get_vocab(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)


def _model(width: int) -> SimpleNamespace:
    head = SimpleNamespace(weight=SimpleNamespace(shape=(width, 8)))
    return SimpleNamespace(get_output_embeddings=lambda: head, config=SimpleNamespace(vocab_size=width))


def test_shared_vocabulary_allows_padding_and_extra_tokens() -> None:
    small = _Tokenizer(["a", "b", "c"])
    large = _Tokenizer(["a", "b", "c", "<extra>"])
    named = [("L", large, _model(8)), ("T", small, _model(3)), ("B", small, _model(3))]
    assert shared_vocab_size(named) == 3


def test_a_vocabulary_mismatch_names_the_tokens() -> None:
    named = [
        ("L", _Tokenizer(["a", "b", "c"]), _model(3)),
        ("T", _Tokenizer(["a", "c", "b"]), _model(3)),
        ("B", _Tokenizer(["a", "b", "c"]), _model(3)),
    ]
    with pytest.raises(TunelensError, match=r"T and L map 2 of the first 3 token ids differently \(id 1: 'b' vs 'c'"):
        shared_vocab_size(named)
    short = [("L", _Tokenizer(["a", "b"]), _model(1))] + named[2:] * 2
    with pytest.raises(TunelensError, match="do not belong together"):
        shared_vocab_size(short)


FACTS = [
    "The refund window is 30 days from delivery.",
    "Support is open 9 am to 5 pm on weekdays.",
    "Shipping to Canada takes 7 business days.",
    "The premium plan costs $12 a month.",
]


def test_bm25_ranks_the_relevant_fact_first() -> None:
    index = BM25(FACTS)
    assert index.top("How many days do I have to ask for a refund?", 2)[0] == 0
    assert index.top("what does premium cost per month", 1) == [3]
    assert index.top("zebra", 3) == []
    scores = index.scores("shipping canada")
    assert scores[2] > 0 and scores[0] == scores[1] == scores[3] == 0


def test_bm25_rare_terms_outweigh_common_ones() -> None:
    docs = ["order order status", "order refund", "order tracking", "order gift"]
    scores = BM25(docs).scores("order refund")
    assert max(range(4), key=lambda i: scores[i]) == 1


def test_retriever_adds_a_system_message_or_extends_one() -> None:
    retriever = FactRetriever(FACTS, k=1)
    chat = retriever([{"role": "user", "content": "When is support open?"}])
    assert chat[0]["role"] == "system" and FACTS[1] in chat[0]["content"]
    assert FACTS[0] not in chat[0]["content"]
    kept = retriever([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "refund window?"}])
    assert kept[0]["content"].startswith("Be brief.\n\n") and FACTS[0] in kept[0]["content"]
    assert len(kept) == 2
    unrelated = [{"role": "user", "content": "Tell me a joke"}]
    assert retriever(unrelated) == unrelated


def test_fact_sheet_from_chat_jsonl(tmp_path: Path) -> None:
    pairs = [
        ("Refunds?", "Hi! The refund window is 30 days. Anything else?"),
        ("Refund time?", "The refund window is 30 days."),
        ("Hours?", "We are open 9 am to 5 pm. Thanks for asking!"),
    ]
    records = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in pairs]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    facts = fact_sheet(data)
    assert facts == ["The refund window is 30 days.", "We are open 9 am to 5 pm."]
    assert read_facts(data) == facts  # a JSONL is read as its fact sheet
    sheet = write_fact_sheet(data, tmp_path / "out" / "facts.txt")
    assert read_facts(sheet) == facts


def test_empty_or_missing_facts_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "facts.txt"
    empty.write_text("\n  \n")
    with pytest.raises(TunelensError, match="holds no facts"):
        read_facts(empty)
    with pytest.raises(TunelensError, match="facts file not found"):
        read_facts(tmp_path / "missing.txt")


def test_a_channel_cannot_be_tuned(tmp_path: Path) -> None:
    from tunelens import tune

    with pytest.raises(TunelensError, match="proxy channel has no weights of its own"):
        tune(f"proxy:{EMB}+{EMB}-{EMB}", [], out_dir=tmp_path)
