"""The HTML report: one self-contained file rendered from an audit's results alone.

from tunelens.results import load_results
from tunelens.report import write_report
write_report(load_results("results.json"), "report.html")
"""

from __future__ import annotations

from pathlib import Path

from tunelens.outdir import atomic_write_text
from tunelens.report._discoveries import NOW, discoveries
from tunelens.report._discoveries import sentence as discovery_sentence
from tunelens.report._html import html_document, render_html
from tunelens.report._sections import table
from tunelens.report._trajectory import render_trajectory, write_trajectory_report
from tunelens.results import AuditResults

__all__ = [
    "NOW",
    "discoveries",
    "discovery_sentence",
    "html_document",
    "render_html",
    "render_trajectory",
    "table",
    "write_report",
    "write_trajectory_report",
]


def write_report(results: AuditResults, path: str | Path) -> Path:
    """Render ``results`` and write the page to ``path`` atomically; returns the path written.

    The page goes to a temporary file in the same directory, which is then renamed over
    ``path``, so a reader never sees half a report. Parent directories are created.
    """
    return atomic_write_text(Path(path), render_html(results))
