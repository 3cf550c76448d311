"""One day of the timetable as a Gantt chart (PNG): one row per place, bars coloured by mode."""

from __future__ import annotations

from io import BytesIO

from reaccreditation.timetable.ics import where
from reaccreditation.timetable.problem import Problem, clock
from reaccreditation.timetable.solution import Timetable

COLOURS = {"site_visit": "#e07b39", "face_to_face": "#3b7dd8", "virtual": "#5aa469", "lunch": "#bbbbbb"}


def day_png(p: Problem, t: Timetable, day: int = 0, title: str | None = None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    items = sorted((pl for pl in t.placements if pl.day == day), key=lambda pl: pl.start)
    lunches = [lb for lb in t.lunches if lb.day == day]
    rows = [
        (pl.start, p.session(pl.key).title, pl.end - pl.start, pl.mode, where(p, pl.mode, pl.site, pl.room, pl.link))
        for pl in items
    ]
    rows += [(lb.start, "Lunch", lb.end - lb.start, "lunch", "") for lb in lunches]
    rows.sort()
    fig, ax = plt.subplots(figsize=(12, 0.55 * len(rows) + 1.6), dpi=110)
    for y, (start, _title, length, mode, _place) in enumerate(rows):
        ax.barh(y, length, left=start, color=COLOURS[mode], height=0.72)
    labels = [f"{clock(r[0])}  {r[1]}" + (f"\n{r[4]}" if r[4] else "") for r in rows]
    ticks = list(range(p.day_start - p.day_start % 60, p.day_end + 1, 60))
    ax.set_xticks(ticks, [clock(x) for x in ticks])
    ax.set_xlim(p.day_start, p.day_end)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"Assessment timetable, {p.day_label(day)}")
    ax.legend(
        handles=[Patch(color=c, label=k.replace("_", " ")) for k, c in COLOURS.items()], loc="lower left", fontsize=7, ncols=4
    )
    fig.tight_layout()
    out = BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
