"""Every Plotly figure of the reports, built from plain lists (the reshaping happens in ``render``).

Figures use the Okabe-Ito palette (colour-blind safe), Danish separators and Danish labels; hover texts are
pre-formatted by ``reports.formatting``. Category, industry and municipality names are HTML-escaped before
they reach Plotly, which interprets a few tags in labels: a name like ``<script>`` is shown as text.
``to_payload`` serialises a figure for the page: compact JSON, no template, safe inside a <script> tag.

Plotly lays a figure out in pixels and knows no media queries: a phone needs wrapped names, names above the
bars instead of beside them, or bars turned on their side; a printed page needs a tall chart to fit one A4
page. So a figure may carry two variants beside the wide one, in ``layout.meta`` while it is a Figure and as
keys of the payload after ``to_payload``: ``narrow`` (drawn by static/charts.js when the chart is narrower
than its ``below`` px, 560 unless it says otherwise: a phone, or a printed A4 page for a chart with long
names) and ``print`` (laid over the wide or narrow figure while the page is printed). Each is
``{"layout": {...}, "data": [{...}, ...]}``: a key of ``layout`` replaces the key of that name whole, and the
i-th dict of ``data`` replaces keys of the i-th trace.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

import plotly.graph_objects as go

from reports import formatting as fmt

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#8C8C8C",
}
# Darker shades of green and vermillion for text (WCAG AA 4.5:1 on white and on the page's #f4f6f8): the
# palette shades are 3.4:1 and 3.9:1, fine for bars and lines (3:1) but not for small text. Keep in step with
# --good-text and --bad-text in static/style.css.
TEXT_COLOURS = {"green": "#007A5A", "vermillion": "#B04E00"}
SERIES_COLOURS = [
    OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")
]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

Number = float | int | None
# Plotly's per-property validation costs ~6 ms a figure (about 600 figures for a 6-year national run);
# the builders are checked with validation on in tests/test_reports.py.
VALIDATE = False


def _label(name: object) -> str:
    return html.escape(fmt.text(name), quote=False)


# A printed A4 page holds about 1,000 CSS px of height inside its margins; a chart is kept on one page.
PRINT_HEIGHT = 900  # with the panel's heading and lead above it
PRINT_MANY_ROWS = 40  # from this many bars on, a horizontal bar chart is compressed to a page when printed


def _wrap(text: str, width: int) -> str:
    """An escaped label broken into lines of at most ``width`` characters (words are never split)."""
    lines: list[str] = []
    for part in text.split("<br>"):
        lines.extend(textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [""])
    return "<br>".join(lines)


def _lines(text: str) -> int:
    return text.count("<br>") + 1


def _ticks(labels: Sequence[str], width: int) -> dict:
    """Category tick labels wrapped for a narrow screen; the categories (and the hover texts) stay whole."""
    wrapped = [_wrap(label, width) for label in labels]
    if wrapped == list(labels):
        return {}
    return {"tickmode": "array", "tickvals": list(labels), "ticktext": wrapped}


def _with_variants(layout: dict, narrow: dict | None = None, printed: dict | None = None) -> dict:
    """The layout with its narrow and print variants in ``meta`` (moved to the payload by ``to_payload``)."""
    meta = {k: v for k, v in (("narrow", narrow), ("print", printed)) if v}
    if meta:
        layout["meta"] = meta
    return layout


def _print_rows(rows: int, layout: dict) -> dict | None:
    """A horizontal bar chart of many rows compressed to one printed page: smaller names and bar labels."""
    if rows < PRINT_MANY_ROWS:
        return None
    size = max(6, min(11, int((PRINT_HEIGHT - 90) / rows)))  # 8 px (6 pt) for 93 municipalities
    return {
        "layout": {
            "height": PRINT_HEIGHT,
            "bargap": 0.15,
            # every name, though plotly.js would thin out labels this close together
            "yaxis": {**layout["yaxis"], "tickfont": {"size": size}, "tickmode": "linear", "dtick": 1},
        },
        "data": [{"textfont": {"size": size, "color": "#1b1f24"}}],
    }


def _layout(height: int, **extra) -> dict:
    layout = {
        "template": "none",
        "separators": ",.",
        "height": height,
        "font": {"family": FONT, "size": 13, "color": "#1b1f24"},
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": _axis(),
        "yaxis": _axis(),
    }
    layout.update(extra)
    return layout


def _none_if_missing(values: Sequence[Number]) -> list[Number]:
    return [None if fmt._missing(v) else v for v in values]


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """A Figure from trace and layout dicts; validated by plotly only when VALIDATE is set (tests)."""
    return go.Figure(data=traces, layout=layout, _validate=VALIDATE)


def _axis(**extra) -> dict:
    return {"automargin": True, "gridcolor": "#e3e6ea", "zeroline": False, **extra}


def _narrow_rows(labels: Sequence[str], axis: dict, title: str, wrap: int = 22) -> dict:
    """Narrow variant of a horizontal bar chart: wrapped names and axis title, taller rows for wrapped names."""
    ticks = _ticks(labels, wrap)
    rows = sum(max(20, 13 * _lines(t) + 8) for t in ticks.get("ticktext", labels))
    return {
        "height": max(150, rows + 90),
        "xaxis": {**axis, "title": {"text": _wrap(title, 34)}},
        "yaxis": _axis(autorange="reversed", tickfont={"size": 11}, **ticks),
    }


def ranking(
    names: Sequence[str], shares: Sequence[Number], highlight: Sequence[bool], axis_title: str
) -> go.Figure:
    """Horizontal bars, highest share on top; highlighted municipalities in orange."""
    colours = [OKABE_ITO["orange"] if h else OKABE_ITO["blue"] for h in highlight]
    labels = [_label(n) for n in names]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": _none_if_missing(shares),
        "y": labels,
        "marker": {"color": colours},
        "text": [fmt.percent(s) for s in shares],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    x_axis = _axis(tickformat=".0%", title={"text": _label(axis_title)}, side="top", rangemode="tozero")
    layout = _layout(
        max(150, 20 * len(names) + 70),
        showlegend=False,
        bargap=0.25 if len(names) > 6 else 0.45,
        xaxis=x_axis,
        yaxis=_axis(autorange="reversed", tickfont={"size": 11}),
        margin={"l": 10, "r": 50, "t": 50, "b": 10},
    )
    narrow = {"layout": _narrow_rows(labels, x_axis, _label(axis_title))}
    return _figure([trace], _with_variants(layout, narrow, _print_rows(len(names), layout)))


class Series(NamedTuple):
    """One line of a development chart: colour is the entity, a dashed line the second measure."""

    name: str
    years: Sequence[int]
    values: Sequence[Number]
    colour: str | None = None
    dashed: bool = False


def _target_line(axis: str, value: float, categories: int) -> dict:
    """A dotted vermillion target line at ``value`` on the x or y axis, across the other (category) axis.

    The line spans the categories on their own axis (-0.5 to n-0.5), not the paper: plotly.js draws a shape
    tied to the paper under the grid, and a target on a grid line (80%) would be half hidden by it. Drawn
    over the grid and under the bars, lines and value labels.
    """
    across = (-0.5, categories - 0.5)
    return {
        "type": "line",
        "layer": "between",
        "xref": "x",
        "yref": "y",
        "x0": across[0] if axis == "y" else value,
        "x1": across[1] if axis == "y" else value,
        "y0": value if axis == "y" else across[0],
        "y1": value if axis == "y" else across[1],
        "line": {"color": OKABE_ITO["vermillion"], "dash": "dot", "width": 2},
    }


def _target_note(value: float, label: str) -> dict:
    """The target's label at the start of a horizontal target line, in the darker vermillion for text."""
    return {
        "text": _label(label),
        "showarrow": False,
        "font": {"color": TEXT_COLOURS["vermillion"]},
        "xref": "paper",
        "yref": "y",
        "x": 0,
        "y": value,
        "xanchor": "left",
        "yanchor": "bottom",
    }


