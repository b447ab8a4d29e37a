"""The analytics page (tenant admins on a plan with `advanced_analytics`): a date range
form, the figures of panels/analytics.py, and their charts as server-drawn SVG.

The chart functions are drawn with config/charts.py's helpers (so every label is escaped
and the template may mark a chart safe); they could move there beside the report's charts."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.charts import (
    DEFAULT_PALETTE, MUTED, SERIES_COLOURS, TRACK, Palette, _e, _n, _svg, _text, ranked_chart,
)
from config.errors import Forbidden
from panels.analytics import (
    CONSENSUS_LEVELS, STATUSES, Analytics, InvalidRange, analytics_access_check, analytics_get, analytics_range,
)
from panels.views import tenant_page
from tenants.configuration import PANEL_TYPE_NAMES

LEVEL_COLOURS = {"high": "#2e7d32", "medium": "#e6ab02", "low": "#c62828"}
STATUS_COLOURS = {"completed": "#2e7d32", "failed": "#c62828", "cancelled": "#8a94a3",
                  "awaiting_input": "#e6ab02", "in_progress": "#1f78b4", "building_consensus": "#7570b3",
                  "assigning_experts": "#a6cee3", "queued": "#b2df8a", "created": "#cab2d6"}


# --- charts ----------------------------------------------------------------------------

WEEK_PLOT_WIDTH, WEEK_PLOT_HEIGHT, WEEK_LEFT, WEEK_TOP = 560.0, 150.0, 36.0, 12.0


def _week_axis(weeks: list[str], highest: float, top_label: str) -> list[str]:
    """The base line, the scale's ends and every week's label (thinned out to fit)."""
    base = WEEK_TOP + WEEK_PLOT_HEIGHT
    axis = (f'<line x1="{_n(WEEK_LEFT)}" y1="{_n(base)}" x2="{_n(WEEK_LEFT + WEEK_PLOT_WIDTH)}" y2="{_n(base)}" '
            f'stroke="{MUTED}" stroke-width="1"/>')
    body = [axis,
            _text(WEEK_LEFT - 6, base + 4, "0", size=10, anchor="end", fill=MUTED),
            _text(WEEK_LEFT - 6, WEEK_TOP + 4, top_label, size=10, anchor="end", fill=MUTED)]
    slot = WEEK_PLOT_WIDTH / max(len(weeks), 1)
    every = max(1, -(-len(weeks) * 52 // int(WEEK_PLOT_WIDTH)))  # a label needs about 52 px
    for index, week in enumerate(weeks):
        if index % every == 0:
            body.append(_text(WEEK_LEFT + slot * (index + 0.5), base + 16, week.split("-")[-1], size=10,
                              anchor="middle", fill=MUTED))
    return body


def _legend(names: list[str], colours: dict[str, str]) -> list[str]:
    x = WEEK_LEFT + WEEK_PLOT_WIDTH + 16
    body = []
    for index, name in enumerate(names):
        y = WEEK_TOP + index * 18
        body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="12" height="12" fill="{colours[name]}"/>')
        body.append(_text(x + 18, y + 10, name.replace("_", " "), size=11))
    return body


def weekly_bars(*, weeks: list[str], counts: list[dict[str, int]], order: list[str], colours: dict[str, str],
                name: str, what: str) -> str:
    """A stacked bar per week: how many of each kind (`order`, bottom up), to one scale."""
    highest = max([sum(week.values()) for week in counts] or [0]) or 1
    unit = WEEK_PLOT_HEIGHT / highest
    slot = WEEK_PLOT_WIDTH / max(len(weeks), 1)
    shown = [kind for kind in order if any(week.get(kind) for week in counts)]
    body = _week_axis(weeks, highest, str(highest))
    for index, (week, week_counts) in enumerate(zip(weeks, counts)):
        y = WEEK_TOP + WEEK_PLOT_HEIGHT
        for kind in shown:
            count = week_counts.get(kind, 0)
            if count:
                y -= count * unit
                body.append(f'<rect class="week-bar" data-week="{_e(week)}" data-kind="{_e(kind)}" data-count="{count}" '
                            f'x="{_n(WEEK_LEFT + slot * index + slot * 0.15)}" y="{_n(y)}" width="{_n(slot * 0.7)}" '
                            f'height="{_n(count * unit)}" fill="{colours[kind]}"><title>{_e(week)}: {count} '
                            f'{_e(kind.replace("_", " "))}</title></rect>')
    body += _legend(shown, colours)
    described = "; ".join(f"{week}: " + ", ".join(f"{c} {kind}" for kind, c in week_counts.items())
                          for week, week_counts in zip(weeks, counts) if week_counts)
    label = f"{what} per ISO week" + (f". {described}." if described else ": none in this range.")
    return _svg(int(WEEK_LEFT + WEEK_PLOT_WIDTH + 150), int(WEEK_TOP + WEEK_PLOT_HEIGHT + 26), label, body, name)


def score_line(*, weeks: list[str], scores: list[float | None], palette: Palette = DEFAULT_PALETTE) -> str:
    """The mean consensus score per week (0-1) as a line; weeks without one are skipped."""
    slot = WEEK_PLOT_WIDTH / max(len(weeks), 1)
    body = _week_axis(weeks, 1.0, "1")
    for tick in (0.5, 0.8):  # where the medium and high levels start
        y = WEEK_TOP + (1 - tick) * WEEK_PLOT_HEIGHT
        body.append(f'<line x1="{_n(WEEK_LEFT)}" y1="{_n(y)}" x2="{_n(WEEK_LEFT + WEEK_PLOT_WIDTH)}" y2="{_n(y)}" '
                    f'stroke="{TRACK}" stroke-width="1"/>')
        body.append(_text(WEEK_LEFT - 6, y + 4, f"{tick:.1f}", size=10, anchor="end", fill=MUTED))
    points = [(WEEK_LEFT + slot * (index + 0.5), WEEK_TOP + (1 - score) * WEEK_PLOT_HEIGHT, week, score)
              for index, (week, score) in enumerate(zip(weeks, scores)) if score is not None]
    if len(points) > 1:
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y, _, _ in points)
        body.append(f'<polyline class="score-line chart-primary-stroke" points="{coords}" fill="none" '
                    f'stroke="{palette.primary}" stroke-width="2"/>')
    body += [f'<circle class="score-point chart-primary" data-week="{_e(week)}" data-value="{score:.4f}" '
             f'cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{palette.primary}"><title>{_e(week)}: {score:.2f}</title></circle>'
             for x, y, week, score in points]
    described = "; ".join(f"{week}: {score:.2f}" for _, _, week, score in points)
    label = "Mean consensus score per ISO week" + (f". {described}." if described else ": none in this range.")
    return _svg(int(WEEK_LEFT + WEEK_PLOT_WIDTH + 150), int(WEEK_TOP + WEEK_PLOT_HEIGHT + 26), label, body,
                "consensus-score")


def analytics_charts(analytics: Analytics, *, palette: Palette = DEFAULT_PALETTE) -> dict[str, str]:
    weeks = [week.week for week in analytics.weeks]
    type_colours = {name: SERIES_COLOURS[index] for index, name in enumerate(PANEL_TYPE_NAMES)}
    return {
        "by_type": weekly_bars(weeks=weeks, counts=[week.by_type for week in analytics.weeks],
                               order=list(PANEL_TYPE_NAMES), colours=type_colours, name="by-type",
                               what="Panels by type"),
        "by_status": weekly_bars(weeks=weeks, counts=[week.by_status for week in analytics.weeks],
                                 order=list(STATUSES), colours=STATUS_COLOURS, name="by-status",
                                 what="Panels by status"),
        "levels": weekly_bars(weeks=weeks, counts=[week.levels for week in analytics.consensus],
                              order=list(reversed(CONSENSUS_LEVELS)), colours=LEVEL_COLOURS, name="levels",
                              what="Consensus levels"),
        "score": score_line(weeks=weeks, scores=[week.mean_score for week in analytics.consensus], palette=palette),
        "experts_used": ranked_chart(rows=[(e.name, e.panels) for e in analytics.experts_used],
                                     measure="panels per expert", name="experts-used", palette=palette),
        "experts_rated": ranked_chart(rows=[(e.name, e.mean_rating) for e in analytics.experts_rated],
                                      measure="mean rating (1-5) per expert", name="experts-rated", palette=palette),
        "documents": ranked_chart(rows=[(d.title, d.citations) for d in analytics.documents_cited],
                                  measure="citations per document", name="documents", palette=palette),
    }


def duration_text(seconds: float | None) -> str:
    """`4 min 12 s`, `1 h 3 min`; empty for none."""
    if seconds is None:
        return ""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


# --- the page ----------------------------------------------------------------------------

class AnalyticsRangeForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def add_prefix(self, field_name):  # the query string says ?from=&to=, as the API's does
        return {"start": "from", "end": "to"}.get(field_name, field_name)


@tenant_page
@require_GET
def analytics_page(request):
    try:
        analytics_access_check(tenant=request.tenant, user=request.user)
    except Forbidden as refusal:
        if refusal.code == "admins_only":
            raise PermissionDenied(refusal.message) from None
        return render(request, "panels/analytics.html", {"refusal": refusal.message}, status=403)
    form = AnalyticsRangeForm(request.GET or None)
    status, chosen = 200, {}
    if form.is_bound:
        if form.is_valid():
            chosen = form.cleaned_data
        else:
            status = 400
    try:
        start, end = analytics_range(start=chosen.get("start"), end=chosen.get("end"))
    except InvalidRange as error:
        form.add_error(None, error.message)
        status, (start, end) = 400, analytics_range()
    if not form.is_bound:  # the form shows the default range
        form = AnalyticsRangeForm(initial={"start": start, "end": end})
    analytics = analytics_get(start=start, end=end)
    branding = request.tenant.configuration.branding
    palette = Palette(primary=branding.primary_color, accent=branding.accent_color)
    return render(request, "panels/analytics.html", {
        "form": form, "analytics": analytics, "charts": analytics_charts(analytics, palette=palette),
        "median_duration": duration_text(analytics.completed.median_duration_seconds),
    }, status=status)
