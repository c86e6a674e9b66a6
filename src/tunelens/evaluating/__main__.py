"""``python -m tunelens.evaluating ARGS``: lm-eval's own command line with the ``tunelens`` model type.

The arguments are lm-eval's, unchanged (``run``, ``ls``, ``validate`` or the legacy form
without a subcommand)::

    python -m tunelens.evaluating --model tunelens --model_args pretrained=embedded:smollm2-135m-instruct \\
        --tasks arc_easy --limit 100 --output_path out --log_samples

lm-eval 0.4.13 finds model types only in its own registry (``lm_eval/models/__init__.py``
lists its models; it reads no entry-point group), so ``lm_eval --model tunelens`` cannot
find ours without code that runs at interpreter start-up (a ``.pth`` hook), which tunelens
does not install. This module registers the model and hands over to lm-eval's CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    from tunelens.errors import TunelensError
    from tunelens.evaluating._harness import register

    try:
        register()
    except TunelensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    from lm_eval.__main__ import cli_evaluate

    sys.argv[0] = "python -m tunelens.evaluating"
    try:
        cli_evaluate()
    except TunelensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
