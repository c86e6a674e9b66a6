"""Render an audit's results as one self-contained HTML page.

    from tunelens.results import load_results
    from tunelens.report import render_html
    html = render_html(load_results("results.json"))

The page is built from ``AuditResults`` alone: inline CSS, inline SVG plots, no script,
no external URL of any kind (a Content-Security-Policy forbids loading anything), and
every piece of text from the results escaped. The first screen answers "what changed?";
the sections below hold the evidence, one per probe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from tunelens.report._discoveries import NOW, discoveries_block
from tunelens.report._forecast import SECTION_ID, forecast_section
from tunelens.report._format import (
    CORRECTION_LABELS,
    DASH,
    direction,
    fmt_ci,
    fmt_compact,
    fmt_count,
    fmt_date,
    fmt_p,
    fmt_seconds,
    fmt_size,
    fmt_value,
    is_number,
    verdict_of,
)
from tunelens.report._sections import (
    anchor,
    delta_cell,
    label_cell,
    probe_section,
    table,
    tone,
    training_section,
)
from tunelens.report._style import CSS
from tunelens.results import AuditResults, Metric, ModelInfo, Verdict

LOG_TOOLS = {"lm-eval": "lm-evaluation-harness", "inspect": "inspect_ai"}
"""Tools whose per-sample logs ``tunelens paired`` reads (``AuditResults.source``), by their names."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{fmt_count(n)} {word if n == 1 else (plural or word + 's')}"


def _model_card(role: str, info: ModelInfo) -> str:
    bits = [info.kind]
    if info.n_params is not None:
        bits.append(f"{fmt_compact(info.n_params)} parameters")
    if info.n_layers is not None and info.n_heads is not None:
        bits.append(f"{info.n_layers} layers \u00d7 {info.n_heads} heads")
    bits += [b for b in (info.dtype, info.source) if b]
    details = escape(" \u00b7 ".join(bits))
    if info.channel:
        details += f"<br>{escape(info.channel)}"
    return f'<div class="model {role}">{role} <b>{escape(info.ref)}</b><br>{details}</div>'


def _from_logs(results: AuditResults) -> str:
    """The tool whose logs made these results ('' for a tunelens audit)."""
    return LOG_TOOLS.get(results.source, "")


def _masthead(results: AuditResults) -> str:
    meta = [
        fmt_date(results.created),
        f"seed {results.seed}",
        f"tunelens {results.tunelens_version}",
    ]
    if results.seconds >= 0.1:
        meta.append(f"ran in {fmt_seconds(results.seconds)}")
    base_fp, tuned_fp = results.base.tokenizer_fingerprint, results.tuned.tokenizer_fingerprint
    tool = _from_logs(results)
    brand = "tunelens paired" if tool else "tunelens audit"
    if tool:  # no model was loaded: the logs say nothing of tokenizers
        n = len(results.probes)
        tok = (
            f'<p class="tok">Read from the per-sample logs of {escape(tool)}: {_plural(n, "task")}, each model\'s '
            "outcomes paired item by item.</p>"
        )
    elif base_fp == tuned_fp:
        tok = f'<p class="tok">Both models share one tokenizer (fingerprint <code>{escape(base_fp[:12])}</code>).</p>'
    else:
        tok = (
            '<p class="tok bad">The two tokenizers differ: per-token comparisons are not like for like '
            f"(<code>{escape(base_fp[:12])}</code> vs <code>{escape(tuned_fp[:12])}</code>).</p>"
        )
    if not results.complete:
        done = ", ".join(p.name for p in results.probes) or "none"
        tok += (
            '<p class="tok bad">Incomplete: the audit stopped before its last probe (finished: '
            f"{escape(done)}). Run the same command again to resume; the finished probes are reused.</p>"
        )
    return (
        f'<header class="masthead"><div class="wrap"><div class="brand">{brand}</div>'
        f'<h1><span class="b">{escape(results.base.ref)}</span><span class="vs">vs</span>'
        f'<span class="t">{escape(results.tuned.ref)}</span></h1>'
        f'<p class="meta">{"".join(f"<span>{escape(m)}</span>" for m in meta)}</p>'
        f'<div class="models">{_model_card("base", results.base)}{_model_card("tuned", results.tuned)}</div>'
        f"{tok}</div></header>"
    )


