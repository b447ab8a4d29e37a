"""Charts as SVG strings (the panel report's, the usage page's), drawn on the server: one
small function per chart.

Every label is escaped here (expert names come from the catalog and from users), so a
template may mark a chart safe. Colours are presentation attributes (what the PDF export
draws); in a page, the classes `chart-primary`, `chart-primary-stroke` and
`chart-accent-stroke` let CSS variables re-colour them with the tenant's brand (see
panels/templates/panels/_report.html). fpdf2 draws these SVGs too, so they use only what
it understands: rect, line, path (with arcs), polyline, circle, text, fill-opacity.

It lives in config because two layers draw with it: the panel report (panels) and the
usage page (tenants.billing).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from math import cos, pi, sin

STANCES = ("support", "neutral", "oppose")
STANCE_COLOURS = {"support": "#2e7d32", "neutral": "#8a94a3", "oppose": "#c62828"}
SERIES_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
                  "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6")
TEXT, MUTED, TRACK = "#1d2430", "#5b6574", "#e5e9ef"
FONT = 'font-family="Helvetica, Arial, sans-serif"'


@dataclass(frozen=True)
class Palette:
    """The brand colours a chart falls back to where no CSS variable re-colours it."""

    primary: str = "#1f4e79"
    accent: str = "#e07a1f"


DEFAULT_PALETTE = Palette()


def _e(text) -> str:
    return escape(str(text), quote=True)


def _short(name: str, limit: int) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "..."


def _n(value: float) -> str:
    """A coordinate, short and stable."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: list[str], name: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}" class="chart chart-{name}" '
            f'{FONT}><title>{_e(label)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill: str = TEXT,
          weight: str = "normal", cls: str = "") -> str:
    css = f' class="{cls}"' if cls else ""
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}{css}>'
            f'{_e(text)}</text>')


# --- consensus gauge ----------------------------------------------------------------

GAUGE_CX, GAUGE_CY, GAUGE_R = 130.0, 132.0, 95.0


def gauge_point(value: float, radius: float = GAUGE_R) -> tuple[float, float]:
    """Where `value` (0..1) sits on the half circle: 0 at the left, 0.5 on top, 1 at the right."""
    angle = pi * (1.0 - min(max(value, 0.0), 1.0))
    return GAUGE_CX + radius * cos(angle), GAUGE_CY - radius * sin(angle)


def consensus_gauge(*, score: float, threshold: float, level: str, palette: Palette = DEFAULT_PALETTE) -> str:
    """The consensus score on a half-circle dial, with the panel's threshold marked on it."""
    reached = score >= threshold
    left_x, left_y = gauge_point(0.0)
    right_x, right_y = gauge_point(1.0)
    end_x, end_y = gauge_point(score)
    arc = f"A {_n(GAUGE_R)} {_n(GAUGE_R)} 0 0 1"
    body = [f'<path class="gauge-track" d="M {_n(left_x)} {_n(left_y)} {arc} {_n(right_x)} {_n(right_y)}" '
            f'fill="none" stroke="{TRACK}" stroke-width="20"/>']
    if score > 0:
        body.append(f'<path class="gauge-value chart-primary-stroke" data-value="{score:.4f}" '
                    f'd="M {_n(left_x)} {_n(left_y)} {arc} {_n(end_x)} {_n(end_y)}" fill="none" '
                    f'stroke="{palette.primary}" stroke-width="20"/>')
    inner_x, inner_y = gauge_point(threshold, GAUGE_R - 16)
    outer_x, outer_y = gauge_point(threshold, GAUGE_R + 16)
    body.append(f'<line class="gauge-threshold chart-accent-stroke" data-value="{threshold:.4f}" '
                f'x1="{_n(inner_x)}" y1="{_n(inner_y)}" x2="{_n(outer_x)}" y2="{_n(outer_y)}" '
                f'stroke="{palette.accent}" stroke-width="4"/>')
    label_x, label_y = gauge_point(threshold, GAUGE_R + 26)
    body.append(_text(label_x, label_y, f"{threshold:.2f}", size=10, anchor="middle", fill=MUTED))
    body.append(_text(GAUGE_CX, GAUGE_CY - 22, f"{score:.2f}", size=30, anchor="middle", weight="bold",
                      cls="gauge-score"))
    body.append(_text(GAUGE_CX, GAUGE_CY - 2, f"{level} consensus", size=12, anchor="middle", fill=MUTED))
    verdict = "threshold reached" if reached else "threshold not reached"
    body.append(_text(GAUGE_CX, GAUGE_CY + 24, f"{verdict} ({threshold:.2f})", size=11, anchor="middle"))
    body.append(_text(left_x, GAUGE_CY + 24, "0", size=10, anchor="middle", fill=MUTED))
    body.append(_text(right_x, GAUGE_CY + 24, "1", size=10, anchor="middle", fill=MUTED))
    label = (f"Consensus score {score:.2f} ({level}) against the panel's threshold {threshold:.2f}: "
             f"{'reached' if reached else 'not reached'}.")
    return _svg(260, 167, label, body, "gauge")


