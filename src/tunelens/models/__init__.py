"""Model references and loading: embedded packages, GGUF, directories, hub ids, adapters, SVF checkpoints,
and two channels that change no weight (proxy-tuning and retrieval)."""

from tunelens.models._cache_api import cache_kwargs, cache_of
from tunelens.models._embedded import EMBEDDED
from tunelens.models._info import check_same_tokenizer, model_fingerprint, model_info, tokenizer_fingerprint
from tunelens.models._loader import (
    ADAPTER_META,
    LoadedModel,
    LoadOptions,
    ResolvedLoad,
    gguf_cache_path,
    load_model,
    load_tokenizer,
    resolve_load,
)
from tunelens.models._parts import decoder_and_unembedding
from tunelens.models._proxy import shared_vocab_size
from tunelens.models._refs import CHANNEL_KINDS, DEFAULT_MODEL, SVF_VECTORS, ModelRef, parse_ref
from tunelens.models._retrieval import BM25, FactRetriever, fact_sheet, read_facts, write_fact_sheet
from tunelens.models._shared import SharedView, load_pair, model_identity

__all__ = [
    "cache_kwargs",
    "cache_of",
    "decoder_and_unembedding",
    "ADAPTER_META",
    "BM25",
    "CHANNEL_KINDS",
    "DEFAULT_MODEL",
    "EMBEDDED",
    "FactRetriever",
    "SVF_VECTORS",
    "LoadOptions",
    "LoadedModel",
    "ModelRef",
    "ResolvedLoad",
    "SharedView",
    "check_same_tokenizer",
    "fact_sheet",
    "gguf_cache_path",
    "load_model",
    "load_pair",
    "load_tokenizer",
    "model_identity",
    "model_info",
    "parse_ref",
    "read_facts",
    "resolve_load",
    "shared_vocab_size",
    "tokenizer_fingerprint",
    "model_fingerprint",
    "write_fact_sheet",
]
