"""A patient's timeline (report/timeline.py data) as a plotly figure, for the HTML report: one lane
per ladder step, a bar per course from start to end (ongoing ones to the audit date), scores over
time on the pack's control bands, events and findings as markers whose hover text is the message
and its source. Courses without dates sit in a panel of their own, in the record's order."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import Any, Iterable

import orjson

SEVERITY_COLOURS = {"critical": "#b2182b", "warning": "#e08214", "info": "#4575b4"}
BAND_COLOURS = {"complete": "#1a9850", "well_controlled": "#91cf60", "uncontrolled": "#fc8d59"}
_EVENT_SYMBOLS = {"adverse event": "triangle-up", "screening": "diamond", "stopped": "x",
                  "clinician judgement": "circle-open"}
FINDINGS, EVENTS = "findings", "events"
FrameKey = tuple[bool, tuple[str, ...], tuple[str, ...], str]  # undated?, instruments, lanes, bands


def figure(data: dict[str, Any]) -> tuple[dict[str, Any], FrameKey]:
    """The figure as plotly JSON: traces built with plotly's own objects (validated), and the key of
    its frame of subplots, made once per shape (make_subplots is most of the cost) and written once
    per page (a cohort repeats a few shapes): the page puts the figure on `layouts()[key id]`."""
    import plotly.graph_objects as go

    dated = [b for b in data["bars"] if b["dated"]]
    undated = [b for b in data["bars"] if not b["dated"]]
    instruments = tuple(data["bands"])
    lanes = tuple(reversed(data["lanes"])) + (EVENTS, FINDINGS)  # step 1 at the bottom
    key: FrameKey = (bool(undated), instruments, lanes, orjson.dumps(data["bands"]).decode())
    _, axes = _frame(*key)
    title = f"{data['id']}: treatment timeline (as of {data['as_of']})"
    main = 2 if undated else 1
    traces = [_on(go.Bar(
        name="courses", orientation="h", y=[b["lane"] for b in dated],
        base=[b["start"] for b in dated], x=[_ms(b["start"], b["end"]) for b in dated],
        text=[b["label"] for b in dated], textposition="inside", insidetextanchor="start",
        customdata=[b["n"] for b in dated], hovertext=[_bar_hover(b, data["as_of"]) for b in dated],
        hoverinfo="text", marker={"color": ["#9ecae1" if b["ongoing"] else "#6baed6" for b in dated],
                                  "line": {"color": ["#67001f" if b["phase"] else "#08519c" for b in dated],
                                           "width": [3 if b["phase"] else 1 for b in dated]}}), axes[(1, main)])]
    if undated:
        traces.append(_on(go.Bar(
            name="courses without dates", orientation="h", y=[b["lane"] for b in undated],
            base=[n for n, _ in enumerate(undated)], x=[0.9] * len(undated),
            text=[f"{b['label']} ({b['when'] or 'undated'})" for b in undated], textposition="inside", insidetextanchor="start",
            customdata=[b["n"] for b in undated], hovertext=[_bar_hover(b, data["as_of"]) for b in undated],
            hoverinfo="text", marker={"color": "#d9d9d9", "pattern": {"shape": "/"},
                                      "line": {"color": ["#67001f" if b["phase"] else "#636363" for b in undated],
                                               "width": [3 if b["phase"] else 1 for b in undated]}}), axes[(1, 1)]))
    events = [e for e in data["events"] if e["date"]]
    for kind, symbol in _EVENT_SYMBOLS.items():
        chosen = [e for e in events if e["kind"] == kind]
        if chosen:
            traces.append(_on(go.Scatter(
                name=kind, mode="markers", x=[e["date"] for e in chosen], y=[EVENTS] * len(chosen),
                marker={"symbol": symbol, "size": 11, "color": "#525252"},
                hovertext=[f"{e['date']}: {e['label']} [{e['ref']}]" for e in chosen], hoverinfo="text"),
                axes[(1, main)]))
    for severity, colour in reversed(SEVERITY_COLOURS.items()):  # the most serious drawn last, on top
        chosen = [f for f in data["findings"] if f["date"] and f["severity"] == severity]
        if chosen:
            traces.append(_on(go.Scatter(
                name=f"{severity} findings", mode="markers", x=[f["date"] for f in chosen],
                y=[FINDINGS] * len(chosen), marker={"symbol": "circle", "size": 12, "color": colour},
                hovertext=[f"{f['code']} ({f['severity']}): {f['message']}<br>source: {f['citation']}"
                           for f in chosen], hoverinfo="text"), axes[(1, main)]))
    for row, instrument in enumerate(instruments, start=2):
        points = [p for p in data["scores"] if p["instrument"] == instrument]
        traces.append(_on(go.Scatter(
            name=instrument, mode="lines+markers", x=[p["date"] for p in points], y=[p["score"] for p in points],
            line={"color": "#252525"}, hoverinfo="text",
            hovertext=[f"{p['date']}: {instrument} {p['score']} [{p['ref']}]" for p in points]), axes[(row, main)]))
    return {"data": traces, "frame": frame_id(key), "title": title}, key


def frame_id(key: FrameKey) -> str:
    return hashlib.sha1(repr(key).encode()).hexdigest()[:12]


def layouts(keys: Iterable[FrameKey]) -> dict[str, Any]:
    """The layouts a page's figures stand on, by frame id."""
    return {frame_id(key): orjson.loads(_frame(*key)[0]) for key in keys}


