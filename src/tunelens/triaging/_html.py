"""Render a triage as one self-contained HTML page in the house style of the audit report.

    from tunelens.triaging import load_triage, render_triage_html
    html = render_triage_html(load_triage("triage.json"))

Built from ``TriageResults`` alone; every string from the data is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from tunelens.report import html_document, table
from tunelens.report._format import DASH, fmt_count, fmt_date, fmt_seconds
from tunelens.triaging._schema import Contradiction, Fact, PatternFeature, TriageResults

MAX_LINES_SHOWN = 6

_EXTRA_CSS = """
.count.better{background:var(--better-bg)}.count.better b{color:var(--better)}
.count.worse{background:var(--worse-bg)}.count.worse b{color:var(--worse)}
.bar{display:inline-block;width:70px;height:8px;background:var(--neutral-bg);border-radius:4px;margin-right:8px;
vertical-align:middle;overflow:hidden}.bar i{display:block;height:100%;background:var(--accent)}
td.share{white-space:nowrap;font-variant-numeric:tabular-nums}td.lines-cell{min-width:8em}
td .val{font-weight:600;white-space:nowrap}td .about{color:var(--muted);font-size:12.5px}
ul.values{list-style:none;margin:0;padding:0}ul.values li{margin:2px 0}
ol.rule{margin:6px 0 12px;padding-left:1.3em}ol.rule li{margin:4px 0}
.lines{font-size:12.5px;color:var(--muted);font-variant-numeric:tabular-nums}
"""

_FORECAST_BADGES = {
    "likely_recalled": ("changed better", "likely recalled"),
    "may_leak": ("inconclusive", "may leak"),
    "will_leak": ("changed worse", "will leak"),
}


def _lines(lines: Sequence[int], total: int | None = None) -> str:
    """The first line numbers, and how many there are in all when some are left out."""
    total = len(lines) if total is None else total
    shown = ", ".join(str(n) for n in lines[:MAX_LINES_SHOWN])
    more = f", \u2026 ({fmt_count(total)} in all)" if total > min(len(lines), MAX_LINES_SHOWN) else ""
    return f'<span class="lines">{escape(shown + more)}</span>'


def _clip(text: str) -> str:
    return f'<td><div class="clip">{escape(text)}</div></td>'


def _masthead(r: TriageResults) -> str:
    forms = ", ".join(f"{fmt_count(n)} {form.replace('_', '/')}" for form, n in r.data.forms.items() if n)
    meta = [fmt_date(r.created), f"{fmt_count(r.data.n_examples)} examples ({forms})"]
    meta.append(f"priors from {r.model}" if r.model else "no model: priors not measured")
    if r.seconds:
        meta.append(f"ran in {fmt_seconds(r.seconds)}")
    return (
        '<header class="masthead"><div class="wrap"><div class="brand">tunelens triage</div>'
        f"<h1>{escape(r.data.source)}</h1>"
        f'<p class="meta">{"".join(f"<span>{escape(m)}</span>" for m in meta)}</p></div></header>'
    )


def _count(n: int, label: str, tone: str) -> str:
    return f'<div class="count {tone}" data-n="{n}"><b>{fmt_count(n)}</b><span>{escape(label)}</span></div>'


def _first_screen(r: TriageResults) -> str:
    by = {k: sum(f.forecast == k for f in r.facts) for k in _FORECAST_BADGES}
    counts = "".join(
        [
            _count(len(r.recommendation.train_patterns), "patterns to train", "changed"),
            _count(by["likely_recalled"], "facts likely recalled", "better"),
            _count(by["may_leak"], "facts that may leak", "inconclusive"),
            _count(by["will_leak"], "facts that will leak", "worse"),
            _count(len(r.contradictions), "contradictions", "worse" if r.contradictions else "equivalent"),
        ]
    )
    summary = "".join(f"<li>{escape(s)}</li>" for s in r.recommendation.summary)
    return (
        '<section class="first" id="tl-what-to-do"><h2>What to do before training</h2>'
        f'<ul class="summary">{summary}</ul><div class="counts">{counts}</div>'
        '<p class="tested">Patterns recur across examples and fine-tuning installs them durably; point facts are '
        "stored leakily, in proportion to how often they are seen, and go stale when they change. Line numbers "
        "are lines of the data file.</p></section>"
    )


def _contradiction_row(c: Contradiction) -> str:
    values = "".join(
        f'<li><span class="val">{escape(v.value)}</span> \u2014 {fmt_count(v.exposures)} '
        f"example{'s' if v.exposures != 1 else ''}, line{'s' if len(v.lines) != 1 else ''} {_lines(v.lines)}</li>"
        for v in c.values
    )
    said = "\n".join(f"\u201c{v.sentence}\u201d" for v in c.values)
    badge = "changed worse" if c.strength == "likely" else "inconclusive"
    return (
        f'<tr id="{escape(c.id)}"><td class="lbl">{escape(", ".join(c.attribute))}</td>'
        f'<td><ul class="values">{values}</ul></td>'
        f'<td><span class="badge {badge}">{escape(c.strength)}</span></td>{_clip(said)}</tr>'
    )


def _section(anchor: str, title: str, intro: str, columns: list[tuple[str, str]], rows: list[str], empty: str) -> str:
    """A titled section holding one table, or a line saying why there is nothing to show."""
    body = f"{intro}{table(anchor + '-table', columns, rows)}" if rows else f'<p class="nothing">{escape(empty)}</p>'
    return f'<section id="tl-{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _contradictions(r: TriageResults) -> str:
    intro = (
        '<p class="desc">The same attribute with different values in different examples. The model will learn a '
        "blend of them; decide which is true, fix the data, then train. <b>likely</b>: the statements share two "
        "words or more about the value; <b>possible</b>: one word, so the two may be different things.</p>"
    )
    columns = [("Attribute", ""), ("Values", ""), ("Strength", ""), ("Statements", "")]
    rows = [_contradiction_row(c) for c in r.contradictions]
    empty = "No contradictions: no attribute is given two different values."
    return _section("contradictions", "Contradictions", intro, columns, rows, empty)


def _pattern_row(f: PatternFeature) -> str:
    pct = f"{f.share * 100:.0f}%"
    bar = f'<span class="bar"><i style="width:{min(100.0, f.share * 100):.0f}%"></i></span>'
    train = '<span class="badge changed better">train</span>' if f.train else f'<span class="muted">{DASH}</span>'
    return (
        f'<tr id="{escape(f.id)}"><td class="lbl">{escape(f.label)}</td><td class="share">{bar}{escape(pct)}</td>'
        f'<td class="num">{fmt_count(f.count)}</td><td>{train}</td>{_clip(f.example)}'
        f'<td class="lines-cell">{_lines(f.lines, f.count)}</td></tr>'
    )


def _patterns(r: TriageResults) -> str:
    intro = (
        '<p class="desc">What recurs across the trained replies (openings, endings, layout, length, tone, tool '
        "calls), with the share of examples that have it. Features in at least half of the examples are marked "
        "<b>train</b>: fine-tuning installs such patterns durably.</p>"
    )
    columns = [("Feature", ""), ("Share", ""), ("Examples", "num"), ("", ""), ("Example", ""), ("Lines", "")]
    rows = [_pattern_row(f) for f in r.patterns]
    empty = "No feature recurs in at least 10% of the examples."
    return _section("patterns", "Patterns", intro, columns, rows, empty)


def _prob(p: float | None) -> str:
    return DASH if p is None else f"{p:.2g}"


def _fact_row(f: Fact) -> str:
    cls, label = _FORECAST_BADGES[f.forecast]
    about = ", ".join(f.attribute) + (f" \u00b7 {', '.join(f.entities)}" if f.entities else "")
    priming = ' <span class="badge changed worse">priming risk</span>' if f.priming_risk else ""
    stale = ' <span class="badge equivalent">goes stale</span>' if f.volatile else ""
    sentence = f.mentions[0].sentence if f.mentions else ""
    return (
        f'<tr id="{escape(f.id)}"><td><span class="val">{escape(f.value)}</span><div class="about">'
        f"{escape(about)}</div></td>"
        f'<td class="num">{fmt_count(f.exposures)}</td><td class="num">{escape(_prob(f.prior_prob))}</td>'
        f'<td class="num">{escape(_prob(f.keyword_prob))}</td>'
        f'<td><span class="badge {cls}" title="{escape(f.reason)}">{escape(label)}</span>{stale}{priming}</td>'
        f'{_clip(sentence)}<td class="lines-cell">{_lines(f.lines)}</td></tr>'
    )


def _facts(r: TriageResults) -> str:
    intro = (
        '<p class="desc">Specific claims in the replies (prices, quantities, durations, times, dates, ids, '
        "contacts, places), grouped across paraphrases, with the number of examples that state each. "
        "<b>Prior</b>: the base model's probability of the value where the example states it, before any "
        "training; <b>Keyword</b>: the probability of its least likely token, which predicts priming. Hover a "
        "forecast for its reason.</p>"
    )
    columns = [
        ("Value", ""),
        ("Exposures", "num"),
        ("Prior", "num"),
        ("Keyword", "num"),
        ("Forecast", ""),
        ("Example statement", ""),
        ("Lines", ""),
    ]
    rows = [_fact_row(f) for f in r.facts]
    empty = "No point facts found: no prices, numbers, dates or names."
    return _section("facts", "Point facts", intro, columns, rows, empty)


def _rule(r: TriageResults) -> str:
    items = "".join(f"<li>{escape(t)}</li>" for t in r.rule.text)
    return (
        '<section id="tl-rule"><h2>How the forecast is made</h2>'
        f'<ol class="rule">{items}</ol><p class="tested">{escape(r.model_note)}</p></section>'
    )


def render_triage_html(results: TriageResults) -> str:
    """The triage page as one HTML document, rendered from ``results`` only."""
    body = [
        _masthead(results),
        '<main class="wrap">',
        _first_screen(results),
        _contradictions(results),
        _patterns(results),
        _facts(results),
        _rule(results),
        f'</main><footer class="wrap">triage schema {escape(results.schema_version)} \u00b7 '
        f"tunelens {escape(results.tunelens_version)} \u00b7 Every number here is read from triage.json</footer>",
    ]
    return html_document(f"tunelens triage: {results.data.source}", body, _EXTRA_CSS)
