"""lm-evaluation-harness is an optional extra: import it only here, with an error that says how to get it."""

from __future__ import annotations

from types import ModuleType

from tunelens.errors import TunelensError

INSTALL_HINT = "pip install 'tunelens[lm-eval]'"


def require_lm_eval() -> ModuleType:
    """The ``lm_eval`` package, or a TunelensError saying how to install it."""
    try:
        import lm_eval
        import lm_eval.api.model  # noqa: F401  (fails on a broken install, not later mid-run)
    except ImportError as exc:
        raise TunelensError(
            f"this needs lm-evaluation-harness, which is not installed ({exc}); install it with {INSTALL_HINT}"
        ) from None
    return lm_eval


def register() -> type:
    """Register the ``tunelens`` model type with lm-eval's model registry and return its class.

    lm-eval fills its registry with its own models only when the registry is empty, so its
    models are registered first; otherwise ``--model hf`` would stop working in this process."""
    require_lm_eval()
    import lm_eval.models  # noqa: F401  (lm-eval's own model names, registered lazily)

    from tunelens.evaluating._model import TunelensLM  # registers itself on import

    return TunelensLM