def _size_of_change(m: Metric) -> float:
    """|delta| relative to the metric's magnitude, so metrics on different scales can be ranked."""
    if not is_number(m.delta):
        return 0.0
    scale = max((abs(v) for v in (m.base, m.tuned) if is_number(v)), default=0.0)
    return abs(m.delta) / scale if scale > 0 else abs(m.delta)


def ranked_changes(results: AuditResults) -> list[Metric]:
    """Metrics whose verdict is 'changed': headline metrics first, then the largest relative
    change, then the strongest evidence; negligible changes last."""
    changed = [m for m in results.metrics() if verdict_of(m) is Verdict.changed]

    def key(m: Metric) -> tuple[bool, bool, float, float]:
        p = m.p_adjusted if is_number(m.p_adjusted) else math.inf
        return (m.negligible, not m.headline, -_size_of_change(m), p)

    return sorted(changed, key=key)


def _probe_titles(results: AuditResults) -> dict[str, str]:
    return {p.name: p.title for p in results.probes}


def _changed_table(results: AuditResults, changed: list[Metric]) -> str:
    titles = _probe_titles(results)
    rows = []
    for m in changed:
        mark = ' <span class="mark negligible">negligible</span>' if m.negligible else ""
        cells = [
            label_cell(m, titles.get(m.probe, m.probe)),
            f'<td class="num">{escape(fmt_value(m.base, m.unit))}</td>',
            f'<td class="num">{escape(fmt_value(m.tuned, m.unit))}</td>',
            delta_cell(m),
            f'<td class="num">{escape(fmt_ci(m.ci_low, m.ci_high, m.unit))}</td>',
            f'<td class="num">{escape(fmt_count(m.n))}</td>',
            f'<td class="num">{escape(fmt_p(m.p_adjusted))}{mark}</td>',
        ]
        rows.append(f'<tr class="{tone(m)}">{"".join(cells)}</tr>')
    columns = [
        ("Metric", ""),
        ("Base", "num"),
        ("Tuned", "num"),
        ("Change", "num"),
        ("95% CI", "num"),
        ("n", "num"),
        ("adj. p", "num"),
    ]
    return table("changed", columns, rows)


def _equivalent_table(results: AuditResults, same: list[Metric]) -> str:
    titles = _probe_titles(results)
    rows = []
    for m in same:
        cells = [
            label_cell(m, titles.get(m.probe, m.probe)),
            f'<td class="num">{escape(fmt_value(m.base, m.unit))}</td>',
            f'<td class="num">{escape(fmt_value(m.tuned, m.unit))}</td>',
            f'<td class="num">{escape(fmt_ci(m.ci90_low, m.ci90_high, m.unit))}</td>',
            f'<td class="num">±{escape(fmt_size(m.margin, m.unit))}</td>',
            f'<td class="num">{escape(fmt_count(m.n))}</td>',
        ]
        rows.append(f'<tr>{"".join(cells)}</tr>')
    columns = [("Metric", ""), ("Base", "num"), ("Tuned", "num"), ("90% CI", "num"), ("Margin", "num"), ("n", "num")]
    return table("equivalent", columns, rows)


def settling_budget(m: Metric) -> str | None:
    """The smallest budget whose item count for ``m`` reaches the items it needs, if any
    (``n_at_budget`` lists the budgets smallest first)."""
    if m.n_needed is None:
        return None
    return next((budget for budget, n in m.n_at_budget.items() if n >= m.n_needed), None)


def _what_would_tell(m: Metric, seconds: float) -> str:
    """'≈140 items: --budget thorough (200, about 6 min here)' or the count alone."""
    if m.n_needed is None:
        return DASH
    text = f"≈{fmt_count(m.n_needed)} items"
    budget = settling_budget(m)
    if budget is not None and m.n > 0 and seconds > 0:
        n_b = m.n_at_budget[budget]
        text += f": --budget {budget} ({fmt_count(n_b)}, about {fmt_seconds(seconds * n_b / m.n)} for this probe here)"
    elif m.n_at_budget:
        text += f": more than any budget gives ({fmt_count(max(m.n_at_budget.values()))})"
    return text


MAX_INCONCLUSIVE_ROWS = 40


