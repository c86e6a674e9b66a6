"""Output directories: checked for writability before any expensive work starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tunelens.errors import TunelensError


def prepare_out_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and prove it is writable, or raise a one-line error."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe_file = tempfile.mkstemp(prefix=".tunelens-write-check-", dir=out)
        os.close(fd)
        os.unlink(probe_file)
    except OSError as exc:
        raise TunelensError(f"cannot write to output directory {out}: {exc.strerror or exc}; choose another with --out") from None
    return out
