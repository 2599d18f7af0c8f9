"""A patient's timeline (report/timeline.py data) as a still picture, PNG or SVG (matplotlib, no
screen needed), for pasting into a note: the same lanes, bars, scores on their control bands and
markers as the HTML picture, with the findings listed under it by code."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from .plotly_timeline import BAND_COLOURS, EVENTS, FINDINGS, SEVERITY_COLOURS

_MARKERS = {"adverse event": ("^", "full"), "screening": ("D", "full"), "stopped": ("x", "full"),
            "clinician judgement": ("o", "none")}


def picture(data: dict[str, Any], fmt: str) -> bytes:
    import matplotlib
    matplotlib.use("Agg")  # no display: a file, never a window
    matplotlib.rcParams["svg.hashsalt"] = "ladder"  # the same ids in every run: reproducible SVG
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    instruments = list(data["bands"])
    undated = [b for b in data["bars"] if not b["dated"]]
    dated = [b for b in data["bars"] if b["dated"]]
    lanes = list(reversed(data["lanes"])) + [EVENTS, FINDINGS]
    y = {lane: n for n, lane in enumerate(lanes)}
    heights = [max(3.0, 0.42 * len(lanes))] + [1.6] * len(instruments)
    fig = plt.figure(figsize=(12, sum(heights) + 1.2), dpi=110)
    grid = fig.add_gridspec(1 + len(instruments), 2 if undated else 1, height_ratios=heights,
                            width_ratios=[1, 5] if undated else None, wspace=0.04, hspace=0.25)
    main = fig.add_subplot(grid[0, -1])
    days = [_day(d) for b in dated for d in (b["start"], b["end"])] or [dt.date.today()]
    span = max((max(days) - min(days)).days, 1)
    for bar in dated:
        start, end = _day(bar["start"]), _day(bar["end"])
        width = max((end - start).days, 1)
        main.barh(y[bar["lane"]], width, left=start, height=0.6, color="#9ecae1" if bar["ongoing"] else "#6baed6",
                  edgecolor="#67001f" if bar["phase"] else "#08519c", linewidth=2.5 if bar["phase"] else 0.8)
        # The label where the bar has room for it; else its course number (the findings name courses so).
        text = f" {bar['n']}: {bar['label']}" if width > span * 0.18 else f" {bar['n']}"
        main.text(start, y[bar["lane"]], text, va="center", fontsize=7, clip_on=True)
    for event in (e for e in data["events"] if e["date"]):
        marker, fill = _MARKERS[event["kind"]]
        main.plot(_day(event["date"]), y[EVENTS], linestyle="none", marker=marker, fillstyle=fill,
                  color="#525252", markersize=7)
    rank = {"info": 0, "warning": 1, "critical": 2}  # the most serious drawn last, on top
    for finding in sorted((f for f in data["findings"] if f["date"]), key=lambda f: rank[f["severity"]]):
        main.plot(_day(finding["date"]), y[FINDINGS], "o", color=SEVERITY_COLOURS[finding["severity"]], markersize=8)
        main.annotate(finding["code"], (_day(finding["date"]), y[FINDINGS]), textcoords="offset points",
                      xytext=(0, 6), ha="center", fontsize=6)
    main.set_yticks(range(len(lanes)), lanes, fontsize=8)
    main.set_ylim(-0.6, len(lanes) - 0.4)
    main.set_title(f"{data['id']}: treatment timeline (as of {data['as_of']})", loc="left", fontsize=11)
    main.grid(axis="x", color="#eeeeee")
    locator = mdates.AutoDateLocator()
    main.xaxis.set_major_locator(locator)
    main.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if undated:
        side = fig.add_subplot(grid[0, 0], sharey=main)
        for n, bar in enumerate(undated):
            side.barh(y[bar["lane"]], 0.9, left=n, height=0.6, color="#d9d9d9", hatch="//",
                      edgecolor="#67001f" if bar["phase"] else "#636363", linewidth=2.5 if bar["phase"] else 0.8)
            side.text(n + 0.05, y[bar["lane"]], str(bar["n"]) + (" (start only)" if bar["start"] else ""),
                      va="center", fontsize=6)
        side.set_xlim(0, max(len(undated), 1))
        side.set_xticks([])
        side.set_xlabel("undated, record order", fontsize=8)
        main.tick_params(axis="y", labelleft=False)
    for row, instrument in enumerate(instruments, start=1):
        _scores(fig.add_subplot(grid[row, -1], sharex=main), data, instrument)
    if data["findings"]:
        listed = "; ".join(f"{f['code']} ({f['severity']})" for f in data["findings"][:14])
        fig.text(0.01, 0.005, f"findings: {listed}" + (" ..." if len(data["findings"]) > 14 else ""), fontsize=7)
    out = io.BytesIO()
    fig.savefig(out, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
    plt.close(fig)
    return out.getvalue()


def _scores(axis: Any, data: dict[str, Any], instrument: str) -> None:
    for band in data["bands"][instrument]:
        axis.axhspan(band["min"] - 0.5, band["max"] + 0.5, color=BAND_COLOURS.get(band["status"], "#eeeeee"),
                     alpha=0.2, linewidth=0)
    points = [s for s in data["scores"] if s["instrument"] == instrument]
    axis.plot([_day(p["date"]) for p in points], [p["score"] for p in points], "-o", color="#252525", markersize=4)
    axis.set_ylabel(instrument, fontsize=8)
    axis.set_ylim(-1, max(b["max"] for b in data["bands"][instrument]) + 1)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _metadata(fmt: str) -> dict[str, Any]:
    """Reproducible files: no creation date (the same history gives the same bytes)."""
    if fmt == "svg":
        return {"Date": None}
    return {"Software": "ladder"} if fmt == "png" else {}