def _inconclusive_table(results: AuditResults, unsure: list[Metric]) -> str:
    titles = _probe_titles(results)
    seconds = {p.name: p.seconds for p in results.probes}
    rows = []
    for m in unsure[:MAX_INCONCLUSIVE_ROWS]:
        cells = [
            label_cell(m, titles.get(m.probe, m.probe)),
            delta_cell(m),
            f'<td class="num">{escape(fmt_ci(m.ci_low, m.ci_high, m.unit))}</td>',
            f'<td class="num">{escape(fmt_count(m.n))}</td>',
            f"<td>{escape(m.reason)}</td>",
            f"<td>{escape(_what_would_tell(m, seconds.get(m.probe, 0.0)))}</td>",
        ]
        rows.append(f'<tr>{"".join(cells)}</tr>')
    columns = [("Metric", ""), ("Change", "num"), ("95% CI", "num"), ("n", "num"), ("Why", ""), ("What would tell", "")]
    more = len(unsure) - MAX_INCONCLUSIVE_ROWS
    tail = f'<p class="left-out">{_plural(more, "more inconclusive metric")} in the probe sections below.</p>'
    return table("inconclusive", columns, rows) + (tail if more > 0 else "")


def _counts(metrics: list[Metric], changed: list[Metric]) -> str:
    n = {v: sum(verdict_of(m) is v for m in metrics) for v in Verdict}
    ways = {w: sum(direction(m) == w for m in changed) for w in ("better", "worse", "neutral")}
    split = [f'<span class="{w}">{ways[w]} {w}</span>' for w in ("better", "worse") if ways[w]]
    if ways["neutral"]:
        split.append(f'<span title="metrics for which neither direction is better">{ways["neutral"]} neutral</span>')
    return (
        '<div class="counts">'
        f'<div class="count changed" data-n="{n[Verdict.changed]}"><b>{n[Verdict.changed]}</b>'
        f"<span>changed{': ' + ', '.join(split) if split else ''}</span></div>"
        f'<div class="count equivalent" data-n="{n[Verdict.equivalent]}"><b>{n[Verdict.equivalent]}</b>'
        "<span>shown unchanged (equivalent)</span></div>"
        f'<div class="count inconclusive" data-n="{n[Verdict.inconclusive]}"><b>{n[Verdict.inconclusive]}</b>'
        "<span>could not tell (inconclusive)</span></div></div>"
    )


def _correction_phrase(results: AuditResults) -> str:
    name = CORRECTION_LABELS.get(results.correction.lower(), results.correction)
    alpha = f"{results.alpha:g}"
    if name == "no":
        return f"no multiple-comparison correction (each test at α = {alpha})"
    if results.correction.lower() == "holm+bh":
        return (
            f"Holm across the headline metrics (\u2605, family-wise \u03b1 = {alpha}) and a weighted "
            f"Benjamini\u2013Hochberg procedure over every metric (false discovery rate {alpha}, half the weight "
            "on the headline metrics)"
        )
    return f"the {name} correction across every metric, family-wise α = {alpha}"


def _budget_warning(results: AuditResults, metrics: list[Metric]) -> str:
    """Headline metrics that cannot reach 'changed' at the budget the audit ran at."""
    blind = [m for m in metrics if m.headline and m.family == "confirmatory" and m.mde is None]
    thin = [m for m in metrics if m.headline and m.verdict == Verdict.inconclusive and m.reason.startswith("too few")]
    stuck = {id(m): m for m in blind + thin}.values()
    if not stuck:
        return ""
    names = ", ".join(m.label for m in stuck)
    if _from_logs(results):  # items come from the logs: more of them, not a budget, would tell
        return (
            f'<p class="nothing">{_plural(len(stuck), "headline metric")} cannot reach a verdict of changed under the '
            f"correction: {escape(names)}. Running both models on more items of the task gives them the items they "
            "need.</p>"
        )
    ran_at = {p.name: p.budget or results.budget for p in results.probes}
    budgets = sorted({ran_at.get(m.probe, results.budget) for m in stuck} - {""})
    plural = "s" if len(budgets) > 1 else ""
    budget = f" at the {' and '.join(budgets)} budget{plural} their probes ran at" if budgets else ""
    return (
        f'<p class="nothing">{_plural(len(stuck), "headline metric")} cannot reach a verdict of changed{budget} '
        f"under the correction: {escape(names)}. A larger --budget gives them the items they need.</p>"
    )


