"""Impact reports as text and as one self-contained HTML page with charts drawn as inline SVG
(matplotlib's SVG backend, text drawn as paths, so the page needs no fonts and no network)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterable
from typing import Any

from engine.tools.impact import Impact

_MAX_VALUES = 8  # outputs with more distinct values than this are not charted
_MAX_OUTPUT_CHARTS = 6


def _unit(report: Impact) -> str:
    return "decisions" if report.single_day else "document-days"


def _period(report: Impact) -> str:
    return str(report.start) if report.single_day else f"{report.start} to {report.end}"


def render_text(report: Impact, kinds_limit: int = 40) -> str:
    """The report as plain text: totals, cross-tables, rules and examples."""
    unit = _unit(report)
    lines = [
        f"{report.pack}: {report.old} -> {report.new}, {_period(report)} ({report.audience})",
        f"engine: {report.engine}" + (f" ({report.engine_note})" if report.engine_note else ""),
        f"documents: {report.documents}; changed: {report.changed_documents}",
        f"{unit} compared: {report.decisions}; changed: {report.changed_decisions}",
    ]
    if report.rejected:
        lines.append(f"rejected (not decided): {report.rejected}")
        lines += [f"  {r}" for r in report.reasons]
    for name, table in report.crosstabs.items():
        lines += ["", f"output {name} ({unit}):"]
        width = max((len(b) for b, _ in table), default=6)
        for (before, after), n in sorted(table.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {before.ljust(width)} -> {after}: {n}")
    if report.rules:
        lines += ["", "rules whose condition differs (documents):"]
        for rule, n in sorted(report.rules.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {rule}: {n}")
    if report.kinds:
        lines += ["", "changes (documents; examples):"]
        ordered = sorted(report.kinds.items(), key=lambda kv: (-report.kind_counts[kv[0]], kv[0]))
        for (f, before, after), ids in ordered[:kinds_limit]:
            n = report.kind_counts[(f, before, after)]
            lines.append(f"  {f}: {_cut(before)} -> {_cut(after)}: {n}; e.g. {', '.join(ids)}")
        if len(ordered) > kinds_limit:
            lines.append(f"  ... and {len(ordered) - kinds_limit} more kinds (see --format json)")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- charts ----------------------------------------------------------------------------------


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # addresses, no use
    return text[text.index("<svg") :]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "path"  # text as outlines: no font needed to show it
    plt.rcParams["svg.hashsalt"] = "regime"  # the same ids every run
    return plt


def chart_counts(report: Impact) -> str | None:
    """Counts of documents by value of each output on the first day, before and after."""
    outputs: list[tuple[str, list[str]]] = []
    for name in report.totals.get("before", {}):
        seen = set(report.totals["before"][name]) | set(report.totals["after"].get(name, {}))
        short = all(len(v) <= 32 and not v.startswith("{") for v in seen)
        if short and 1 < len(seen) <= _MAX_VALUES:
            outputs.append((name, sorted(seen)))
    changed = [o for o in outputs if o[0] in report.crosstabs]  # what changed comes first
    outputs = (changed + [o for o in outputs if o not in changed])[:_MAX_OUTPUT_CHARTS]
    if not outputs:
        return None
    plt = _pyplot()
    height = 0.9 + sum(0.55 + 0.28 * len(v) for _, v in outputs)
    fig, axes = plt.subplots(
        len(outputs), 1, figsize=(8, height), squeeze=False, layout="constrained"
    )
    for ax, (name, values) in zip(axes[:, 0], outputs, strict=True):
        before = [report.totals["before"][name].get(v, 0) for v in values]
        after = [report.totals["after"][name][v] for v in values]
        ys = range(len(values))
        ax.barh([y + 0.2 for y in ys], before, height=0.4, label=report.old, color="#9aa5b1")
        ax.barh([y - 0.2 for y in ys], after, height=0.4, label=report.new, color="#1d70b8")
        ax.set_yticks(list(ys), [_cut(v, 30) for v in values], fontsize=8)
        ax.set_title(name, fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Documents by output value on {report.start}", fontsize=10)
    return _svg(fig)


def _days(report: Impact) -> list[dt.date]:
    return [
        report.start + dt.timedelta(days=i) for i in range((report.end - report.start).days + 1)
    ]


def chart_daily(report: Impact) -> str | None:
    """How many documents have each value of the tracked output, day by day."""
    if report.single_day or report.tracked is None:
        return None
    plt = _pyplot()
    days = _days(report)
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    palette = [
        "#1d70b8",
        "#d4351c",
        "#00703c",
        "#f47738",
        "#4c2c92",
        "#b58840",
        "#505a5f",
        "#912b88",
    ]
    values = sorted(set(report.daily["before"]) | set(report.daily["after"]))
    for i, value in enumerate(values[: len(palette)]):
        color = palette[i]
        new = report.daily["after"].get(value)
        old = report.daily["before"].get(value)
        if new:
            ax.plot(days, new, color=color, label=f"{_cut(value, 28)}", linewidth=1.6)
        if old and old != new:
            ax.plot(days, old, color=color, linestyle="--", linewidth=1.0)
    ax.set_title(f"{report.tracked}: documents per value, day by day", fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    return _svg(fig)


def chart_change_dates(report: Impact) -> str | None:
    """How many change points fall in each week of the range, under each side."""
    if report.single_day:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8), layout="constrained")
    start = report.start - dt.timedelta(days=report.start.weekday())
    weeks = [start + dt.timedelta(weeks=i) for i in range((report.end - start).days // 7 + 1)]
    sides: list[tuple[str, str, str, float]] = [
        ("before", report.old, "#9aa5b1", -1.5),
        ("after", report.new, "#1d70b8", 1.5),
    ]
    if report.change_dates.get("before") == report.change_dates.get("after"):
        sides = [("after", report.new, "#1d70b8", 0.0)]
    for side, label, color, offset in sides:
        counts = [0] * len(weeks)
        for day, n in report.change_dates.get(side, {}).items():
            counts[(day - start).days // 7] += n
        ax.bar(
            [w + dt.timedelta(days=offset) for w in weeks],
            counts,
            width=3,
            color=color,
            label=label,
        )
    ax.set_title("Change points per week", fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return _svg(fig)


# -- the page ------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#0b0c0c;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #b1b4b6}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #b1b4b6;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f2f1}.n{text-align:right}figure{margin:1rem 0}svg{max-width:100%;height:auto}
.summary td:first-child{font-weight:600}.note{color:#505a5f}
"""


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]], numeric: set[int]) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f'<td class="n">{html.escape(str(c))}</td>'
            if i in numeric
            else f"<td>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figure(chart_id: str, svg: str | None, caption: str) -> str:
    if svg is None:
        return f'<p class="note" id="{chart_id}-absent">{html.escape(caption)}: needs a range.</p>'
    return (
        f'<figure class="chart" id="{chart_id}">{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def render_html(report: Impact) -> str:
    """One HTML page: the figures, three charts and the tables, needing nothing else."""
    unit = _unit(report)
    title = f"Impact: {report.pack}, {report.old} to {report.new}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(_period(report))}, for a {html.escape(report.audience)} audience; "
        f"decisions made by the {html.escape(report.engine)} engine.</p>",
        '<table class="summary">',
        f"<tr><td>documents</td><td class='n'>{report.documents}</td></tr>",
        f"<tr><td>documents changed</td><td class='n'>{report.changed_documents}</td></tr>",
        f"<tr><td>{unit} compared</td><td class='n'>{report.decisions}</td></tr>",
        f"<tr><td>{unit} changed</td><td class='n'>{report.changed_decisions}</td></tr>",
        f"<tr><td>rejected (not decided)</td><td class='n'>{report.rejected}</td></tr>"
        if report.rejected
        else "",
        "</table>",
        "<h2>Charts</h2>",
        _figure(
            "chart-counts", chart_counts(report), "Documents by output value, before and after"
        ),
        _figure(
            "chart-daily",
            chart_daily(report),
            f"Documents per value of {report.tracked}, day by day (dashed: {report.old})",
        ),
        _figure("chart-change-dates", chart_change_dates(report), "Change points per week"),
        "<h2>Outputs: before and after</h2>",
    ]
    if not report.crosstabs:
        parts.append("<p>No output differs between the two sides.</p>")
    for name, table in report.crosstabs.items():
        parts.append(f"<h3>{html.escape(name)}</h3>")
        pairs = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append(_table(["before", "after", unit], ((b, a, n) for (b, a), n in pairs), {2}))
    if report.rules:
        parts.append("<h2>Rules whose condition differs</h2>")
        rules = sorted(report.rules.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append(_table(["rule", "documents"], rules, {1}))
    if report.kinds:
        parts.append("<h2>Examples of each kind of change</h2>")
        ordered = sorted(report.kinds.items(), key=lambda kv: (-report.kind_counts[kv[0]], kv[0]))
        parts.append(
            _table(
                ["field", "before", "after", "documents", "examples"],
                (
                    (f, _cut(b, 80), _cut(a, 80), report.kind_counts[(f, b, a)], ", ".join(ids))
                    for (f, b, a), ids in ordered
                ),
                {3},
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
