"""The report's stylesheet, inlined into every report so the file needs nothing else.

Light theme, system fonts only (no web fonts: the report must open offline), tabular
figures in tables. Colours of base and tuned match the plot palette in ``_svg``.
"""

from __future__ import annotations

from tunelens.report._svg import PALETTE

_RULES = """
:root{--ink:#1d2630;--muted:#5d6873;--faint:#8a939c;--line:#e2e5e9;--bg:#f5f6f8;--card:#fff;
--better:#17803d;--better-bg:#e3f4e8;--worse:#c0392b;--worse-bg:#fbe6e3;--neutral:#56616c;
--neutral-bg:#eceef1;--warn:#8a5a00;--warn-bg:#fff4dc;--accent:#2f5d8a}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1160px;margin:0 auto;padding:0 28px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
h1,h2,h3,h4{line-height:1.25;margin:0}
.masthead{background:var(--card);border-bottom:1px solid var(--line);padding:22px 0 20px}
.brand{font-size:13px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;color:var(--muted)}
.masthead h1{font-size:26px;font-weight:650;margin:6px 0 4px;word-break:break-word}
.masthead h1 .vs{color:var(--faint);font-weight:400;margin:0 .35em;font-size:.8em}
.masthead h1 .b{color:var(--base)}.masthead h1 .t{color:var(--tuned)}
.meta{color:var(--muted);font-size:13.5px;margin:0}
.meta span+span:before{content:"\\00b7";margin:0 .6em;color:var(--faint)}
.models{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:14px}
.model{border:1px solid var(--line);border-left:4px solid var(--base);border-radius:6px;padding:8px 12px;
font-size:13px;color:var(--muted);background:#fbfbfc}
.model.tuned{border-left-color:var(--tuned)}
.model b{color:var(--ink);font-weight:600;word-break:break-all}
.tok{font-size:13px;margin:8px 0 0;color:var(--muted)}.tok.bad{color:var(--worse);font-weight:600}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:22px 26px;margin:22px 0}
section#tl-contents{padding:14px 26px}
section>h2{font-size:21px;margin-bottom:10px}
.first{border-top:4px solid var(--accent)}
.discoveries{border-left:4px solid var(--accent,#2b6cb0);background:#f5f8fc;padding:8px 14px;margin:0 0 16px}
.discoveries h3{margin:4px 0 4px}.discoveries ul{margin:4px 0 6px;padding-left:1.2em;font-size:15.5px}
.discoveries li{margin:3px 0}
div.scroll{overflow-x:auto}table.text td{font-size:13px;vertical-align:top;white-space:pre-wrap}
p.caption{color:var(--muted);font-size:13px;margin:4px 0 12px}
.summary{margin:0 0 16px;padding-left:1.2em;font-size:16.5px}
.summary li{margin:3px 0}.summary li:first-child{font-weight:600}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 16px}
.count{border-radius:8px;padding:8px 16px;min-width:130px;background:var(--neutral-bg)}
.count b{display:block;font-size:26px;line-height:1.1;font-variant-numeric:tabular-nums}
.count span{font-size:13px;color:var(--muted)}
.count.changed{background:#e4edf6}.count.changed b{color:var(--accent)}
.count.inconclusive{background:var(--warn-bg)}.count.inconclusive b{color:var(--warn)}
.count.equivalent b{color:var(--neutral)}
.count .better{color:var(--better);font-weight:600}.count .worse{color:var(--worse);font-weight:600}
.nothing{font-size:16.5px;padding:12px 16px;border-radius:8px;background:var(--neutral-bg);margin:0 0 14px}
.tested{color:var(--muted);font-size:13.5px;margin:12px 0 0}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;
border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}
tbody tr:hover{background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.lbl{font-weight:500}td.grp{white-space:nowrap}
td.lbl small{color:var(--faint);font-weight:400;margin-left:.35em}
td.lbl a.probe{display:block;font-size:12px;font-weight:400;color:var(--faint)}
table.changed td{font-size:14.5px;padding:8px}
.delta{font-weight:600}.delta small{font-weight:400;margin-left:.3em;font-size:11.5px}
.delta.better{color:var(--better)}.delta.worse{color:var(--worse)}
.delta.neutral{color:var(--neutral)}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.changed{background:#dce8f4;color:var(--accent)}
.badge.changed.better{background:var(--better-bg);color:var(--better)}
.badge.changed.worse{background:var(--worse-bg);color:var(--worse)}
.badge.equivalent{background:var(--neutral-bg);color:var(--neutral);font-weight:500}
.badge.inconclusive{background:var(--warn-bg);color:var(--warn);font-weight:500}
.mark.negligible{font-size:11.5px;color:var(--muted);font-style:italic}
small.why{display:block;font-size:11.5px;color:var(--muted);min-width:20ch;max-width:26ch;white-space:normal;margin-top:2px}
td.lbl span.grp{display:block;font-size:12px;font-weight:400;color:var(--faint)}
table.metrics td{padding:5px 6px}table.metrics th{padding:6px 6px}
.star{color:#c08a00;margin-left:.3em;font-size:12px}
.first h3{font-size:16px;margin:22px 0 6px}.first p.lead{color:var(--muted);font-size:13.5px;margin:0 0 8px}
.badge.descriptive{background:var(--neutral-bg);color:var(--muted);font-weight:500}
nav.toc h2{font-size:15px;color:var(--muted);margin-bottom:8px}
nav.toc ol{display:flex;flex-wrap:wrap;gap:8px 10px;list-style:none;margin:0;padding:0}
nav.toc li{border:1px solid var(--line);border-radius:999px;padding:3px 12px;font-size:14px}
nav.toc li small{color:var(--faint);margin-left:.4em}
.probe-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;flex-wrap:wrap}
.probe-head code{color:var(--faint)}
.desc{margin:6px 0 14px;color:#34404b;max-width:78ch}
.notes{border-left:4px solid #e0a526;background:var(--warn-bg);border-radius:0 6px 6px 0;padding:8px 14px;
margin:0 0 16px;font-size:14px}
.notes b{color:var(--warn)}.notes ul{margin:4px 0 0;padding-left:1.2em}
h3{font-size:15px;margin:20px 0 8px;color:#34404b}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px 18px;margin:4px 0 8px}
.facts div{border-bottom:1px solid var(--line);padding:4px 0}
.facts dt{font-size:12px;color:var(--muted)}.facts dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums;
word-break:break-word}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:18px;margin-top:8px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px 8px}
figure h4{font-size:14px;margin:0 0 4px}
figcaption{font-size:12.5px;color:var(--muted);margin-top:4px}
svg.plot{display:block;width:100%;height:auto}
svg.plot .axis-title{fill:var(--muted);font-weight:600}
details{margin-top:16px;border:1px solid var(--line);border-radius:8px}
details>summary{cursor:pointer;padding:9px 14px;font-weight:600;font-size:14px;color:#34404b;background:#fafbfc;
border-radius:8px}
details[open]>summary{border-bottom:1px solid var(--line);border-radius:8px 8px 0 0}
details .inner{padding:10px 14px}
.items td{font-size:12.5px}
.clip{max-height:7.2em;overflow:auto;white-space:pre-wrap;word-break:break-word;min-width:9em;max-width:26em}
.clip mark{background:#ffe08a;color:inherit;border-radius:2px;box-shadow:0 0 0 1px #e0a526}
.items tr.differs td:first-child{box-shadow:inset 3px 0 0 var(--tuned)}
.left-out{color:var(--muted);font-size:13px;margin:8px 0 0}
.muted{color:var(--muted)}
.config{font-size:12.5px}.config td{padding:3px 8px}
footer{color:var(--muted);font-size:13px;text-align:center;padding:8px 0 36px}
@media (max-width:760px){.models{grid-template-columns:1fr}section{padding:16px}}
@media print{body{background:#fff}section{border:none;padding:0}.clip{max-height:none;overflow:visible}}
"""

CSS = f":root{{--base:{PALETTE[0]};--tuned:{PALETTE[1]}}}" + _RULES