# --- agreement matrix ---------------------------------------------------------------

CELL = 38
MATRIX_LABEL_WIDTH = 170


def cell_opacity(value: float) -> float:
    """Agreement 0..1 as the strength of the primary colour over white (never invisible)."""
    return round(0.08 + 0.92 * min(max(value, 0.0), 1.0), 3)


def agreement_matrix(*, labels: list[str], values: list[list[float]], palette: Palette = DEFAULT_PALETTE) -> str:
    """Experts x experts: how far each pair agrees, darker for more agreement. Columns are
    numbered like the rows so long names need no rotated text."""
    n = len(labels)
    top = 26
    width, height = MATRIX_LABEL_WIDTH + n * CELL + 10, top + n * CELL + 30
    body = []
    for j in range(n):
        body.append(_text(MATRIX_LABEL_WIDTH + j * CELL + CELL / 2, top - 8, str(j + 1), size=10, anchor="middle",
                          fill=MUTED))
    for i, (name, row) in enumerate(zip(labels, values)):
        y = top + i * CELL
        body.append(_text(MATRIX_LABEL_WIDTH - 8, y + CELL / 2 + 4, f"{_short(name, 24)}  {i + 1}", size=11,
                          anchor="end"))
        for j, value in enumerate(row):
            x = MATRIX_LABEL_WIDTH + j * CELL
            opacity = cell_opacity(value)
            body.append(f'<rect class="matrix-cell chart-primary" data-row="{i}" data-col="{j}" '
                        f'data-value="{value:.3f}" x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" '
                        f'fill="{palette.primary}" fill-opacity="{opacity}"/>')
            body.append(_text(x + (CELL - 2) / 2, y + CELL / 2 + 3, f"{value:.2f}", size=10, anchor="middle",
                              fill="#ffffff" if opacity >= 0.55 else TEXT))
    body.append(_text(MATRIX_LABEL_WIDTH, top + n * CELL + 18, "0 = disagree, 1 = agree", size=10, fill=MUTED))
    pairs = [f"{labels[i]} and {labels[j]} {values[i][j]:.2f}" for i in range(n) for j in range(i + 1, n)]
    label = f"Agreement between {n} experts" + (f": {'; '.join(pairs)}." if pairs else ".")
    return _svg(width, height, label, body, "matrix")


# --- stances per round --------------------------------------------------------------

STANCE_PLOT_HEIGHT = 120.0
BAR_WIDTH, BAR_GAP = 44, 30