def _on(trace: Any, axes: tuple[str, str]) -> dict[str, Any]:
    out = trace.to_plotly_json()
    out["xaxis"], out["yaxis"] = axes
    return out


@lru_cache(maxsize=64)
def _frame(undated: bool, instruments: tuple[str, ...], lanes: tuple[str, ...],
           bands_json: str) -> tuple[bytes, dict[tuple[int, int], tuple[str, str]]]:
    """The subplots of one shape of timeline (as JSON, copied per patient) and each cell's axes."""
    from plotly.subplots import make_subplots

    bands = orjson.loads(bands_json)
    rows, cols = 1 + len(instruments), 2 if undated else 1
    # The undated panel holds the lanes only: score rows span the dated column alone, so that their
    # dates line up with the courses above them.
    specs = [[{}] * cols] + [[None] * (cols - 1) + [{}] for _ in instruments]
    fig = make_subplots(rows=rows, cols=cols, specs=specs, shared_xaxes=True,
                        column_widths=[0.16, 0.84] if undated else None,
                        row_heights=[0.62] + [0.38 / len(instruments)] * len(instruments) if instruments else None,
                        vertical_spacing=0.06, horizontal_spacing=0.02)
    main = cols
    category = {"type": "category", "categoryorder": "array", "categoryarray": list(lanes)}
    fig.update_yaxes(**category, row=1, col=1)
    if undated:
        fig.update_xaxes(title_text="undated, in record order", showticklabels=False, row=1, col=1)
        fig.update_yaxes(**category, matches="y", showticklabels=False, row=1, col=main)
    for row, instrument in enumerate(instruments, start=2):
        for band in bands[instrument]:
            fig.add_hrect(y0=band["min"] - 0.5, y1=band["max"] + 0.5, row=row, col=main, line_width=0,
                          layer="below", fillcolor=BAND_COLOURS.get(band["status"], "#eeeeee"), opacity=0.25,
                          exclude_empty_subplots=False)
        high = max(b["max"] for b in bands[instrument])
        fig.update_yaxes(title_text=instrument, range=[-1, high + 1], row=row, col=main)
    fig.update_xaxes(type="date", col=main)
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee")
    fig.update_layout(barmode="overlay", showlegend=False, height=260 + 26 * len(lanes) + 150 * len(instruments),
                      margin={"l": 10, "r": 10, "t": 30, "b": 30}, font={"size": 12}, plot_bgcolor="white")
    axes = {}
    for row in range(1, rows + 1):
        for col in range(1, cols + 1):
            cell = fig.get_subplot(row, col)
            if cell is None:
                continue
            axes[(row, col)] = (cell.xaxis.plotly_name.replace("axis", ""), cell.yaxis.plotly_name.replace("axis", ""))
    return orjson.dumps(fig.to_plotly_json()["layout"]), axes


def _ms(start: str, end: str) -> int:
    """A bar's length in milliseconds (plotly's unit on a date axis); a one-day course is one day."""
    days = max((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days, 1)
    return days * 86_400_000


def _bar_hover(bar: dict[str, Any], as_of: str) -> str:
    when = (f"{bar['start']} to {bar['end']}" + (f" ({bar['when']})" if bar["when"] else "")
            if bar["dated"] else (bar["when"] or "dates not recorded") + (f", {bar['days']} days" if bar["days"] else ""))
    parts = [f"course {bar['n']}: {bar['label']}", when]
    if bar["stop"]:
        parts.append(f"stopped: {bar['stop']}")
    if bar["phase"]:
        parts.append(f"refractory {bar['phase']}")
    if bar["ref"]:
        parts.append(f"record: {bar['ref']}")
    return "<br>".join(parts)