def development(
    series: Sequence[Series], axis_title: str, target: float | None = None, target_label: str = ""
) -> go.Figure:
    """One line per series over the years (shares as fractions); optional horizontal target line."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _label(line.name),
            "x": [str(y) for y in line.years],  # years as categories, never a continuous axis
            "y": _none_if_missing(line.values),
            "line": {
                "color": line.colour or SERIES_COLOURS[i % len(SERIES_COLOURS)],
                "width": 3,
                "dash": "dash" if line.dashed else "solid",
            },
            "marker": {"size": 8, "symbol": "diamond" if line.dashed else "circle"},
            "text": [fmt.percent(v) for v in line.values],
            "connectgaps": False,
            "hovertemplate": "%{fullData.name} %{x}: %{text}<extra></extra>",
        }
        for i, line in enumerate(series)
    ]
    y_axis = _axis(tickformat=".0%", title={"text": axis_title}, rangemode="tozero")
    layout = _layout(
        380, xaxis=_axis(type="category"), yaxis=y_axis, margin={"l": 10, "r": 20, "t": 50, "b": 40}
    )
    if target is not None:
        y_axis["range"] = [0, 1.02]
        years = len({y for line in series for y in line.years})
        layout.update(
            shapes=[_target_line("y", target, years)], annotations=[_target_note(target, target_label)]
        )
    return _figure(traces, layout)


def grouped_shares(
    groups: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], axis_title: str
) -> go.Figure:
    """Grouped vertical bars of shares: e.g. the municipality against region, size peers and the nation.

    Narrow: the bars lie down (one row per bar), so the value labels keep their size instead of being shrunk
    to the width of a thin column.
    """
    group_labels = [_label(g) for g in groups]
    traces = [
        {
            "type": "bar",
            "name": _label(name),
            "x": group_labels,
            "y": _none_if_missing(values),
            "marker": {"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            "text": [fmt.percent(v) for v in values],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{x}, %{fullData.name}: %{text}<extra></extra>",
        }
        for i, (name, values) in enumerate(series)
    ]
    layout = _layout(
        360,
        barmode="group",
        bargap=0.3,
        yaxis=_axis(tickformat=".0%", title={"text": _label(axis_title)}, rangemode="tozero"),
        margin={"l": 10, "r": 20, "t": 50, "b": 40},
    )
    narrow = {
        "data": [
            {
                "orientation": "h",
                "x": trace["y"],
                "y": group_labels,
                "textfont": {"size": 12},
                "hovertemplate": "%{y}, %{fullData.name}: %{text}<extra></extra>",
            }
            for trace in traces
        ],
        "layout": {
            "height": max(220, 22 * len(groups) * max(1, len(series)) + 40 * len(groups) + 150),
            "bargap": 0.25,
            "xaxis": _axis(
                tickformat=".0%", title={"text": _wrap(_label(axis_title), 34)}, rangemode="tozero"
            ),
            "yaxis": _axis(type="category", autorange="reversed", **_ticks(group_labels, 12)),
            "margin": {"l": 10, "r": 50, "t": 50, "b": 40},
        },
    }
    return _figure(traces, _with_variants(layout, narrow))


def _unit(values: Sequence[Number]) -> tuple[float, str]:
    largest = max((abs(float(v)) for v in values if v is not None and not fmt._missing(v)), default=0.0)
    if largest >= 1e9:
        return 1e9, "mia. kr."
    if largest >= 1e6:
        return 1e6, "mio. kr."
    return 1, "kr."


def amounts(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    suppressed: Sequence[bool] | None = None,
) -> go.Figure:
    """Horizontal grouped bars of kr. per label (categories, industries); a suppressed cell shows '–'.

    Narrow: each name is written above its bars across the whole width, instead of in a margin that would
    leave the bars no room (the bars then sit on a numeric axis, one slot per name).
    """
    scale, unit = _unit([v for _, values in series for v in values])
    names = [_label(lab) for lab in labels]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": _label(name),
            "x": [None if v is None or fmt._missing(v) else float(v) / scale for v in values],
            "y": names,
            "marker": {"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            "text": [fmt.kr_short(v) for v in values],
            "textposition": "outside",
            "textfont": {"size": 11},
            "cliponaxis": False,
            "hovertemplate": "%{y}, %{fullData.name}: %{text}<extra></extra>",
        }
        for i, (name, values) in enumerate(series)
    ]
    flags = list(suppressed or [])
    hidden = [k for k, flag in enumerate(flags[: len(names)]) if flag]
    if hidden:
        traces.append(
            {
                "type": "scatter",
                "mode": "text",
                "x": [0] * len(hidden),
                "y": [names[k] for k in hidden],
                "text": ["  –  (færre end 3 leverandører)"] * len(hidden),
                "textposition": "middle right",
                "textfont": {"color": "#5b6570", "size": 12},
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
    x_axis = _axis(title={"text": unit}, tickformat=",~f", side="top", rangemode="tozero")
    layout = _layout(
        max(220, 22 * len(labels) * max(1, len(series)) + 110),
        barmode="group",
        bargap=0.3,
        bargroupgap=0.05,
        xaxis=x_axis,
        yaxis=_axis(autorange="reversed"),
        margin={"l": 10, "r": 90, "t": 50, "b": 10},
        legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
    )

    # Narrow: slot k spans k-0.5..k+0.5 on a reversed numeric axis; the name fills its top, the bars the rest.
    # The name stands right above its bars, so the hover text leaves it out.
    wrapped = [_wrap(name, 44) for name in names]
    name_px = 15 * max((_lines(w) for w in wrapped), default=1) + 4
    bars_px = 14 * max(1, len(series)) + 8
    top = name_px / (name_px + bars_px)
    centres = [round(k + top / 2, 4) for k in range(len(names))]
    bar_data = {"y": centres, "hovertemplate": "%{fullData.name}: %{text}<extra></extra>"}
    longest = max((len(html.unescape(name)) for name in names), default=0)
    narrow = {
        # names wider than ~40% of the chart (7 px a character) leave the bars too little room beside them
        "below": min(760, max(560, round(longest * 7 / 0.4))),
        "data": [bar_data for _ in series] + ([{"y": [centres[k] for k in hidden]}] if hidden else []),
        "layout": {
            "height": len(names) * (name_px + bars_px) + 130,
            "bargap": round(1 - (1 - top) * 0.9, 4),
            "bargroupgap": 0.05,
            "yaxis": {
                "type": "linear",
                "autorange": False,
                "range": [len(names) - 0.5, -0.5],
                "showticklabels": False,
                "showgrid": False,
                "zeroline": False,
            },
            "margin": {"l": 10, "r": 84, "t": 50, "b": 10},
            # what every name has in common, once (the page has a size limit), then each name at its slot
            "template": {
                "layout": {
                    "annotationdefaults": {
                        "x": 0,
                        "xref": "paper",
                        "xanchor": "left",
                        "yanchor": "top",
                        "align": "left",
                        "showarrow": False,
                        "font": {"size": 12},
                    }
                }
            },
            "annotations": [{"text": name, "y": k - 0.5} for k, name in enumerate(wrapped)],
        },
    }
    return _figure(traces, _with_variants(layout, narrow))


def channels(labels: Sequence[str], purchases: Sequence[Number], rates: Sequence[Number]) -> go.Figure:
    """Purchases by ordering channel, with the transaction cost per purchase in the label."""
    colours = [OKABE_ITO["green"], OKABE_ITO["sky"], OKABE_ITO["orange"], OKABE_ITO["vermillion"]]
    names = [f"{_label(lab)}<br>({fmt.kr(r)} pr. indkøb)" for lab, r in zip(labels, rates, strict=True)]
    trace = {
        "type": "bar",
        "x": names,
        "y": _none_if_missing(purchases),
        "marker": {"color": colours[: len(labels)]},
        "text": [fmt.integer(p) for p in purchases],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{text} indkøb<extra></extra>",
    }
    y_axis = _axis(title={"text": "Antal indkøb"}, tickformat=",d", rangemode="tozero")
    layout = _layout(
        340,
        showlegend=False,
        yaxis=y_axis,
        margin={"l": 10, "r": 20, "t": 40, "b": 40},
    )
    # Narrow: the channel names wrapped and level under their bars, not turned on end (which they are, in
    # the wide figure, below about 720 px).
    narrow = {
        "below": 720,
        "layout": {
            "height": 400,
            "margin": {"l": 10, "r": 10, "t": 30, "b": 40},
            "xaxis": _axis(tickangle=0, tickfont={"size": 11}, **_ticks(names, 11)),
            "yaxis": {**y_axis, "tickfont": {"size": 11}},
        },
    }
    return _figure([trace], _with_variants(layout, narrow))


def target_bars(
    names: Sequence[str],
    rates: Sequence[Number],
    target: float,
    target_label: str,
    highlight: Sequence[bool] | None = None,
    axis_title: str = "",
) -> go.Figure:
    """Horizontal bars of a rate per name with a vertical target line (fakturamatch vs 80%).

    The target line is named in the legend above the chart, where it is read before the bars, rather than by
    a label at one end of a line that may be 2,000 px long; it is drawn below the bars.
    """
    highlight = highlight or [False] * len(names)
    colours = [
        OKABE_ITO["orange"] if h else (OKABE_ITO["green"] if (r or 0) >= target else OKABE_ITO["sky"])
        for r, h in zip(rates, highlight, strict=True)
    ]
    labels = [_label(n) for n in names]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": _none_if_missing(rates),
        "y": labels,
        "marker": {"color": colours},
        "text": [fmt.percent(r) for r in rates],
        # A bar short of the target has its value inside its end, one past it beyond its end: no value label
        # is crossed by the target line. A very short bar keeps its label outside, far from the line.
        "textposition": [
            "inside" if r is not None and not fmt._missing(r) and 0.25 <= r < target else "outside"
            for r in rates
        ],
        "insidetextanchor": "end",
        "textfont": {"size": 11, "color": "#1b1f24"},
        "constraintext": "none",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        "showlegend": False,
    }
    key = {  # the target line's entry in the legend: no data, only the dotted line and its name
        "type": "scatter",
        "mode": "lines",
        "x": [None],
        "y": [None],
        "name": _label(target_label),
        "line": {"color": OKABE_ITO["vermillion"], "dash": "dot", "width": 2},
        "hoverinfo": "skip",
        "showlegend": True,
    }
    x_axis = _axis(tickformat=".0%", range=[0, 1.08], title={"text": _label(axis_title)}, side="top")
    layout = _layout(
        max(220, 20 * len(names) + 110),
        showlegend=True,
        bargap=0.25,
        xaxis=x_axis,
        yaxis=_axis(autorange="reversed", tickfont={"size": 11}),
        margin={"l": 10, "r": 50, "t": 60, "b": 10},
        legend={
            "orientation": "h",
            "x": 0,
            "xref": "container",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "font": {"color": TEXT_COLOURS["vermillion"]},
        },
        shapes=[_target_line("x", target, len(names))],
    )
    narrow = {"layout": _narrow_rows(labels, x_axis, _label(axis_title))}
    narrow["layout"]["height"] += 40
    return _figure([trace, key], _with_variants(layout, narrow, _print_rows(len(names), layout)))


def to_payload(fig: go.Figure) -> str:
    """Compact JSON of the figure, safe to place inside <script type="application/json">.

    ``{"data", "layout"}`` for plotly.js, with the figure's ``narrow`` and ``print`` variants beside them.
    """
    spec = fig.to_plotly_json()
    spec["layout"].pop("template", None)  # plotly.js defaults; the layout sets what matters
    variants = spec["layout"].pop("meta", None) or {}
    text = json.dumps(
        {"data": spec["data"], "layout": spec["layout"], **variants},
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_default,
    )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()  # type: ignore[attr-defined]  # numpy arrays and scalars
    if hasattr(value, "__float__"):
        return float(value)  # type: ignore[arg-type]
    raise TypeError(f"cannot serialise {type(value).__name__} in a figure")
