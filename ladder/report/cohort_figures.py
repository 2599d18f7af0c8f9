"""A cohort as pictures: patients per highest step and per verdict (with percentages), the treatment
pathways as a Sankey diagram (step sequences, as OHDSI TreatmentPatterns draws them), and per check
the patients and findings. `min_cell` suppression applies to every number drawn: a count from 1 to
min_cell - 1 is never shown, and complementary suppression keeps it from being recovered from totals.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..summary import Tally
from .timeline import lane_name

DEPTH = 6  # steps of a pathway drawn; longer ones are cut (their later steps are rare and unreadable)


def pathway(timeline: dict[str, Any]) -> tuple[str, ...]:
    """A patient's ladder steps in the order first given (undated courses first, in the record's
    order: published cases list earlier treatment undated), repeats joined: AH1 > AH4 > BIO."""
    steps = set(timeline["lanes"]) - {"outside the ladder", "corticosteroids"}
    bars = [b for b in timeline["bars"] if b["lane"] in steps]
    ordered = [b for b in bars if not b["dated"]] + sorted((b for b in bars if b["dated"]), key=lambda b: b["start"])
    out: list[str] = []
    for bar in ordered:
        if bar["lane"] not in out:
            out.append(bar["lane"])
    return tuple(out[:DEPTH]) or ("no ladder step",)


def suppressed_pathways(paths: Counter[tuple[str, ...]], min_cell: int) -> tuple[dict[tuple[str, ...], int], int]:
    """The pathways shown, and how many patients are pooled as 'other pathways' (0 or >= min_cell):
    rare pathways are pooled, and when the pool is itself a small cell the next rarest join it."""
    if min_cell <= 1:
        return dict(paths), 0
    ranked = sorted(paths.items(), key=lambda kv: (kv[1], kv[0]))
    pooled = sum(n for _, n in ranked if n < min_cell)
    shown = [(p, n) for p, n in ranked if n >= min_cell]
    while 0 < pooled < min_cell and shown:
        pooled += shown.pop(0)[1]  # complementary: the rarest shown pathway joins the pool
    if 0 < pooled < min_cell:  # nothing left to pool with: the pool cannot be shown at all
        pooled = 0
    return dict(shown), pooled


def figures(tally: Tally, paths: Counter[tuple[str, ...]], min_cell: int) -> dict[str, Any]:
    """Plotly figures (JSON) and the tables beside them, every number already suppressed."""
    import plotly.graph_objects as go

    data = tally.as_dict(min_cell)
    out: dict[str, Any] = {"counts": data}
    for key, title in (("steps", "Patients by highest step reached"), ("refractory", "Refractory definition")):
        rows = data[key]
        labels = [lane_name(k.replace("_", " ")) for k in rows]  # 'BIO licensed add-on', not the whole label
        values = [v if isinstance(v, int) else 0 for v in rows.values()]
        text = [_with_share(v, data["audited"]) if isinstance(v, int) else f"{v} (suppressed)" for v in rows.values()]
        fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", text=text, textposition="auto",
                               marker={"color": "#6baed6"}, hoverinfo="text", hovertext=text))
        fig.update_layout(title={"text": title, "x": 0}, height=120 + 28 * len(labels),
                          margin={"l": 10, "r": 10, "t": 40, "b": 20}, plot_bgcolor="white",
                          yaxis={"autorange": "reversed"})
        out[key] = fig.to_plotly_json()
    shown, pooled = suppressed_pathways(paths, min_cell)
    out["sankey"] = _sankey(go, shown, pooled, min_cell)
    out["pathways"] = [{"steps": " > ".join(p), "patients": n, "share": _with_share(n, data["audited"])}
                       for p, n in sorted(shown.items(), key=lambda kv: -kv[1])]
    if pooled:
        out["pathways"].append({"steps": f"other pathways (each under {min_cell} patients)", "patients": pooled,
                                "share": _with_share(pooled, data["audited"])})
    return out


def _sankey(go: Any, shown: dict[tuple[str, ...], int], pooled: int, min_cell: int) -> dict[str, Any]:
    nodes: dict[str, int] = {}
    links: Counter[tuple[int, int]] = Counter()

    def node(name: str) -> int:
        return nodes.setdefault(name, len(nodes))

    for path, count in shown.items():
        names = [f"{n + 1}. {step}" for n, step in enumerate(path)]
        if len(names) == 1:
            names.append("stayed at the first step")
        for a, b in zip(names, names[1:]):
            links[(node(a), node(b))] += count
    if pooled:
        links[(node("pathways"), node(f"other pathways (each under {min_cell})"))] += pooled
    fig = go.Figure(go.Sankey(
        node={"label": list(nodes), "pad": 14, "thickness": 14, "color": "#9ecae1"},
        link={"source": [a for a, _ in links], "target": [b for _, b in links], "value": list(links.values())}))
    fig.update_layout(title={"text": "Treatment pathways (ladder steps in the order first given)", "x": 0},
                      height=max(320, 40 * len(nodes)), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig.to_plotly_json()


def _with_share(count: int, total: int) -> str:
    return f"{count} ({count / total:.0%})" if total else str(count)
