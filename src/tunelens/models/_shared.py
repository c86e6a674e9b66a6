"""A base model and its LoRA adapter from one copy of the base weights.

:func:`load_pair` loads a base/tuned pair. When the tuned model is a PEFT LoRA adapter
trained on the base being audited, the base is loaded once and the adapter is injected into
it unmerged; the pair is two views of that one module tree (:class:`SharedView`):

* the tuned view runs the model as it is, adapter on (each LoRA layer adds s·B·A·x to its
  base layer's output);
* the base view runs every forward with the adapter layers switched off, which makes each
  of them compute its base layer alone: the base model's outputs, exactly.

An 8B model in bfloat16 then needs 16 GB for the pair instead of 32. Everything else that
reads a model sees a plain causal LM: ``config``, ``generation_config``, ``model.layers``,
``get_input_embeddings()`` and the rest come from the injected model, and
``named_parameters()`` lists each view's effective weights under the plain model's names
(the base view: the base layers' own parameters; the tuned view: base + s·B·A, formed one
tensor at a time by peft's own merge on a copy), so weight comparisons and fingerprints give
what they give for a base and a merged adapter loaded apart.

One module tree means one set of modules: a forward hook registered on a layer through
either view fires for both, so register, run one view, remove (as every probe does).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tunelens.errors import TunelensError
from tunelens.models._embedded import EMBEDDED
from tunelens.models._loader import LoadedModel, LoadOptions, _adapter_base, load_model, resolve_load
from tunelens.models._refs import parse_ref


def model_identity(text: str) -> str:
    """A reference normalised for "is this the same model": files and directories by resolved
    path, an embedded model by its GGUF file (so ``embedded:NAME`` and that file's path, or the
    GGUF cache directory written from it, are one model), a hub id as written."""
    try:
        ref = parse_ref(text)
    except TunelensError:
        return text.strip()
    if ref.kind == "embedded":
        try:
            return f"file:{Path(EMBEDDED[ref.target]()).resolve()}"
        except TunelensError:
            return f"embedded:{ref.target}"
    if ref.kind == "gguf":
        return f"file:{Path(ref.target).resolve()}"
    if ref.kind == "directory":
        source = Path(ref.target) / "source.json"  # a GGUF cache directory names its file
        if source.is_file():
            try:
                return f"file:{Path(json.loads(source.read_text())['gguf']).resolve()}"
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return f"directory:{Path(ref.target).resolve()}"
    if ref.kind == "hub":
        return f"hub:{ref.target}"
    return f"{ref.kind}:{ref.text}"


def _unshareable(adapter_dir: Path) -> str | None:
    """Why an adapter cannot run on a shared base, from its config; None when it can."""
    try:
        config = json.loads((adapter_dir / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return "its adapter_config.json cannot be read"
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        return f"it is a {config.get('peft_type')} adapter, not LoRA"
    if config.get("use_dora"):
        return "it is a DoRA adapter"
    if config.get("lora_bias"):
        return "its LoRA layers train a bias"
    return None


def _switches(model: Any) -> list[Any]:
    """The modules that PEFT's adapter switch toggles: tuner layers and modules_to_save wrappers."""
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils.other import AuxiliaryTrainingWrapper

    return [m for m in model.modules() if isinstance(m, (BaseTunerLayer, AuxiliaryTrainingWrapper))]


def _unsupported_layers(model: Any) -> list[str]:
    """Injected modules the shared views do not handle (LoRA variants, trainable-token wrappers)."""
    from peft.tuners.tuners_utils import BaseTunerLayer
    from peft.utils.other import AuxiliaryTrainingWrapper, ModulesToSaveWrapper

    found = []
    for name, module in model.named_modules():
        if isinstance(module, BaseTunerLayer):
            if getattr(module, "lora_variant", None) or not hasattr(module, "merge"):
                found.append(name)
        elif isinstance(module, AuxiliaryTrainingWrapper) and not isinstance(module, ModulesToSaveWrapper):
            found.append(name)
    return found


class AdapterSwitch:
    """Turns every adapter layer of a PEFT model off for a block, and on again after.

    It sets the flag that ``PeftModel.disable_adapter()`` sets on each tuner layer and
    modules_to_save wrapper (``disable_adapters``, read by their forward), on a list of
    those modules made once. peft's context manager walks every module of the model and
    computes the model's status on each entry (22 ms on a 32-layer model with LoRA on all
    linear layers, measured on a 2-core CPU), which a decoding step cannot afford. Where a module does not
    keep the flag as ``_disable_adapters`` (another peft version), it falls back to
    ``disable_adapter()`` itself."""

    def __init__(self, peft_model: Any) -> None:
        self.peft_model = peft_model
        self.modules = _switches(peft_model)
        self.ids = {id(m) for m in self.modules}
        self.fast = all(self._flag_works(m) for m in self.modules)

    @staticmethod
    def _flag_works(module: Any) -> bool:
        if not hasattr(module, "_disable_adapters"):
            return False
        before = module._disable_adapters
        try:
            module._disable_adapters = True
            on = module.disable_adapters is True
            module._disable_adapters = False
            off = module.disable_adapters is False
        finally:
            module._disable_adapters = before
        return on and off

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        if not self.fast:
            with self.peft_model.disable_adapter():
                yield
            return
        before = [m._disable_adapters for m in self.modules]
        for module in self.modules:
            module._disable_adapters = True
        try:
            yield
        finally:
            for module, flag in zip(self.modules, before):
                module._disable_adapters = flag


