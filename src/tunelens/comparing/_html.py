"""Render a comparison as one self-contained HTML page in the report's house style.

The first screen is what a choice needs: a sentence per method, the gain-versus-cost
table (each cell the method's value and its change from the base with the paired 95%
interval, coloured only where the audit's corrected test stands behind the change) and
the trade-off plots. Below: the stale-fact update and links to each method's own report.
Built from ``ComparisonResults`` alone; every string from the data is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from tunelens.comparing._schema import Cell, Column, ComparisonResults, MethodRow
from tunelens.comparing._versus import VERDICT_WORDS
from tunelens.outdir import atomic_write_text
from tunelens.report import html_document, table
from tunelens.report._axes import linear_axis
from tunelens.report._format import DASH, fmt_ci, fmt_date, fmt_delta, fmt_p, fmt_seconds, fmt_value
from tunelens.report._svg import HEIGHT, WIDTH, _frame, _svg, colour
from tunelens.results import Plot

_EXTRA_CSS = """
table.compare td{vertical-align:top}table.compare td.m{font-weight:600;white-space:nowrap}
table.compare .v{display:block;font-variant-numeric:tabular-nums;white-space:nowrap}
table.compare .d{display:block;font-size:12.5px;white-space:nowrap}
table.compare .d.better{color:var(--better)}table.compare .d.worse{color:var(--worse)}
table.compare .vs{margin-top:4px}
table.compare .ci{display:block;font-size:11.5px;color:var(--muted);white-space:nowrap}
table.compare th.gain{border-bottom:3px solid var(--better)}table.compare th.cost{border-bottom:3px solid var(--worse)}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px}
.how{color:var(--muted);font-size:13.5px}.how li{margin:3px 0}
"""

_STAGES = {"base": "base model", "first": "after the first fine-tune", "update": "after the update"}
_SHEET_STAGES = {"base": "base model", "first": "fact sheet as trained", "update": "fact sheet edited"}

TRADE_OFFS = (
    ("forgetting.general_text_nll", "facts_vs_patterns.pattern_all"),
    ("forgetting.general_text_nll", "facts_vs_patterns.fact_recall"),
)


def _columns(r: ComparisonResults) -> dict[str, Column]:
    return {c.metric: c for c in r.columns}


def _tone(cell: Cell, column: Column) -> str:
    if cell.verdict != "changed" or cell.delta is None or column.higher_is_better is None:
        return "neutral"
    return "better" if (cell.delta > 0) == column.higher_is_better else "worse"


def _cell(cell: Cell | None, column: Column) -> str:
    if cell is None or cell.value is None:
        reason = cell.reason if cell and cell.reason else "not measured"
        return f'<td><span class="v">{DASH}</span><span class="ci">{escape(reason)}</span></td>'
    tone = _tone(cell, column)
    ci = fmt_ci(cell.ci_low, cell.ci_high, column.unit)
    return (
        f'<td><span class="v">{escape(fmt_value(cell.value, column.unit))}</span>'
        f'<span class="d {tone}">{escape(fmt_delta(cell.delta, column.unit))}</span>'
        f'<span class="ci">{escape(ci)} · n={cell.n}</span>{_versus(cell, column)}</td>'
    )


def _versus(cell: Cell, column: Column) -> str:
    """The cell's line against the reference method: a corrected verdict, or why there is none."""
    v = cell.versus
    if v is None:
        return ""
    if v.verdict == "not_paired":
        return f'<span class="ci vs" title="{escape(v.reason)}">vs {escape(v.reference)}: not paired</span>'
    delta = fmt_delta(v.delta, column.unit)
    p = f"p={fmt_p(v.p_adjusted)} Holm"
    if v.verdict in VERDICT_WORDS:
        tone = v.verdict if v.verdict in ("better", "worse") else ""
        return (
            f'<span class="d vs {tone}">{VERDICT_WORDS[v.verdict]} {escape(v.reference)}: {escape(delta)}</span>'
            f'<span class="ci">{escape(fmt_ci(v.ci_low, v.ci_high, column.unit))} · {escape(p)}</span>'
        )
    return f'<span class="ci vs">vs {escape(v.reference)}: {escape(delta)}, no difference shown ({escape(p)})</span>'


