"""The trajectory page: every headline metric of a run's checkpoints over training steps.

Each metric gets a line of its change from the base (tuned - base) at every checkpoint, with
the paired 95% interval as a band, a dashed line at the first checkpoint whose corrected
verdict is ``changed``, and a row per checkpoint in a table below (value, change, interval,
adjusted p, verdict), linking to that checkpoint's own report.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from tunelens.outdir import atomic_write_text
from tunelens.report._format import fmt_ci, fmt_date, fmt_delta, fmt_p, fmt_seconds, fmt_value
from tunelens.report._html import html_document
from tunelens.report._sections import table
from tunelens.report._svg import line_plot
from tunelens.results import Plot, Series, Trajectory, TrajectoryMetric

_CSS = (
    ".metric-row{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.25fr);gap:18px;align-items:start}"
    "@media (max-width:900px){.metric-row{grid-template-columns:1fr}}"
)

_VERDICT_CLASS = {"changed": "changed", "equivalent": "equivalent", "inconclusive": "inconclusive"}


def _plot(metric: TrajectoryMetric, x_label: str) -> str:
    points = [p for p in metric.points if p.step is not None]
    plot = Plot(
        id=f"trajectory-{metric.probe}-{metric.name}",
        title=f"{metric.label}: change from the base",
        kind="line",
        x_label=x_label,
        y_label=f"tuned - base ({metric.unit})" if metric.unit else "tuned - base",
        series=[
            Series(
                name="change (95% paired interval)",
                x=[float(p.step) for p in points],  # type: ignore[arg-type]
                y=[p.delta for p in points],
                y_low=[p.ci_low for p in points],
                y_high=[p.ci_high for p in points],
            ),
            Series(name="no change", x=[float(p.step) for p in points], y=[0.0 for _ in points]),  # type: ignore[arg-type]
        ],
        x_refs=[float(metric.first_changed)] if metric.first_changed is not None else [],
        caption=(
            f"First changed at {x_label.lower()} {metric.first_changed} (dashed)."
            if metric.first_changed is not None
            else "No checkpoint changed this metric (corrected over every checkpoint)."
        ),
    )
    return line_plot(plot)


def _rows(metric: TrajectoryMetric, folders: dict[str, str]) -> list[str]:
    rows = []
    for p in metric.points:
        verdict = p.verdict or ""
        link = folders.get(p.checkpoint, "")
        where = f'<a href="{escape(link)}/report.html">{escape(str(p.step))}</a>' if link else escape(str(p.step))
        rows.append(
            "<tr>"
            f"<td>{where}</td>"
            f'<td class="num">{fmt_value(p.base, metric.unit)}</td>'
            f'<td class="num">{fmt_value(p.tuned, metric.unit)}</td>'
            f'<td class="num">{fmt_delta(p.delta, metric.unit)}</td>'
            f'<td class="num">{fmt_ci(p.ci_low, p.ci_high, metric.unit)}</td>'
            f'<td class="num">{fmt_p(p.p_adjusted)}</td>'
            f'<td class="num">{p.n}</td>'
            f'<td><span class="badge {_VERDICT_CLASS.get(verdict, "descriptive")}">{escape(verdict or "—")}</span></td>'
            "</tr>"
        )
    return rows


def render_trajectory(trajectory: Trajectory) -> str:
    """The trajectory page as one HTML document, from ``trajectory`` alone."""
    has_steps = all(s is not None for s in trajectory.steps)
    x_label = "Step" if has_steps else "Checkpoint"
    folders = dict(zip(trajectory.checkpoints, trajectory.folders))
    changed = [m for m in trajectory.metrics if m.first_changed is not None]
    head = [
        '<header class="masthead"><div class="wrap">',
        f"<h1>tunelens trajectory: {escape(trajectory.base.ref)}</h1>",
        f"<p>{len(trajectory.checkpoints)} checkpoints"
        + (f" of {escape(trajectory.run)}" if trajectory.run else "")
        + f" audited against the base \u00b7 {escape(fmt_date(trajectory.created))} \u00b7 "
        f"{escape(fmt_seconds(trajectory.seconds))} \u00b7 {escape(trajectory.executor)}</p>",
        "</div></header>",
        '<main class="wrap">',
        "<section><h2>What changed, and when</h2>",
        f"<p>{escape(trajectory.correction)}</p>",
    ]
    if changed:
        items = "".join(
            f"<li>{escape(m.label)} ({escape(m.probe)}): first changed at {x_label.lower()} {m.first_changed}</li>"
            for m in changed
        )
        head.append(f"<ul>{items}</ul>")
    else:
        head.append("<p>No headline metric changed at any checkpoint.</p>")
    head += [f"<p>{escape(n)}</p>" for n in trajectory.notes]
    ckpts = "".join(
        f'<li><a href="{escape(f)}/report.html">{escape(x_label)} {escape(str(s))}</a>: <code>{escape(c)}</code></li>'
        for c, s, f in zip(trajectory.checkpoints, trajectory.steps, trajectory.folders)
    )
    head.append(f"<details><summary>Checkpoints and their reports</summary><ul>{ckpts}</ul></details></section>")
    body = []
    columns = [
        (x_label, ""),
        ("Base", "num"),
        ("Tuned", "num"),
        ("Change", "num"),
        ("95% interval", "num"),
        ("p (adj.)", "num"),
        ("n", "num"),
        ("Verdict", ""),
    ]
    for m in trajectory.metrics:
        body += [
            f'<section id="{escape(m.probe)}-{escape(m.name)}"><h2>{escape(m.label)}</h2>',
            f"<p>Probe {escape(m.probe)}; headline metric <code>{escape(m.name)}</code>.</p>",
            f'<div class="metric-row"><div>{_plot(m, x_label)}</div>',
            f"<div>{table('metrics', columns, _rows(m, folders))}</div></div>",
            "</section>",
        ]
    foot = [
        f'</main><footer class="wrap">trajectory schema {escape(trajectory.schema_version)} \u00b7 '
        f"tunelens {escape(trajectory.tunelens_version)} \u00b7 Every number here is read from trajectory.json"
        "</footer>"
    ]
    return html_document(f"tunelens trajectory: {trajectory.base.ref}", [*head, *body, *foot], extra_css=_CSS)


def write_trajectory_report(trajectory: Trajectory, path: str | Path) -> Path:
    """Write :func:`render_trajectory` to ``path`` atomically."""
    return atomic_write_text(Path(path), render_trajectory(trajectory))


__all__ = ["render_trajectory", "write_trajectory_report"]
