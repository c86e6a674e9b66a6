"""HTML for the forecast-versus-outcome section: the triage forecast of each fact next to
what the audit measured (recall from facts_vs_patterns, spill-over from priming)."""

from __future__ import annotations

from html import escape

from tunelens.report._format import fmt_num
from tunelens.report._sections import table
from tunelens.results import FactFate, ForecastCheck

SECTION_ID = "tl-forecast"


def _pct(x: float | None) -> str:
    return "\u2014" if x is None else f"{x:.0%}"


def _rho(rho: float | None, low: float | None, high: float | None) -> str:
    if rho is None:
        return "\u2014"
    return f"{rho:+.2f}" + (f" [{low:+.2f}, {high:+.2f}]" if low is not None and high is not None else "")


def _yes(flag: bool | None) -> str:
    return "\u2014" if flag is None else ("yes" if flag else "no")


def _row(f: FactFate) -> str:
    mark = "\u2713" if f.forecast_right else "\u2717"
    cells = [
        escape(f.fact_id),
        escape(f.value),
        str(f.exposures),
        escape(f.forecast.replace("_", " ")),
        _yes(f.recalled),
        mark,
        "\u2713" if f.exposure_right else "\u2717",
        _yes(f.priming_risk),
        "\u2014" if f.priming_log10 is None else fmt_num(f.priming_log10),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def forecast_section(check: ForecastCheck) -> str:
    """Summary sentences, the two figures for forecast and baseline, and one row per fact."""
    lis = "".join(f"<li>{escape(s)}</li>" for s in check.summary)
    figures = table(
        "metrics",
        [("", ""), ("share of fates right", "num"), ("Spearman with recall [95% CI]", "num"), ("n", "num")],
        [
            f"<tr><td>triage forecast</td><td class='num'>{_pct(check.forecast_right_share)}</td>"
            f"<td class='num'>{_rho(check.forecast_rho, check.forecast_ci_low, check.forecast_ci_high)}</td>"
            f"<td class='num'>{check.n}</td></tr>",
            f"<tr><td>exposure count alone</td><td class='num'>{_pct(check.exposure_right_share)}</td>"
            f"<td class='num'>{_rho(check.exposure_rho, check.exposure_ci_low, check.exposure_ci_high)}</td>"
            f"<td class='num'>{check.n}</td></tr>",
            f"<tr><td>priming flag (primed: ratio \u2265 {check.primed_ratio:g})</td>"
            f"<td class='num'>{_pct(check.priming_right_share)}</td><td class='num'>\u2014</td>"
            f"<td class='num'>{check.priming_n}</td></tr>",
        ],
    )
    rows = table(
        "items",
        [
            ("fact", ""),
            ("value", ""),
            ("exposures", "num"),
            ("forecast", ""),
            ("recalled", ""),
            ("forecast right", ""),
            ("exposure rule right", ""),
            ("priming flag", ""),
            ("log10 priming", "num"),
        ],
        [_row(f) for f in check.facts],
    )
    return (
        f'<section class="probe" id="{SECTION_ID}"><div class="probe-head"><h2>Forecast versus outcome</h2></div>'
        '<p class="desc">The triage forecast made before training (from exposure count and the base model\'s '
        "prior), checked against what this audit measured: recall in chat replies (facts_vs_patterns) and "
        "spill-over into unrelated contexts (priming, Sun et al. 2025). The baseline forecasts from exposure "
        f"count alone.</p><ul>{lis}</ul>{figures}<h3>Facts</h3>{rows}</section>"
    )
