"""Every Plotly figure of the reports, built from plain lists (the reshaping happens in ``render``).

Figures use the Okabe-Ito palette (colour-blind safe), Danish separators and Danish labels; hover texts are
pre-formatted by ``reports.formatting``. Category, industry and municipality names are HTML-escaped before
they reach Plotly, which interprets a few tags in labels: a name like ``<script>`` is shown as text.
``to_payload`` serialises a figure for the page: compact JSON, no template, safe inside a <script> tag.
"""

from __future__ import annotations

import html
import json
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


def ranking(
    names: Sequence[str], shares: Sequence[Number], highlight: Sequence[bool], axis_title: str
) -> go.Figure:
    """Horizontal bars, highest share on top; highlighted municipalities in orange."""
    colours = [OKABE_ITO["orange"] if h else OKABE_ITO["blue"] for h in highlight]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": _none_if_missing(shares),
        "y": [_label(n) for n in names],
        "marker": {"color": colours},
        "text": [fmt.percent(s) for s in shares],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    layout = _layout(
        max(150, 20 * len(names) + 70),
        showlegend=False,
        bargap=0.25 if len(names) > 6 else 0.45,
        xaxis=_axis(tickformat=".0%", title={"text": axis_title}, side="top", rangemode="tozero"),
        yaxis=_axis(autorange="reversed", tickfont={"size": 11}),
        margin={"l": 10, "r": 50, "t": 50, "b": 10},
    )
    return _figure([trace], layout)


class Series(NamedTuple):
    """One line of a development chart: colour is the entity, a dashed line the second measure."""

    name: str
    years: Sequence[int]
    values: Sequence[Number]
    colour: str | None = None
    dashed: bool = False


def _target_line(axis: str, value: float, label: str) -> tuple[dict, dict]:
    """A dotted vermillion target line across the plot (x or y), with its label."""
    line = {
        "type": "line",
        "xref": "paper" if axis == "y" else "x",
        "yref": "paper" if axis == "x" else "y",
        "x0": 0 if axis == "y" else value,
        "x1": 1 if axis == "y" else value,
        "y0": value if axis == "y" else 0,
        "y1": value if axis == "y" else 1,
        "line": {"color": OKABE_ITO["vermillion"], "dash": "dot", "width": 2},
    }
    note = {
        "text": _label(label),
        "showarrow": False,
        "font": {"color": OKABE_ITO["vermillion"]},
        "xref": line["xref"],
        "yref": line["yref"],
    }
    if axis == "y":
        note.update(x=0, y=value, xanchor="left", yanchor="bottom")
    else:
        note.update(x=value, y=0, xanchor="left", yanchor="bottom")
    return line, note


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
        line, note = _target_line("y", target, target_label)
        layout.update(shapes=[line], annotations=[note])
    return _figure(traces, layout)


def grouped_shares(
    groups: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], axis_title: str
) -> go.Figure:
    """Grouped vertical bars of shares: e.g. the municipality against region, size peers and the nation."""
    traces = [
        {
            "type": "bar",
            "name": _label(name),
            "x": [_label(g) for g in groups],
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
        yaxis=_axis(tickformat=".0%", title={"text": axis_title}, rangemode="tozero"),
        margin={"l": 10, "r": 20, "t": 50, "b": 40},
    )
    return _figure(traces, layout)


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
    """Horizontal grouped bars of kr. per label (categories, industries); a suppressed cell shows '–'."""
    scale, unit = _unit([v for _, values in series for v in values])
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": _label(name),
            "x": [None if v is None or fmt._missing(v) else float(v) / scale for v in values],
            "y": [_label(lab) for lab in labels],
            "marker": {"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            "text": [fmt.kr_short(v) for v in values],
            "textposition": "outside",
            "textfont": {"size": 11},
            "cliponaxis": False,
            "hovertemplate": "%{y}, %{fullData.name}: %{text}<extra></extra>",
        }
        for i, (name, values) in enumerate(series)
    ]
    hidden = [_label(lab) for lab, flag in zip(labels, suppressed or [], strict=False) if flag]
    if hidden:
        traces.append(
            {
                "type": "scatter",
                "mode": "text",
                "x": [0] * len(hidden),
                "y": hidden,
                "text": ["  –  (færre end 3 leverandører)"] * len(hidden),
                "textposition": "middle right",
                "textfont": {"color": "#5b6570", "size": 12},
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
    layout = _layout(
        max(220, 22 * len(labels) * max(1, len(series)) + 110),
        barmode="group",
        bargap=0.3,
        bargroupgap=0.05,
        xaxis=_axis(title={"text": unit}, tickformat=",~f", side="top", rangemode="tozero"),
        yaxis=_axis(autorange="reversed"),
        margin={"l": 10, "r": 90, "t": 50, "b": 10},
        legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
    )
    return _figure(traces, layout)


def channels(labels: Sequence[str], purchases: Sequence[Number], rates: Sequence[Number]) -> go.Figure:
    """Purchases by ordering channel, with the transaction cost per purchase in the label."""
    colours = [OKABE_ITO["green"], OKABE_ITO["sky"], OKABE_ITO["orange"], OKABE_ITO["vermillion"]]
    trace = {
        "type": "bar",
        "x": [f"{_label(lab)}<br>({fmt.kr(r)} pr. indkøb)" for lab, r in zip(labels, rates, strict=True)],
        "y": _none_if_missing(purchases),
        "marker": {"color": colours[: len(labels)]},
        "text": [fmt.integer(p) for p in purchases],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{text} indkøb<extra></extra>",
    }
    layout = _layout(
        340,
        showlegend=False,
        yaxis=_axis(title={"text": "Antal indkøb"}, tickformat=",d", rangemode="tozero"),
        margin={"l": 10, "r": 20, "t": 40, "b": 40},
    )
    return _figure([trace], layout)


def target_bars(
    names: Sequence[str],
    rates: Sequence[Number],
    target: float,
    target_label: str,
    highlight: Sequence[bool] | None = None,
    axis_title: str = "",
) -> go.Figure:
    """Horizontal bars of a rate per name with a vertical target line (fakturamatch vs 80%)."""
    highlight = highlight or [False] * len(names)
    colours = [
        OKABE_ITO["orange"] if h else (OKABE_ITO["green"] if (r or 0) >= target else OKABE_ITO["sky"])
        for r, h in zip(rates, highlight, strict=True)
    ]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": _none_if_missing(rates),
        "y": [_label(n) for n in names],
        "marker": {"color": colours},
        "text": [fmt.percent(r) for r in rates],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    line, note = _target_line("x", target, target_label)
    layout = _layout(
        max(220, 20 * len(names) + 80),
        showlegend=False,
        bargap=0.25,
        xaxis=_axis(tickformat=".0%", range=[0, 1.08], title={"text": axis_title}, side="top"),
        yaxis=_axis(autorange="reversed", tickfont={"size": 11}),
        margin={"l": 10, "r": 50, "t": 60, "b": 10},
        shapes=[line],
        annotations=[note],
    )
    return _figure([trace], layout)


def to_payload(fig: go.Figure) -> str:
    """Compact JSON of the figure, safe to place inside <script type="application/json">."""
    spec = fig.to_plotly_json()
    spec["layout"].pop("template", None)  # plotly.js defaults; the layout sets what matters
    text = json.dumps(
        {"data": spec["data"], "layout": spec["layout"]},
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
