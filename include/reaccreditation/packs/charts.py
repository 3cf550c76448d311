"""The pack's charts as PNG bytes (matplotlib, Agg: no display), sized to read on a phone.

Colours are the RAG colours used in the email's text, and every chart is also said in words in the
email, so a reader whose client blocks images misses nothing.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

GREEN, AMBER, RED, GREY, INK = "#00703c", "#f0a30a", "#d4351c", "#b1b4b6", "#0b0c0c"


STYLE = {"font.size": 13, "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False}


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A bare Agg figure (no pyplot: no global state, nothing to close, faster in a worker)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(STYLE)
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def _png(fig: Any) -> bytes:
    out = BytesIO()
    fig.savefig(out, format="png", dpi=140, bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()


def _short(label: str, limit: int = 20) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def readiness_by_criterion(criteria: list[dict[str, Any]]) -> bytes | None:
    """Stacked bars per criterion: elements ready, at risk, gap."""
    rows = [c for c in criteria if c.get("ready") is not None]
    if not rows:
        return None
    fig, ax = _figure(5.2, 0.6 * len(rows) + 1.3)
    labels = [_short(f"{c['key']}. {c['title']}") for c in rows][::-1]
    ready = [c["ready"] for c in rows][::-1]
    risk = [c["at_risk"] for c in rows][::-1]
    gap = [c["gaps"] for c in rows][::-1]
    ax.barh(labels, ready, color=GREEN, label="ready")
    ax.barh(labels, risk, left=ready, color=AMBER, label="at risk")
    ax.barh(labels, gap, left=[a + b for a, b in zip(ready, risk, strict=True)], color=RED, label="gap")
    for y, (a, b, c) in enumerate(zip(ready, risk, gap, strict=True)):
        ax.text(a + b + c + 0.2, y, f"{c} gap{'s' if c != 1 else ''}" if c else "", va="center", fontsize=12, color=RED)
    ax.set_xlabel("elements")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, max(a + b + c for a, b, c in zip(ready, risk, gap, strict=True)) * 1.25 + 1)
    ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=3, frameon=False)
    ax.set_title("Readiness by criterion", loc="left", fontweight="bold", pad=28)
    return _png(fig)


def trend(rows: list[dict[str, Any]], labels: dict[str, str] | None = None) -> bytes | None:
    """The top rating and partials (incl. the lowest rating) per year; this year's forecast hatched.

    ``labels``: the standard's label per level (CSE: Compliance Plus ... Non-Compliance)."""
    labels = labels or {"exceeds": "Above the standard", "fails": "not met"}
    if not rows:
        return None
    fig, ax = _figure(5.2, 3.2)
    xs = range(len(rows))
    width = 0.38
    for i, r in enumerate(rows):
        forecast = r["kind"] == "forecast"
        style = {"hatch": "//", "edgecolor": "white", "alpha": 0.7} if forecast else {}
        ax.bar(i - width / 2, r["compliance_plus"], width, color=GREEN, label=labels["exceeds"] if i == 0 else None, **style)
        ax.bar(i + width / 2, r["partials"], width, color=RED, label=f"Partial or {labels['fails']}" if i == 0 else None, **style)
        ax.text(i - width / 2, r["compliance_plus"] + 0.2, str(r["compliance_plus"]), ha="center", fontsize=12)
        ax.text(i + width / 2, r["partials"] + 0.2, str(r["partials"]), ha="center", fontsize=12)
    ax.set_xticks(list(xs), [f"{r['year']}\nforecast" if r["kind"] == "forecast" else str(r["year"]) for r in rows])
    ax.set_ylabel("elements")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower center", bbox_to_anchor=(0.45, 1.0), ncol=2, frameon=False)
    ax.set_title("Assessment outcomes by year", loc="left", fontweight="bold", pad=28)
    return _png(fig)


def outcome_vs_forecast(closing: dict[str, Any]) -> bytes | None:
    """Closing pack: this year's ratings next to the forecast."""
    labels = list(closing["outcome"])
    fig, ax = _figure(5.2, 3)
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [closing["forecast"][k] for k in labels], 0.4, color=GREY, label="forecast")
    ax.bar([x + 0.2 for x in xs], [closing["outcome"][k] for k in labels], 0.4, color=INK, label="outcome")
    ax.set_xticks(list(xs), [k.replace(" ", "\n", 1) for k in labels])
    ax.legend(frameon=False)
    ax.set_title("Outcome against forecast", loc="left", fontweight="bold")
    return _png(fig)