def _stale_cell(row: MethodRow) -> str:
    update = next((s for s in row.stale if s.stage == "update"), None)
    if update is None or update.share_new is None:
        return f'<td><span class="v">{DASH}</span></td>'
    ci = f"[{update.share_new_ci[0]:.0%}, {update.share_new_ci[1]:.0%}]" if update.share_new_ci else ""
    old = f"still says the old value in {update.says_old:.0%}" if update.says_old is not None else ""
    return (
        f'<td><span class="v">{update.share_new:.0%}</span><span class="d">{escape(old)}</span>'
        f'<span class="ci">{escape(ci)} · n={len(update.facts)}</span></td>'
    )


def _table(r: ComparisonResults) -> str:
    columns = [("Method", ""), *((c.label, c.side) for c in r.columns)]
    if any(row.stale for row in r.methods):
        columns.append(("Update taken: P(new) share", "gain"))
    columns.append(("Training", "num"))
    rows = []
    for row in r.methods:
        if row.error:
            span = len(columns) - 1
            rows.append(
                f'<tr><td class="m">{escape(row.method)}</td><td colspan="{span}">failed: {escape(row.error)}</td></tr>'
            )
            continue
        cells = [f'<td class="m">{escape(row.method)}</td>']
        cells += [_cell(row.cells.get(c.metric), c) for c in r.columns]
        if any(m.stale for m in r.methods):
            cells.append(_stale_cell(row))
        train = fmt_seconds(row.train_seconds) if row.train_seconds else "none"
        params = f"{row.trainable_params:,} weights" if row.trainable_params else "no weight"
        reused = " (reused)" if row.reused else ""
        cells.append(
            f'<td class="num"><span class="v">{escape(train + reused)}</span><span class="ci">{params}</span></td>'
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return table("compare", columns, rows)


def trade_off_svg(r: ComparisonResults, x_metric: str, y_metric: str) -> str:
    """One point per method at (change in cost, change in gain), with both intervals as whiskers."""
    cols = _columns(r)
    xc, yc = cols[x_metric], cols[y_metric]
    points = []
    for i, row in enumerate(r.methods):
        x, y = row.cells.get(x_metric), row.cells.get(y_metric)
        if x and y and x.delta is not None and y.delta is not None:
            points.append((i, row.method, x, y))
    plot = Plot(
        id=f"{x_metric}-{y_metric}",
        title=f"{yc.label} against {xc.label.lower()}",
        kind="line",
        x_label=f"change in {xc.label.lower()}" + (f" ({xc.unit})" if xc.unit and xc.unit != "accuracy" else ""),
        y_label=f"change in {yc.label.lower()}",
        series=[],
    )
    if not points:
        return _svg(plot, [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data to plot</text>'])

    def span(cells: Sequence[Cell]) -> tuple[float, float]:
        values = [v for c in cells for v in (c.delta, c.ci_low, c.ci_high) if v is not None] + [0.0]
        return min(values), max(values)

    x_axis = linear_axis(*span([p[2] for p in points]), 74.0, WIDTH - 24.0)
    y_axis = linear_axis(*span([p[3] for p in points]), HEIGHT - 62.0, 18.0)
    body = _frame(plot, x_axis, y_axis, 18.0, False)
    zero_x, zero_y = x_axis(0.0), y_axis(0.0)
    body.append(
        f'<g stroke="#8a939c" stroke-dasharray="4 3"><line x1="{zero_x:.1f}" x2="{zero_x:.1f}" y1="18" '
        f'y2="{HEIGHT - 62}"/><line x1="74" x2="{WIDTH - 24}" y1="{zero_y:.1f}" y2="{zero_y:.1f}"/></g>'
    )
    for i, name, x, y in points:
        c, px, py = colour(i + 2), x_axis(x.delta), y_axis(y.delta)
        parts = [f'<g stroke="{c}" stroke-width="1.6">']
        if x.ci_low is not None and x.ci_high is not None:
            x0, x1 = x_axis(x.ci_low), x_axis(x.ci_high)
            parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{py:.1f}" y2="{py:.1f}"/>')
        if y.ci_low is not None and y.ci_high is not None:
            y0, y1 = y_axis(y.ci_low), y_axis(y.ci_high)
            parts.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y0:.1f}" y2="{y1:.1f}"/>')
        parts.append("</g>")
        tip = f"{name}: {fmt_delta(x.delta, xc.unit)} / {fmt_delta(y.delta, yc.unit)}"
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5.5" fill="{c}" stroke="#fff">'
            f"<title>{escape(tip)}</title></circle>"
            f'<text x="{px + 8:.1f}" y="{py - 7:.1f}" fill="{c}" font-weight="600">{escape(name)}</text>'
        )
        body += parts
    return _svg(plot, body)


def _sentences(r: ComparisonResults) -> list[str]:
    """A line per method: what it gained and what it cost, from its cells."""
    cols = _columns(r)
    out = []
    for row in r.methods:
        if row.error:
            out.append(f"{row.method}: failed ({row.error}).")
            continue
        gains, costs = [], []
        for metric, cell in row.cells.items():
            column = cols.get(metric)
            if column is None or cell.delta is None:
                continue
            tone = _tone(cell, column)
            text = f"{column.label.lower()} {fmt_delta(cell.delta, column.unit)}"
            if tone == "better":
                gains.append(text)
            elif tone == "worse":
                costs.append(text)
        gained = ", ".join(gains) if gains else "no significant gain"
        cost = ", ".join(costs) if costs else "no significant cost among the measured"
        out.append(f"{row.method}: {gained}; cost: {cost}.")
    return out


def _how_to_read() -> str:
    return (
        '<ul class="how">'
        "<li>Each cell: the method's value, its change from the base, and the paired 95% interval of that change "
        "(n items). Green or red only when the change is changed in the method's audit (after its corrections); "
        "uncoloured changes may be noise.</li>"
        "<li>Gains (green rule) are what the fine-tune was for: the house style on held-out prompts and the "
        "trained facts recalled in chat. Costs (red rule) are what it was not meant to touch: loss on general text, "
        "world facts, instruction following, arithmetic, whether the model still follows a context that "
        "contradicts its memory, and how much and where the weights moved.</li>"
        "<li>In the plots, up is more gain and left is less forgetting: the best trade sits top-left; whiskers are "
        "the intervals. A method whose whiskers cross zero has not shown that effect.</li>"
        "<li>A line <i>better than / worse than REF</i> is a paired test of the method against the reference "
        "method on the same items (exact McNemar for right/wrong items, sign-flip or paired t for scores), "
        "Holm-corrected over every such test in the table; <i>no difference shown</i> means the test did not "
        "reach 0.05 after correction, and <i>not paired</i> that the two audits kept different items.</li>"
        "<li>Retrieval changes no weight: it places the data's facts in the prompt, so it has no locality and its "
        "general-text loss is the base's by construction; its costs show in chat (longer prompts, distraction).</li>"
        "</ul>"
    )


def _stale_section(r: ComparisonResults) -> str:
    if not any(row.stale for row in r.methods):
        return ""
    head = [("Method", ""), ("Stage", ""), ("P(new) share", "num"), ("95% CI", "num")]
    head += [("Says old", "num"), ("Says new", "num")]
    rows = []
    for row in r.methods:
        for stage in row.stale:
            ci = f"[{stage.share_new_ci[0]:.0%}, {stage.share_new_ci[1]:.0%}]" if stage.share_new_ci else DASH
            share = DASH if stage.share_new is None else f"{stage.share_new:.0%}"
            old = DASH if stage.says_old is None else f"{stage.says_old:.0%}"
            new = DASH if stage.says_new is None else f"{stage.says_new:.0%}"
            label = _STAGES[stage.stage] if row.changes_weights else _SHEET_STAGES[stage.stage]
            rows.append(
                f'<tr><td class="m">{escape(row.method)}</td><td>{escape(label)}</td><td class="num">{share}</td>'
                f'<td class="num">{ci}</td><td class="num">{old}</td><td class="num">{new}</td></tr>'
            )
    changed = "".join(f"<li>{escape(c)}</li>" for c in r.changed_facts)
    n = len(r.changed_facts)
    return (
        '<section id="tl-stale"><h2>Stale facts: taking an update</h2>'
        f"<p>After the first fine-tune, {n} fact{'s' if n != 1 else ''} changed value:</p><ul>{changed}</ul>"
        f"<p>Each weight method then trained a second time, from its first result, on the update "
        f"({escape(r.update_data or '')}); retrieval edited its fact sheet instead. "
        "<b>P(new) share</b> is P(new value) / (P(old) + P(new)) where the model states the fact in a chat reply "
        "(1 = fully updated); <b>says old / new</b> is the share of greedy chat replies stating each value. "
        f"With {n} facts the intervals are wide: read the direction, not the decimals.</p>"
        f"{table('stale', head, rows)}</section>"
    )


def _reports(r: ComparisonResults, page: Path | None) -> str:
    items = []
    for row in r.methods:
        if not row.audit_dir:
            continue
        report = Path(row.audit_dir) / "report.html"
        href = os.path.relpath(report, page.parent) if page else str(report)
        took = f"audit {fmt_seconds(row.audit_seconds)}" if row.audit_seconds else ""
        items.append(
            f'<li><a href="{escape(href)}">{escape(row.method)}</a> <small>{escape(row.ref)} · {took}</small></li>'
        )
    return f'<section id="tl-reports"><h2>Each method\'s full audit</h2><ul>{"".join(items)}</ul></section>'


def render_comparison_html(r: ComparisonResults, page: Path | None = None) -> str:
    meta = [
        fmt_date(r.created),
        f"{r.n_examples} examples ({r.data})",
        f"task {r.task}",
        f"seed {r.seed}",
        f"ran in {fmt_seconds(r.seconds)}",
    ]
    masthead = (
        '<header class="masthead"><div class="wrap"><div class="brand">tunelens compare</div>'
        f"<h1>{escape(r.base)}: {len(r.methods)} ways to adapt it</h1>"
        f'<p class="meta">{"".join(f"<span>{escape(m)}</span>" for m in meta)}</p></div></header>'
    )
    summary = "".join(f"<li>{escape(s)}</li>" for s in _sentences(r))
    plots = "".join(
        f"<figure><h4>{escape(_columns(r)[y].label)} against {escape(_columns(r)[x].label.lower())}</h4>"
        f"{trade_off_svg(r, x, y)}</figure>"
        for x, y in TRADE_OFFS
        if x in _columns(r) and y in _columns(r)
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in r.notes)
    first = (
        '<section class="first" id="tl-choose"><h2>Gain against cost, per method</h2>'
        f'<ul class="summary">{summary}</ul>{_table(r)}<div class="plots">{plots}</div>'
        f"{_how_to_read()}{f'<ul class=how>{notes}</ul>' if notes else ''}</section>"
    )
    body = [masthead, '<main class="wrap">', first, _stale_section(r), _reports(r, page), "</main>"]
    return html_document(f"tunelens compare: {r.base}", body, _EXTRA_CSS)


def write_comparison_html(results: ComparisonResults, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, render_comparison_html(results, path))
    return path
