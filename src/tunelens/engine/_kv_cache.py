"""A key/value cache that reserves room for the decoding steps ahead.

transformers' ``DynamicLayer`` grows by ``torch.cat`` at every step, which copies the
whole cache of every layer once per generated token: on a CPU with a batch of 16 and a few
hundred tokens of context that copy was about a quarter of a decoding step. After the
prompt's forward pass, ``reserve`` swaps each full-attention layer for one whose buffers
already hold the prompt and ``steps`` more positions; a step then writes one column in
place and hands attention a view. Sliding-window layers (Gemma 3) are left as they are.
"""

from __future__ import annotations

from typing import Any

from transformers.cache_utils import DynamicLayer


class ReservedLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys and values are views into buffers of a fixed capacity;
    it falls back to growing (by doubling) if a caller writes past the reservation."""

    def __init__(self, layer: DynamicLayer, steps: int) -> None:
        super().__init__()
        keys, values = layer.keys, layer.values
        batch, heads, length, dim = keys.shape
        self._k = keys.new_empty(batch, heads, length + steps, dim)
        self._v = values.new_empty(batch, values.shape[1], length + steps, values.shape[-1])
        self._k[:, :, :length] = keys
        self._v[:, :, :length] = values
        self._length = length
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True
        self._expose()

    def _expose(self) -> None:
        self.keys = self._k[:, :, : self._length]
        self.values = self._v[:, :, : self._length]

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * self._k.shape[2])
        for name in ("_k", "_v"):
            old = getattr(self, name)
            new = old.new_empty(old.shape[0], old.shape[1], capacity, old.shape[3])
            new[:, :, : self._length] = old[:, :, : self._length]
            setattr(self, name, new)

    def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        end = self._length + key_states.shape[-2]
        if end > self._k.shape[2]:
            self._grow(end)
        self._k[:, :, self._length : end] = key_states
        self._v[:, :, self._length : end] = value_states
        self._length = end
        self._expose()
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self._length

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove < 0:
            self._length = max(0, self._length + tokens_to_remove)
            self._expose()
        else:
            super().crop(tokens_to_remove)

    def batch_select_indices(self, indices: Any) -> None:
        # Only the positions written so far are gathered; the rest of the reservation is new,
        # unwritten room (gathering whole buffers copied every reserved step of every row
        # each time a row finished).
        for name in ("_k", "_v"):
            old = getattr(self, name)
            new = old.new_empty(len(indices), *old.shape[1:])
            new[:, :, : self._length] = old[:, :, : self._length].index_select(0, indices)
            setattr(self, name, new)
        self._expose()

    def reorder_cache(self, beam_idx: Any) -> None:
        self.batch_select_indices(beam_idx.to(self._k.device))


def reserve(cache: Any, steps: int) -> Any:
    """Give every initialised full-attention layer of ``cache`` room for ``steps`` more
    positions; returns the same cache object. A proxy's cache reserves in each of its parts."""
    for part in getattr(cache, "caches", ()):
        reserve(part, steps)
    layers = getattr(cache, "layers", None)
    if layers is None or steps <= 0:
        return cache
    for i, layer in enumerate(layers):
        if type(layer) is DynamicLayer and layer.is_initialized and layer.keys is not None and layer.keys.dim() == 4:
            layers[i] = ReservedLayer(layer, steps)
    return cache
