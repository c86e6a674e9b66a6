"""HTML for the report's body sections: how the model was tuned, and one section per probe.

Every string taken from results (labels, descriptions, prompts, model outputs) goes
through ``html.escape``; numbers go through ``_format``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from tunelens.report._format import (
    DASH,
    TEST_LABELS,
    VERDICT_LABELS,
    arrow,
    direction,
    fmt_ci,
    fmt_compact,
    fmt_count,
    fmt_delta,
    fmt_num,
    fmt_p,
    fmt_score,
    fmt_seconds,
    fmt_size,
    fmt_value,
    is_descriptive,
    is_number,
    is_percent,
    verdict_of,
)
from tunelens.report._svg import render_plot
from tunelens.results import ItemRecord, Metric, Plot, ProbeResult, Series, Table, TrainingInfo, Verdict

MAX_ITEMS = 200  # items shown per probe; the rest stay in results.json
MAX_CONFIG_CHARS = 300


def anchor(name: str) -> str:
    """The href pointing at a probe's section (whose id is the probe name)."""
    return "#" + escape(quote(name, safe=""))


def label_cell(m: Metric, probe_title: str | None = None, group: bool = False) -> str:
    """The metric's label with its unit (a star for a headline metric), and optionally a link to
    its probe or (``group``) its sub-group on a line of its own."""
    unit = "" if is_percent(m.unit) or not m.unit else f"<small>{escape(m.unit)}</small>"
    if m.headline:
        unit = '<span class="star" title="headline metric (confirmatory family)">★</span>' + unit
    link = ""
    if probe_title is not None:
        where = probe_title + (f" \u00b7 {m.group}" if m.group else "")
        link = f'<a class="probe" href="{anchor(m.probe)}">{escape(where)}</a>'
    if group and m.group and probe_title is None:
        link = f'<span class="grp">{escape(m.group)}</span>'
    return f'<td class="lbl">{escape(m.label)}{unit}{link}</td>'


def tone(m: Metric) -> str:
    """'better', 'worse' or 'neutral' for colouring; only a change the test stands behind is coloured."""
    return direction(m) if verdict_of(m) is Verdict.changed else "neutral"


def delta_cell(m: Metric) -> str:
    """The signed change with an arrow, coloured and worded by whether it is an improvement."""
    way = tone(m)
    small = f"<small>{way}</small>" if way != "neutral" else ""
    text = f"{arrow(m)} {fmt_delta(m.delta, m.unit)}" if is_number(m.delta) else DASH
    return f'<td class="num"><span class="delta {way}">{escape(text)}{small}</span></td>'


def verdict_badge(m: Metric) -> str:
    """A pill saying changed / equivalent / inconclusive (changed coloured by direction, with
    the mark *negligible* when its whole 90% interval lies inside the margin), or
    'descriptive' for a metric that carries no test. An inconclusive verdict says why."""
    v = verdict_of(m)
    if v is None:
        return '<span class="badge descriptive">descriptive</span>'
    extra = f" {tone(m)}" if v is Verdict.changed else ""
    badge = f'<span class="badge {v.value}{extra}">{VERDICT_LABELS[v]}</span>'
    if v is Verdict.changed and m.negligible:
        tip = "the whole 90% interval lies inside the margin"
        badge += f' <span class="mark negligible" title="{tip}">negligible</span>'
    if v is Verdict.inconclusive and m.reason:
        badge += f'<small class="why">{escape(m.reason)}</small>'
    return badge


def _num(text: str) -> str:
    return f'<td class="num">{escape(text)}</td>'