class _AdapterOff:
    """A submodule handed out by a base view: calling it runs with the adapter off; every
    attribute is the submodule's own."""

    def __init__(self, module: Any, switch: AdapterSwitch) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_switch", switch)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._switch.off():
            return self._module(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_module"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._module, name, value)

    def __repr__(self) -> str:
        return f"AdapterOff({self._module!r})"


class SharedView:
    """One side of a shared pair: the injected causal LM run with the adapter on (tuned) or
    off (base). Anything not defined here is the injected model's own attribute."""

    def __init__(self, peft_model: Any, switch: AdapterSwitch, adapter_on: bool) -> None:
        self._peft = peft_model
        self._lm = peft_model.get_base_model()
        self._switch = switch
        self.adapter_on = adapter_on

    # --------------------------------------------------------------------- running
    def _state(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.adapter_on else self._switch.off()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with self._state():
            return self._lm(*args, **kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        with self._state():
            return self._lm.generate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("_peft", "_lm", "_switch", "adapter_on"):
            raise AttributeError(name)  # not set yet (copy, pickle): no delegation
        return self._wrap(getattr(self._lm, name))

    def _wrap(self, value: Any) -> Any:
        """A submodule holding adapter layers, as the base view must run it (adapter off)."""
        import torch

        if self.adapter_on or not isinstance(value, torch.nn.Module):
            return value
        if any(id(m) in self._switch.ids for m in value.modules()):
            return _AdapterOff(value, self._switch)
        return value

    def get_input_embeddings(self) -> Any:
        return self._wrap(self._lm.get_input_embeddings())

    def get_output_embeddings(self) -> Any:
        return self._wrap(self._lm.get_output_embeddings())

    def get_decoder(self) -> Any:
        return self._wrap(self._lm.get_decoder())

    def __repr__(self) -> str:
        side = "tuned (adapter on)" if self.adapter_on else "base (adapter off)"
        return f"SharedView[{side}] of {type(self._lm).__name__}"

    # --------------------------------------------------------------------- weights
    def _saved_module(self, wrapper: Any) -> Any:
        """The module a modules_to_save wrapper stands for in this view."""
        if self.adapter_on:
            active = wrapper.active_adapters[0] if wrapper.active_adapters else None
            if active is not None and active in wrapper.modules_to_save:
                return wrapper.modules_to_save[active]
        return wrapper.original_module

    def _walk(self, members: str) -> Iterator[tuple[str, Any, Callable[[], Any]]]:
        """(plain name, stored tensor, getter of the effective tensor) of every parameter
        (``members="_parameters"``) or buffer (``"_buffers"``), in ``named_parameters()``
        order of the model the view stands for, each tensor once (tied weights)."""
        from peft.tuners.tuners_utils import BaseTunerLayer
        from peft.utils.other import AuxiliaryTrainingWrapper

        seen_modules: set[int] = set()
        seen: set[int] = set()

        def visit(module: Any, prefix: str, tuner: Any = None) -> Iterator[tuple[str, Any, Callable[[], Any]]]:
            if id(module) in seen_modules:
                return
            seen_modules.add(id(module))
            if isinstance(module, BaseTunerLayer):
                yield from visit(module.get_base_layer(), prefix, module)
                return
            if isinstance(module, AuxiliaryTrainingWrapper):
                yield from visit(self._saved_module(module), prefix)
                return
            for name, tensor in getattr(module, members).items():
                if tensor is None or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                merged = tuner is not None and self.adapter_on and members == "_parameters" and name == "weight"
                getter = (lambda t=tuner: _merged_weight(t)) if merged else (lambda t=tensor: t)
                yield prefix + name, tensor, getter
            for name, child in module._modules.items():
                if child is not None:
                    yield from visit(child, f"{prefix}{name}.")

        yield from visit(self._lm, "")

    def named_weight_getters(self) -> list[tuple[str, Callable[[], Any]]]:
        """(name, getter) of every effective weight, for readers that take one tensor at a time
        (``tunelens.weights.ModuleSource``): the tuned view's merged tensors are formed on
        request, never all at once."""
        return [(name, getter) for name, _, getter in self._walk("_parameters")]

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        """The weights of the model this view stands for, under its plain names: the base
        layers' parameters, and in the tuned view base + s·B·A where an adapter acts (a new
        tensor each time, formed as peft's merge forms it)."""
        for name, _, getter in self._walk("_parameters"):
            yield prefix + name, getter()

    def parameters(self, recurse: bool = True) -> Iterator[Any]:
        for _, tensor in self.named_parameters():
            yield tensor

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        for name, tensor, _ in self._walk("_buffers"):
            yield prefix + name, tensor

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        for _, tensor in self.named_buffers():
            yield tensor

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        raise TunelensError(
            "a shared-base view holds no state dict of its own; load the pair with --no-share-base to save a model"
        )


def _merged_weight(layer: Any) -> Any:
    """The weight of ``layer``'s base layer with its active adapters merged, as
    ``merge_and_unload`` would leave it: peft's own ``merge`` run on a copy of the weight,
    which is then put back, so the shared weights never change. Quantized (bitsandbytes)
    weights are dequantized and the deltas added in their compute dtype instead (not
    requantized, so not bit-equal to a merged quantized model)."""
    import torch

    base = layer.get_base_layer()
    weight = base.weight
    with torch.inference_mode(False), torch.no_grad():
        if type(weight).__name__ in ("Params4bit", "Int8Params") or not weight.is_floating_point():
            from peft.utils.integrations import dequantize_module_weight

            merged = dequantize_module_weight(base).detach().clone()
            for adapter in layer.active_adapters:
                if adapter in getattr(layer, "lora_A", {}) or adapter in getattr(layer, "lora_embedding_A", {}):
                    merged += layer.get_delta_weight(adapter).to(merged.dtype)
            return merged
        stored = weight.data
        merged_before = list(layer.merged_adapters)
        weight.data = stored.clone()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer.merge()
            return weight.data
        finally:
            weight.data = stored
            layer.merged_adapters[:] = merged_before


def _share(
    base_ref: str, tuned_ref: str, adapter_dir: Path, adapter_base: str, options: LoadOptions
) -> tuple[LoadedModel, LoadedModel | None]:
    """The two views; or the base as loaded and None when the adapter turns out to hold layers
    the views do not handle (the base is left as it was loaded)."""
    try:
        from peft import PeftModel
    except ImportError:
        raise TunelensError("loading an adapter needs the peft package: pip install peft") from None
    base = load_model(base_ref, options)
    try:
        peft_model = PeftModel.from_pretrained(base.model, str(adapter_dir))
    except (OSError, ValueError) as exc:
        raise TunelensError(f"could not load adapter {tuned_ref}: {exc}".splitlines()[0]) from None
    if _unsupported_layers(peft_model):
        peft_model.unload()  # the base modules back, unmerged
        return base, None
    peft_model.eval()
    peft_model.requires_grad_(False)
    switch = AdapterSwitch(peft_model)
    base_view = LoadedModel(
        ref=base.ref,
        kind=base.kind,
        model=SharedView(peft_model, switch, adapter_on=False),
        tokenizer=base.tokenizer,
        extra={**base.extra, "shared_base": True},
    )
    tuned_view = LoadedModel(
        ref=tuned_ref,
        kind="adapter",
        model=SharedView(peft_model, switch, adapter_on=True),
        tokenizer=base.tokenizer,
        extra={"base_ref": adapter_base, "shared_base": True},
    )
    return base_view, tuned_view


def load_pair(base_ref: str, tuned_ref: str, options: LoadOptions = LoadOptions()) -> tuple[LoadedModel, LoadedModel]:
    """Load the base and the tuned model of an audit.

    When the tuned reference is a LoRA adapter whose base (``tunelens.json``'s ``base_ref``,
    else ``adapter_config.json``'s ``base_model_name_or_path``) is the base being audited
    (:func:`model_identity`) and ``options.share_base`` resolves true (by default: on CUDA),
    the base is loaded once and both models are views of it (see the module docstring);
    both carry ``extra["shared_base"] = True``. Otherwise each is loaded on its own
    (:func:`~tunelens.models.load_model`), the adapter merged into its own copy of the base.
    Pass ``LoadOptions(share_base=False)`` to always load two copies."""
    resolved = resolve_load(options)
    tuned = parse_ref(tuned_ref)
    if resolved.share_base and tuned.kind == "adapter":
        adapter_dir = Path(tuned.target)
        adapter_base = _adapter_base(adapter_dir)
        if _unshareable(adapter_dir) is None and model_identity(adapter_base) == model_identity(base_ref):
            base, tuned_view = _share(base_ref, tuned_ref, adapter_dir, adapter_base, options)
            if tuned_view is not None:
                return base, tuned_view
            return base, load_model(tuned_ref, options)
    return load_model(base_ref, options), load_model(tuned_ref, options)