def stance_chart(*, rounds: list[tuple[str, dict[str, int]]]) -> str:
    """For each round, a stacked bar of how many experts supported, stayed neutral or opposed;
    heights are to one scale, so the bars compare across rounds."""
    left, top = 34, 12
    highest = max([sum(counts.get(s, 0) for s in STANCES) for _, counts in rounds] or [0]) or 1
    unit = STANCE_PLOT_HEIGHT / highest
    width = left + len(rounds) * (BAR_WIDTH + BAR_GAP) + 110
    height = int(top + STANCE_PLOT_HEIGHT + 34)
    base = top + STANCE_PLOT_HEIGHT
    body = [f'<line x1="{left - 6}" y1="{_n(base)}" x2="{left + len(rounds) * (BAR_WIDTH + BAR_GAP)}" '
            f'y2="{_n(base)}" stroke="{MUTED}" stroke-width="1"/>',
            _text(left - 10, base + 4, "0", size=10, anchor="end", fill=MUTED),
            _text(left - 10, top + 4, str(highest), size=10, anchor="end", fill=MUTED)]
    for index, (round_label, counts) in enumerate(rounds):
        x = left + index * (BAR_WIDTH + BAR_GAP)
        y = base
        for stance in STANCES:
            count = counts.get(stance, 0)
            if not count:
                continue
            bar = count * unit
            y -= bar
            body.append(f'<rect class="stance-bar stance-{stance}" data-round="{index + 1}" data-stance="{stance}" '
                        f'data-count="{count}" x="{x}" y="{_n(y)}" width="{BAR_WIDTH}" height="{_n(bar)}" '
                        f'fill="{STANCE_COLOURS[stance]}"/>')
            if bar >= 14:
                body.append(_text(x + BAR_WIDTH / 2, y + bar / 2 + 4, str(count), size=10, anchor="middle",
                                  fill="#ffffff"))
        body.append(_text(x + BAR_WIDTH / 2, base + 16, _short(round_label, 12), size=10, anchor="middle"))
    legend_x = left + len(rounds) * (BAR_WIDTH + BAR_GAP) + 6
    for index, stance in enumerate(reversed(STANCES)):
        y = top + 6 + index * 18
        body.append(f'<rect x="{legend_x}" y="{y}" width="12" height="12" fill="{STANCE_COLOURS[stance]}"/>')
        body.append(_text(legend_x + 18, y + 10, stance, size=11))
    described = "; ".join(
        f"{round_label}: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in STANCES) for round_label, counts in rounds)
    return _svg(width, height, f"Stances per round. {described}.", body, "stances")


# --- delphi estimates per round -------------------------------------------------------

PLOT_LEFT, PLOT_TOP, PLOT_WIDTH, PLOT_HEIGHT = 44.0, 14.0, 300.0, 160.0


def estimate_point(round_index: int, rounds: int, value: float) -> tuple[float, float]:
    """Round `round_index` (0-based) of `rounds` across, estimate 0..1 up."""
    step = PLOT_WIDTH / (rounds - 1) if rounds > 1 else 0.0
    x = PLOT_LEFT + (round_index * step if rounds > 1 else PLOT_WIDTH / 2)
    return x, PLOT_TOP + (1.0 - min(max(value, 0.0), 1.0)) * PLOT_HEIGHT


def delphi_chart(*, rounds: list[str], series: dict[str, list[float | None]],
                 palette: Palette = DEFAULT_PALETTE) -> str:
    """Each expert's estimate per round (a line each) and the panel's mean (dashed): lines
    that close in on each other are a panel converging."""
    count = len(rounds)
    width, height = int(PLOT_LEFT + PLOT_WIDTH + 170), int(PLOT_TOP + PLOT_HEIGHT + 36)
    body = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = estimate_point(0, count, tick)
        body.append(f'<line x1="{_n(PLOT_LEFT)}" y1="{_n(y)}" x2="{_n(PLOT_LEFT + PLOT_WIDTH)}" y2="{_n(y)}" '
                    f'stroke="{TRACK}" stroke-width="1"/>')
        body.append(_text(PLOT_LEFT - 8, y + 4, f"{tick:.2f}", size=10, anchor="end", fill=MUTED))
    for index, round_label in enumerate(rounds):
        x, _ = estimate_point(index, count, 0.0)
        body.append(_text(x, PLOT_TOP + PLOT_HEIGHT + 18, _short(round_label, 14), size=10, anchor="middle"))

    def line(points: list[tuple[float, float]], attributes: str) -> str:
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        return f'<polyline points="{coords}" fill="none" {attributes}/>'

    for index, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        points = [estimate_point(r, count, v) for r, v in enumerate(values) if v is not None]
        if len(points) > 1:
            body.append(line(points, f'class="delphi-line" data-expert="{_e(name)}" stroke="{colour}" '
                                     f'stroke-width="2"'))
        body += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{colour}"/>' for x, y in points]
        legend_y = PLOT_TOP + 4 + index * 15
        body.append(f'<rect x="{_n(PLOT_LEFT + PLOT_WIDTH + 16)}" y="{_n(legend_y)}" width="10" height="10" '
                    f'fill="{colour}"/>')
        body.append(_text(PLOT_LEFT + PLOT_WIDTH + 31, legend_y + 9, _short(name, 22), size=10))
    means = []
    for r in range(count):
        given = [values[r] for values in series.values() if r < len(values) and values[r] is not None]
        if given:
            means.append(estimate_point(r, count, sum(given) / len(given)))
    if len(means) > 1:
        body.append(line(means, f'class="delphi-mean chart-primary-stroke" stroke="{palette.primary}" '
                                f'stroke-width="3" stroke-dasharray="6 4"'))
    mean_y = PLOT_TOP + 4 + len(series) * 15
    body.append(f'<line class="chart-primary-stroke" x1="{_n(PLOT_LEFT + PLOT_WIDTH + 16)}" y1="{_n(mean_y + 5)}" '
                f'x2="{_n(PLOT_LEFT + PLOT_WIDTH + 26)}" y2="{_n(mean_y + 5)}" stroke="{palette.primary}" '
                f'stroke-width="3"/>')
    body.append(_text(PLOT_LEFT + PLOT_WIDTH + 31, mean_y + 9, "panel mean", size=10, weight="bold"))
    described = "; ".join(
        f"{name}: " + ", ".join("-" if v is None else f"{v:.2f}" for v in values) for name, values in series.items())
    return _svg(width, height, f"Estimates per round ({', '.join(rounds)}). {described}.", body, "delphi")


# --- the report's charts ----------------------------------------------------------------

def report_charts(report, *, palette: Palette = DEFAULT_PALETTE, text=str) -> dict[str, str]:
    """The charts a report has data for (a panels.selectors.PanelReport), by name, in the
    order the report shows them. `text` rewrites every label first (the PDF's fonts speak
    Latin-1)."""
    charts = {}
    consensus = report.consensus
    if consensus is not None:
        charts["gauge"] = consensus_gauge(score=consensus.score, threshold=consensus.threshold,
                                          level=consensus.level, palette=palette)
        labels = consensus.matrix.get("labels", [])
        if len(labels) > 1:
            charts["matrix"] = agreement_matrix(labels=[text(label) for label in labels],
                                                values=consensus.matrix.get("values", []), palette=palette)
    if report.stances_by_round:
        charts["stances"] = stance_chart(rounds=[(text(label), counts) for label, counts in report.stances_by_round])
    if report.estimates:
        charts["delphi"] = delphi_chart(rounds=[text(label) for label in report.estimate_rounds],
                                        series={text(name): values for name, values in report.estimates.items()},
                                        palette=palette)
    return charts


# --- usage: a month by day, and ranked totals ---------------------------------------------

DAY_PLOT_LEFT, DAY_PLOT_TOP, DAY_PLOT_HEIGHT, DAY_BAR = 56.0, 14.0, 150.0, 14.0


def _compact(value: float) -> str:
    """1234 -> 1.2k, 2500000 -> 2.5M, 0.1234 -> 0.12: axis and bar labels stay short."""
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if magnitude >= 1_000:
        return f"{value / 1_000:.1f}k".replace(".0k", "k")
    if magnitude and magnitude < 10 and value != int(value):
        return f"{value:.2f}"
    return f"{value:.0f}"


def daily_chart(*, days: list[str], series: dict[str, list[float]], measure: str, unit: str = "",
                name: str = "daily") -> str:
    """One stacked bar per day of the month, split by `series` (a model or a panel type each,
    a value per day), all to one scale. `measure` names what is counted ("tokens", "cost")."""
    totals = [sum(values[index] for values in series.values()) for index in range(len(days))]
    highest = max(totals or [0]) or 1
    unit_height = DAY_PLOT_HEIGHT / highest
    step = DAY_BAR + 4
    plot_width = max(len(days), 1) * step
    width = int(DAY_PLOT_LEFT + plot_width + 190)
    legend_rows = max(len(series), 1)
    height = int(max(DAY_PLOT_TOP + DAY_PLOT_HEIGHT + 34, DAY_PLOT_TOP + legend_rows * 16 + 10))
    base = DAY_PLOT_TOP + DAY_PLOT_HEIGHT
    body = []
    for fraction in (0.0, 0.5, 1.0):
        y = base - fraction * DAY_PLOT_HEIGHT
        body.append(f'<line x1="{_n(DAY_PLOT_LEFT - 4)}" y1="{_n(y)}" x2="{_n(DAY_PLOT_LEFT + plot_width)}" '
                    f'y2="{_n(y)}" stroke="{TRACK}" stroke-width="1"/>')
        body.append(_text(DAY_PLOT_LEFT - 8, y + 4, unit + _compact(highest * fraction), size=10, anchor="end",
                          fill=MUTED))
    colours = {label: SERIES_COLOURS[index % len(SERIES_COLOURS)] for index, label in enumerate(series)}
    for index, day in enumerate(days):
        x = DAY_PLOT_LEFT + index * step + 2
        y = base
        for label, values in series.items():
            value = values[index]
            if value <= 0:
                continue
            bar = value * unit_height
            y -= bar
            body.append(f'<rect class="day-bar" data-day="{_e(day)}" data-series="{_e(label)}" '
                        f'data-value="{value:g}" x="{_n(x)}" y="{_n(y)}" width="{_n(DAY_BAR)}" '
                        f'height="{_n(max(bar, 0.5))}" fill="{colours[label]}"/>')
        if index == 0 or (index + 1) % 5 == 0 or index == len(days) - 1:
            body.append(_text(x + DAY_BAR / 2, base + 14, day[-2:].lstrip("0"), size=9, anchor="middle",
                              fill=MUTED))
    legend_x = DAY_PLOT_LEFT + plot_width + 14
    for index, label in enumerate(series):
        y = DAY_PLOT_TOP + index * 16
        body.append(f'<rect x="{_n(legend_x)}" y="{_n(y)}" width="10" height="10" fill="{colours[label]}"/>')
        body.append(_text(legend_x + 16, y + 9, _short(label or "(none)", 26), size=10))
    if not series:
        body.append(_text(legend_x, DAY_PLOT_TOP + 9, "nothing yet", size=10, fill=MUTED))
    used = [f"{day}: {unit}{_compact(total)}" for day, total in zip(days, totals) if total]
    label = (f"{measure.capitalize()} per day, {days[0] if days else ''} to {days[-1] if days else ''}"
             + (f", by {', '.join(label or '(none)' for label in series)}. " if series else ". ")
             + ("; ".join(used) + "." if used else f"No {measure} yet."))
    return _svg(width, height, label, body, name)


RANK_LABEL_WIDTH, RANK_BAR_WIDTH, RANK_ROW = 170.0, 260.0, 24.0


def ranked_chart(*, rows: list[tuple[str, float]], measure: str, unit: str = "", name: str = "ranked",
                 palette: Palette = DEFAULT_PALETTE) -> str:
    """Horizontal bars, largest first as given: a total per model, panel type or user."""
    highest = max([value for _, value in rows] or [0]) or 1
    width = int(RANK_LABEL_WIDTH + RANK_BAR_WIDTH + 80)
    height = int(max(len(rows), 1) * RANK_ROW + 12)
    body = []
    for index, (label, value) in enumerate(rows):
        y = 6 + index * RANK_ROW
        bar = RANK_BAR_WIDTH * value / highest
        body.append(_text(RANK_LABEL_WIDTH - 8, y + 14, _short(label or "(none)", 26), size=11, anchor="end"))
        body.append(f'<rect class="rank-bar chart-primary" data-label="{_e(label)}" data-value="{value:g}" '
                    f'x="{_n(RANK_LABEL_WIDTH)}" y="{_n(y + 2)}" width="{_n(max(bar, 1))}" height="{_n(RANK_ROW - 8)}" '
                    f'fill="{palette.primary}"/>')
        body.append(_text(RANK_LABEL_WIDTH + max(bar, 1) + 6, y + 14, unit + _compact(value), size=10, fill=MUTED))
    if not rows:
        body.append(_text(RANK_LABEL_WIDTH, 20, "nothing yet", size=11, fill=MUTED))
    described = "; ".join(f"{label or '(none)'}: {unit}{_compact(value)}" for label, value in rows)
    return _svg(width, height, f"{measure.capitalize()}: {described or 'nothing yet'}.", body, name)
