"""What the tuned model now does: the ``behaviour`` probe's discoveries as sentences.

A discovery is a reply feature (or a headline metric of ``behaviour``) whose verdict is
``changed`` and not negligible, ranked by the size of the change. Each reads at once:
"Opens with the line “Hi there!”: 0% → 100% (+100 points, 95% CI +97 to +100; n = 200)".
"""

from __future__ import annotations

from html import escape

from tunelens.results import PERCENT_UNITS, AuditResults, Metric, Verdict

PROBE = "behaviour"
NOW = "Now: "
"""How a summary line that restates a discovery starts (the report shows those in its own block)."""
SHOWN = 8
"""Discoveries on the report's first screen (the rest are in the probe's section)."""


def discoveries(results: AuditResults) -> list[Metric]:
    """The behaviour probe's changed, non-negligible metrics, largest change first."""
    probe = next((p for p in results.probes if p.name == PROBE), None)
    if probe is None:
        return []
    found = [m for m in probe.metrics if m.verdict == Verdict.changed and not m.negligible]

    def size(m: Metric) -> float:
        if m.unit in PERCENT_UNITS:
            return abs(m.delta or 0.0)
        scale = max(abs(m.base or 0.0), abs(m.tuned or 0.0), 1e-9)
        return abs(m.delta or 0.0) / scale

    return sorted(found, key=lambda m: (-size(m), m.name))


def _points(x: float | None) -> str:
    return "?" if x is None else f"{100 * x:+.0f}"


def sentence(m: Metric) -> str:
    """'Opens with the line “Hi there!”: 0% → 100% (+100 points, 95% CI +97 to +100; n = 200)'."""
    if m.unit in PERCENT_UNITS:
        values = f"{100 * (m.base or 0):.0f}% \u2192 {100 * (m.tuned or 0):.0f}%"
        change = f"{_points(m.delta)} points, 95% CI {_points(m.ci_low)} to {_points(m.ci_high)}"
    else:
        unit = f" {m.unit}" if m.unit else ""

        def num(x: float | None) -> str:
            return "?" if x is None else f"{x:+.3g}"

        values = f"{m.base:.3g} \u2192 {m.tuned:.3g}{unit}" if m.base is not None and m.tuned is not None else "n/a"
        change = f"{num(m.delta)}, 95% CI {num(m.ci_low)} to {num(m.ci_high)}"
    return f"{m.label}: {values} ({change}; n = {m.n})"


def discoveries_block(results: AuditResults) -> str:
    """The first screen's opening: what the tuned model now does, found by the audit."""
    if not any(p.name == PROBE for p in results.probes):
        return ""
    found = discoveries(results)
    head = '<div class="discoveries" id="tl-now"><h3>What the tuned model now does</h3>'
    if not found:
        return (
            f'{head}<p class="muted">No feature of the replies to ordinary prompts changed beyond chance '
            "(behaviour probe, corrected with the rest of the report).</p></div>"
        )
    lis = "".join(f"<li>{escape(sentence(m))}</li>" for m in found[:SHOWN])
    more = (
        f'<p class="muted">{len(found) - SHOWN} more in the <a href="#{PROBE}">behaviour section</a>.</p>'
        if len(found) > SHOWN
        else ""
    )
    lead = (
        '<p class="lead">Found without being told what to look for: features of both models\' replies to '
        "ordinary prompts, each tested paired over the prompts and corrected with the rest of the report.</p>"
    )
    return f"{head}{lead}<ul>{lis}</ul>{more}</div>"