def table(cls: str, columns: Sequence[tuple[str, str]], rows: Sequence[str]) -> str:
    """A scrollable table: ``columns`` are (heading, class) pairs, ``rows`` ready-made ``<tr>`` elements."""
    head = "".join(f'<th class="{c}">{escape(h)}</th>' if c else f"<th>{escape(h)}</th>" for h, c in columns)
    return (
        f'<div class="tablewrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def metrics_table(metrics: list[Metric]) -> str:
    """Every metric of a probe with its paired test and verdict; headline metrics first.

    'MDE' is the minimum detectable effect (80% power at this n, corrected level); 'Equiv. at'
    the smallest margin this n shows equivalent when nothing changed; the unadjusted p is the
    adjusted p's tooltip."""
    metrics = sorted(metrics, key=lambda m: not m.headline)
    if not metrics:
        return '<p class="muted">This probe reported no metrics.</p>'
    columns = [
        ("Metric", ""),
        ("Base", "num"),
        ("Tuned", "num"),
        ("Change", "num"),
        ("95% CI", "num"),
        ("n", "num"),
        ("Test", ""),
        ("adj. p", "num"),
        ("Margin", "num"),
        ("MDE", "num"),
        ("Equiv. at", "num"),
        ("Verdict", ""),
    ]
    rows = []
    for m in metrics:
        cells = [label_cell(m, group=True)]
        cells += [
            _num(fmt_value(m.base, m.unit)),
            _num(fmt_value(m.tuned, m.unit)),
            delta_cell(m),
            _num(fmt_ci(m.ci_low, m.ci_high, m.unit)),
            _num(fmt_count(m.n)),
            f"<td>{escape(TEST_LABELS.get(m.test, m.test))}</td>",
            f'<td class="num" title="unadjusted p = {escape(fmt_p(m.p_value))}">{escape(fmt_p(m.p_adjusted))}</td>',
            _num(fmt_size(m.margin, m.unit) if not is_descriptive(m) else DASH),
            _num(fmt_size(m.mde, m.unit) if not is_descriptive(m) else DASH),
            _num(fmt_size(m.equivalence_reach, m.unit) if not is_descriptive(m) else DASH),
            f"<td>{verdict_badge(m)}</td>",
        ]
        rows.append(f'<tr class="{tone(m)}">{"".join(cells)}</tr>')
    return table("metrics", columns, rows)


def text_table(t: Table) -> str:
    """A probe's table of text, cells as they are."""
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    caption = f'<p class="caption">{escape(t.caption)}</p>' if t.caption else ""
    return (
        f'<h3 id="{escape(t.id)}">{escape(t.title)}</h3><div class="scroll"><table class="text">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{caption}"
    )


def figure(plot: Plot, owner: str) -> str:
    """One plot with its title and caption; its id is prefixed by its owner's so ids stay unique."""
    caption = f"<figcaption>{escape(plot.caption)}</figcaption>" if plot.caption else ""
    heading = f"<h4>{escape(plot.title)}</h4>"
    return f'<figure id="{escape(owner)}-{escape(plot.id)}">{heading}{render_plot(plot)}{caption}</figure>'


def marked(text: str, span: object = None) -> str:
    """Escaped text with the character span ``[start, end)`` (an item's ``extra["highlight"]``,
    e.g. the token a probe points at) wrapped in ``<mark>``; a span that does not fit is ignored."""
    if isinstance(span, list) and len(span) == 2 and all(type(v) is int for v in span):
        start, end = span
        if 0 <= start <= end <= len(text):
            return f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"
    return escape(text)


def _clip(text: str | None, span: object = None) -> str:
    if text is None:
        return f'<td class="muted">{DASH}</td>'
    return f'<td><div class="clip">{marked(text, span)}</div></td>'


def _differs(item: ItemRecord) -> bool:
    return is_number(item.base_score) and is_number(item.tuned_score) and item.base_score != item.tuned_score


def _shown_items(items: list[ItemRecord], limit: int) -> list[ItemRecord]:
    """At most ``limit`` items in their original order, preferring those whose scores differ."""
    if len(items) <= limit:
        return items
    ranked = sorted(range(len(items)), key=lambda i: (not _differs(items[i]), i))[:limit]
    return [items[i] for i in sorted(ranked)]


def items_details(items: list[ItemRecord], limit: int = MAX_ITEMS) -> str:
    """The items behind a probe's numbers, folded away in a <details> table."""
    if not items:
        return ""
    shown = _shown_items(items, limit)
    n_diff = sum(_differs(i) for i in items)
    summary = f"Items ({fmt_count(len(items))}; scores differ on {fmt_count(n_diff)})"
    rows = []
    for it in shown:
        rows.append(
            f'<tr class="{"differs" if _differs(it) else ""}" title="item {escape(it.item_id)}">'
            f"<td>{escape(it.section)}</td>{_clip(it.input, it.extra.get('highlight'))}{_clip(it.expected)}"
            f"{_clip(it.base_output)}{_clip(it.tuned_output)}{_num(fmt_score(it.base_score))}{_num(fmt_score(it.tuned_score))}</tr>"
        )
    columns = [
        ("Section", ""),
        ("Input", ""),
        ("Expected", ""),
        ("Base output", ""),
        ("Tuned output", ""),
        ("Base score", "num"),
        ("Tuned score", "num"),
    ]
    left = len(items) - len(shown)
    note = (
        f'<p class="left-out">Showing {fmt_count(len(shown))} of {fmt_count(len(items))} items (those whose scores '
        f"differ first); {fmt_count(left)} left out here are in results.json.</p>"
        if left
        else ""
    )
    legend = '<p class="left-out">A mark at the left of a row: the two models scored that item differently.</p>'
    return (
        f'<details class="items-box"><summary>{summary}</summary><div class="inner">'
        f"{table('items', columns, rows)}{note}{legend if n_diff else ''}</div></details>"
    )


def _config(config: dict[str, object]) -> str:
    if not config:
        return ""
    rows = []
    for key, value in config.items():
        text = json.dumps(value, default=str, ensure_ascii=False)
        text = text if len(text) <= MAX_CONFIG_CHARS else text[: MAX_CONFIG_CHARS - 1] + "\u2026"
        rows.append(f"<tr><td><code>{escape(str(key))}</code></td><td><code>{escape(text)}</code></td></tr>")
    return (
        '<details><summary>Configuration</summary><div class="inner">'
        f'<table class="config"><tbody>{"".join(rows)}</tbody></table></div></details>'
    )


def probe_section(probe: ProbeResult) -> str:
    """One probe: what it measures, its caveats, its metrics, plots and items."""
    counts = {v: sum(verdict_of(m) is v for m in probe.metrics) for v in Verdict}
    status = (
        f"{counts[Verdict.changed]} changed, {counts[Verdict.equivalent]} equivalent, "
        f"{counts[Verdict.inconclusive]} inconclusive of {len(probe.metrics)} metrics"
        if probe.metrics
        else ""
    )
    if probe.seconds:
        status += f" \u00b7 ran in {fmt_seconds(probe.seconds)}" if status else f"ran in {fmt_seconds(probe.seconds)}"
    notes = ""
    if probe.notes:
        lis = "".join(f"<li>{escape(n)}</li>" for n in probe.notes)
        notes = f'<div class="notes" role="note"><b>\u26a0 Read with care</b><ul>{lis}</ul></div>'
    figures = "".join(figure(p, probe.name) for p in probe.plots)
    tables = "".join(text_table(t) for t in probe.tables)
    plots = f'<h3>Plots</h3><div class="plots">{figures}</div>' if figures else ""
    # A task read from a log is titled by its name: no need to show the name twice.
    code = f" <code>{escape(probe.name)}</code>" if probe.title != probe.name else ""
    return (
        f'<section class="probe" id="{escape(probe.name)}">'
        f'<div class="probe-head"><h2>{escape(probe.title)}{code}</h2>'
        f'<span class="meta">{escape(status)}</span></div>'
        f'<p class="desc">{escape(probe.description)}</p>{notes}'
        f"<h3>Metrics</h3>{metrics_table(probe.metrics)}{tables}{plots}{items_details(probe.items)}{_config(probe.config)}"
        "</section>"
    )


def training_section(training: TrainingInfo, base_params: int) -> str:
    """How tunelens made the tuned model, with its training-loss curve."""
    share = f" ({training.trainable_params / base_params:.2%} of all)" if base_params > 0 else ""
    facts = [
        ("Method", training.method),
        ("Data", training.data),
        ("Examples", fmt_count(training.n_examples)),
        ("Epochs", fmt_num(training.epochs) if training.epochs % 1 else str(int(training.epochs))),
        ("Steps", fmt_count(training.steps)),
        ("Learning rate", f"{training.learning_rate:g}"),
        ("Batch size", fmt_count(training.batch_size)),
        ("Trainable parameters", fmt_compact(training.trainable_params) + share),
        ("Training time", fmt_seconds(training.seconds)),
        ("Checkpoint", training.checkpoint),
    ]
    chosen = [f"{k}={v}" for k, v in training.method_options.items() if v not in (None, False, 0)]
    if chosen:
        facts.insert(1, ("Method options", ", ".join(chosen)))
    limit = f"{fmt_count(training.max_length)} tokens" if training.max_length is not None else "the token limit"
    data = [("Token limit", f"{limit} per example")] if training.max_length is not None else []
    if n := training.n_truncated:
        cut = f"cut to {limit}: the end of the reply was not trained"
        data.append(("Truncated", f"{fmt_count(n)} example{'s' * (n != 1)}, {cut}"))
    if n := training.n_dropped:
        data.append(("Left out", f"{fmt_count(n)} example{'s' * (n != 1)}, not trained: no reply token within {limit}"))
    if n := len(training.heldout):
        data.append(("Held out", f"{fmt_count(n)} prompt{'s' * (n != 1)}, not trained (listed in training.json)"))
    at = next(i for i, (k, _) in enumerate(facts) if k == "Examples") + 1
    facts[at:at] = data
    dl = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    curve = ""
    if training.loss_curve:
        steps, losses = zip(*training.loss_curve, strict=True)
        plot = Plot(
            id="training-loss",
            title="Training loss",
            kind="line",
            x_label="step",
            y_label="loss",
            series=[Series(name="training loss", x=list(steps), y=list(losses))],
        )
        curve = f'<div class="plots">{figure(plot, "tl")}</div>'
    return f'<section id="tl-training"><h2>How the model was tuned</h2><dl class="facts">{dl}</dl>{curve}</section>'
