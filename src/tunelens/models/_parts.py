"""A causal LM's decoder and unembedding, for passes that unembed only some positions.

Packed scoring reads the next-token distribution at a few positions of each row, and a
training step needs it only where a label is; both run the decoder for the hidden states and
the unembedding on the positions they read, instead of the whole forward, which unembeds
every position (49,152 logits each on the embedded model). That is exact only for a model
whose forward applies nothing to the logits after the unembedding.
"""

from __future__ import annotations

from typing import Any

LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling")
"""Config fields of models whose causal-LM forward rescales or caps the logits after the
unembedding (Gemma 2 and 3, Cohere, Granite); a value of None or 1 leaves them unchanged."""


def decoder_and_unembedding(model: Any) -> tuple[Any, Any] | None:
    """``model``'s decoder (input ids to final hidden states) and unembedding (hidden states
    to logits), or None where its logits are more than the unembedding of the decoder's
    output (see ``LOGIT_TRANSFORMS``) or it has no such parts (a proxy of several models).
    A PEFT model answers for the model it wraps, adapters included."""
    config = getattr(model, "config", None)
    if config is None:
        return None
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if any(getattr(text, name, None) not in (None, 1, 1.0) for name in LOGIT_TRANSFORMS):
        return None
    try:
        decoder, head = model.get_decoder(), model.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    if decoder is None or head is None or decoder is model:
        return None
    return decoder, head
