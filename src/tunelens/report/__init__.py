"""The HTML report: one self-contained file rendered from an audit's results alone.

from tunelens.results import load_results
from tunelens.report import write_report
write_report(load_results("results.json"), "report.html")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tunelens.report._html import render_html
from tunelens.results import AuditResults

__all__ = ["render_html", "write_report"]


def write_report(results: AuditResults, path: str | Path) -> Path:
    """Render ``results`` and write the page to ``path`` atomically; returns the path written.

    The page goes to a temporary file in the same directory, which is then renamed over
    ``path``, so a reader never sees half a report. Parent directories are created.
    """
    path = Path(path)
    text = render_html(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a report is meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