def _first_screen(results: AuditResults) -> str:
    metrics = results.metrics()
    changed = ranked_changes(results)
    same = sorted(
        (m for m in metrics if verdict_of(m) is Verdict.equivalent), key=lambda m: (not m.headline, m.probe, m.name)
    )
    unsure = sorted(
        (m for m in metrics if verdict_of(m) is Verdict.inconclusive),
        key=lambda m: (not m.headline, -_size_of_change(m)),
    )
    block = discoveries_block(results)
    # The block states the discoveries; the summary's lines that restate them are left out here.
    summary = "".join(f"<li>{escape(s)}</li>" for s in results.summary if not (block and s.startswith(NOW)))
    parts = ['<section class="first" id="tl-what-changed"><h2>What changed</h2>', block]
    if summary:
        parts.append(f'<ul class="summary">{summary}</ul>')
    parts.append(_counts(metrics, changed))
    parts.append(_budget_warning(results, metrics))
    if changed:
        parts.append(_changed_table(results, changed))
    elif metrics:
        parts.append(
            f'<p class="nothing">No change detected: none of the {_plural(len(metrics), "metric")} differed '
            "between base and tuned beyond chance after correction.</p>"
        )
    else:
        parts.append('<p class="nothing">This audit measured nothing: it has no metrics.</p>')
    shows = "What the logs show unchanged" if _from_logs(results) else "What the audit shows unchanged"
    parts.append(
        f'<h3 id="tl-equivalent">{shows}</h3><p class="lead">Equivalent: the paired 90% '
        "interval of the change lies inside the metric's margin (two one-sided tests at 5%), so it moved by less "
        "than the margin.</p>"
    )
    parts.append(_equivalent_table(results, same) if same else '<p class="muted">No metric was shown unchanged.</p>')
    parts.append(
        '<h3 id="tl-inconclusive">What it could not tell</h3><p class="lead">Inconclusive: neither a change nor '
        "equivalence could be shown; the reason, and roughly how many paired items would settle it.</p>"
    )
    parts.append(_inconclusive_table(results, unsure) if unsure else '<p class="muted">Every metric was settled.</p>')
    n_desc = sum(verdict_of(m) is None for m in metrics)
    verb = "metric describes" if n_desc == 1 else "metrics describe"
    described = f" {fmt_count(n_desc)} {verb} the pair without a test." if n_desc else ""
    budget = f" at the {escape(results.budget)} budget" if results.budget else ""
    parts.append(
        f'<p class="tested">{_plural(len(metrics) - n_desc, "metric")} tested across '
        f"{_plural(len(results.probes), 'task' if _from_logs(results) else 'probe')}{budget} with paired tests on "
        "the same items; verdicts use "
        f"{escape(_correction_phrase(results))}.{described} "
        "Intervals are paired 95% intervals of tuned − base.</p></section>"
    )
    return "".join(parts)


def _contents(results: AuditResults) -> str:
    entries = []
    if results.training is not None:
        entries.append('<li><a href="#tl-training">How the model was tuned</a></li>')
    for p in results.probes:
        n = sum(verdict_of(m) is Verdict.changed for m in p.metrics)
        entries.append(
            f'<li><a href="{anchor(p.name)}">{escape(p.title)}</a><small>{n} of {len(p.metrics)} changed</small></li>'
        )
    if results.forecast_check is not None:
        entries.append(f'<li><a href="#{SECTION_ID}">Forecast versus outcome</a></li>')
    if not entries:
        return ""
    return f'<section id="tl-contents"><nav class="toc"><h2>Contents</h2><ol>{"".join(entries)}</ol></nav></section>'


def html_document(title: str, body: Sequence[str], extra_css: str = "") -> str:
    """A self-contained page in the report's house style: inline CSS, nothing loaded from anywhere."""
    head = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="color-scheme" content="light">',
        f"<title>{escape(title)}</title><style>{CSS}{extra_css}</style></head><body>",
    ]
    return "\n".join([*head, *body, "</body></html>\n"])


def render_html(results: AuditResults) -> str:
    """The whole report as one HTML document (a string), rendered from ``results`` only."""
    made = "tunelens paired" if _from_logs(results) else "tunelens audit"
    title = f"{made}: {results.base.ref} vs {results.tuned.ref}"
    parts = [
        _masthead(results),
        '<main class="wrap">',
        _first_screen(results),
        _contents(results),
    ]
    if results.training is not None:
        parts.append(training_section(results.training, results.tuned.n_params))
    parts += [probe_section(p) for p in results.probes]
    if results.forecast_check is not None:
        parts.append(forecast_section(results.forecast_check))
    parts.append(
        f'</main><footer class="wrap">results schema {escape(results.schema_version)} \u00b7 '
        f"tunelens {escape(results.tunelens_version)} \u00b7 Every number here is read from results.json</footer>"
    )
    return html_document(title, parts)
