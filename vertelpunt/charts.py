"""Server-side SVG charts: no JavaScript, no CDN, styled by classes in vertelpunt.css.

Small multiples (one small line chart per theme, all on one scale) rather than ten coloured
lines in one chart: each theme is named by its own heading, so nothing depends on telling
colours apart (WCAG 1.4.1), and the eye compares shapes across themes easily. Each chart has
a <title> and <desc>; the page shows the same numbers as a table. Counts suppressed by
small-number protection ("< k") leave a gap in the line and are never plotted.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 12, 28


def _nice_max(value: int) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    return value


def line_chart(title: str, periods: list[dict], values: list, y_max: int, uid: str) -> Markup:
    """One line chart; `values[i]` is a count or a suppressed "< k" string."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(periods)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return TOP + plot_h - plot_h * v / y_max

    runs, run, points = [], [], []
    for i, v in enumerate(values):
        if isinstance(v, int):
            run.append(f"{x(i):.1f},{y(v):.1f}")
            points.append((x(i), y(v)))
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    shown = [(periods[i]["label"], v) for i, v in enumerate(values) if isinstance(v, int)]
    peak = max(shown, key=lambda p: p[1]) if shown else None
    hidden = sum(1 for v in values if not isinstance(v, int))
    desc = (
        f"Aantal verhalen met dit thema per periode, van {periods[0]['label']}"
        f" tot en met {periods[-1]['label']}."
        if periods
        else "Geen gegevens."
    )
    if peak:
        desc += f" Hoogste aantal: {peak[1]} in {peak[0]}."
    if hidden:
        desc += f" {hidden} periode(s) met te weinig verhalen zijn niet getoond."
    desc += " De cijfers staan ook in de tabel hieronder."

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}"'
        f' y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{y_max}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h + 4}" text-anchor="end">0</text>',
    ]
    if periods:
        parts.append(
            f'<text class="tick" x="{LEFT}" y="{HEIGHT - 8}">{escape(periods[0]["label"])}</text>'
        )
        if n > 1:
            parts.append(
                f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
                f"{escape(periods[-1]['label'])}</text>"
            )
    for r in runs:
        parts.append(f'<polyline class="line" points="{" ".join(r)}"/>')
    for px, py in points:
        parts.append(f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="2.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def small_multiples(periods: list[dict], rows: list[dict], k: int) -> list[dict]:
    """One chart per theme row ({'theme', 'label', 'values': [{'count'}]}), on one scale."""
    counts = [v["count"] for row in rows for v in row["values"] if isinstance(v["count"], int)]
    y_max = _nice_max(max(counts, default=0) or 1)
    return [
        {
            "theme": row["theme"],
            "label": row["label"],
            "svg": line_chart(
                f"{row['label']}: verhalen per periode",
                periods,
                [v["count"] for v in row["values"]],
                y_max,
                f"grafiek-{row['theme']}",
            ),
        }
        for row in rows
    ]
