"""Output files and directories: writability checked before expensive work, files written atomically."""

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
        raise TunelensError(
            f"cannot write to output directory {out}: {exc.strerror or exc}; choose another with --out"
        ) from None
    return out


def atomic_write_text(path: Path, text: str) -> Path:
    """Write a file so a reader never sees half of it: a temp file in the same folder, then rename.

    The file is world-readable (0644), as results and reports are meant to be shared.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
