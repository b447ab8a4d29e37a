"""Reads for the analytics page and `GET /api/v1/analytics/` (the `advanced_analytics` plan
flag): what the active tenant's panels did over a date range. Everything is read from the
tenant's own schema, so another tenant's panels are never counted.

A panel belongs to the day it was created (UTC, the project's time zone) and to that day's
ISO week. "Completed" panels are the ones with an outcome: durations, tokens and dissent
are measured on them. "Rated best" uses PanelRating (the users' 1-5 ratings of panels in
the range, credited to every expert who sat on the panel), not AgentUsage, which holds
all-time totals that a date range cannot cut.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from django.db.models import Avg, Count, F, QuerySet
from django.utils import timezone

from config.errors import DomainError, Forbidden
from panels.lifecycle import Status
from panels.models import Consensus, Contribution, Panel, PanelMember, PanelRating
from panels.orchestration.consensus import LEVELS
from rag.models import Chunk, Document
from rag.retrieval import chunk_id_from_citation
from tenants.configuration import PANEL_TYPE_NAMES, TIER_PRESETS, TIERS
from tenants.roles import is_tenant_admin

DEFAULT_WEEKS = 12
MAX_DAYS = 731  # two years of weeks is as much as a chart can show
TOP = 10
CONSENSUS_LEVELS = tuple(label for _, label in LEVELS)  # high, medium, low
STATUSES = tuple(status.lower() for status in Status.values)  # as the API spells them


class InvalidRange(DomainError):
    code = "invalid_range"


def analytics_access_check(*, tenant, user) -> None:
    """Analytics are for tenant admins on a plan with `advanced_analytics`; say why not."""
    if not tenant.configuration.features.advanced_analytics:
        offered = [tier for tier in TIERS if TIER_PRESETS[tier]["features"].get("advanced_analytics")]
        raise Forbidden(
            f"Analytics are not included in your plan ({tenant.tier}); available on {' and '.join(offered)}.",
            code="feature_not_in_plan", details={"feature": "advanced_analytics", "tier": tenant.tier})
    if not is_tenant_admin(user):
        raise Forbidden("Analytics are for this workspace's admins; ask one of them.", code="admins_only")


def analytics_range(*, start: date | None = None, end: date | None = None, today: date | None = None
                    ) -> tuple[date, date]:
    """The inclusive range asked for; what is left out defaults to the last 12 weeks up to today."""
    end = end or today or timezone.localdate()
    start = start or end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    if start > end:
        raise InvalidRange(f"The range starts ({start}) after it ends ({end}); swap the dates.",
                           details={"from": str(start), "to": str(end)})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRange(f"A range is at most {MAX_DAYS} days; this one has {(end - start).days + 1}.",
                           details={"from": str(start), "to": str(end)})
    return start, end


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_starts(start: date, end: date) -> list[date]:
    """The Monday of every ISO week the range touches, in order."""
    monday = start - timedelta(days=start.weekday())
    return [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]


@dataclass(frozen=True)
class WeekPanels:
    week: str  # "2026-W48"
    starts_on: date
    total: int
    by_type: dict[str, int]
    by_status: dict[str, int]


@dataclass(frozen=True)
class WeekConsensus:
    week: str
    starts_on: date
    count: int
    mean_score: float | None
    levels: dict[str, int]


@dataclass(frozen=True)
class CompletedFigures:
    count: int
    median_duration_seconds: float | None
    median_tokens: float | None
    with_dissent: int
    dissent_rate: float | None  # with_dissent / count


@dataclass(frozen=True)
class ExpertUsed:
    slug: str
    name: str
    panels: int


@dataclass(frozen=True)
class ExpertRated:
    slug: str
    name: str
    mean_rating: float
    ratings: int


@dataclass(frozen=True)
class DocumentCited:
    document_id: int
    title: str
    citations: int
    panels: int


@dataclass(frozen=True)
class Analytics:
    start: date
    end: date
    total: int
    weeks: list[WeekPanels]
    consensus: list[WeekConsensus]
    completed: CompletedFigures
    experts_used: list[ExpertUsed]
    experts_rated: list[ExpertRated]
    documents_cited: list[DocumentCited]


def panels_in_range(*, start: date, end: date) -> QuerySet[Panel]:
    return Panel.objects.filter(created_at__date__gte=start, created_at__date__lte=end)


def panels_per_week(*, start: date, end: date) -> list[WeekPanels]:
    rows = panels_in_range(start=start, end=end).values_list("created_at", "panel_type", "status")
    by_type: dict[str, Counter] = {}
    by_status: dict[str, Counter] = {}
    for created_at, panel_type, status in rows:
        week = iso_week(created_at.date())
        by_type.setdefault(week, Counter())[panel_type] += 1
        by_status.setdefault(week, Counter())[status.lower()] += 1
    weeks = []
    for monday in week_starts(start, end):
        week = iso_week(monday)
        types, statuses = by_type.get(week, Counter()), by_status.get(week, Counter())
        weeks.append(WeekPanels(
            week=week, starts_on=monday, total=sum(types.values()),
            by_type={name: types[name] for name in PANEL_TYPE_NAMES if types[name]},
            by_status={name: statuses[name] for name in STATUSES if statuses[name]}))
    return weeks


def consensus_per_week(*, start: date, end: date) -> list[WeekConsensus]:
    rows = Consensus.objects.filter(panel__in=panels_in_range(start=start, end=end)).values_list(
        "panel__created_at", "score", "level")
    scores: dict[str, list[float]] = {}
    levels: dict[str, Counter] = {}
    for created_at, score, level in rows:
        week = iso_week(created_at.date())
        scores.setdefault(week, []).append(score)
        levels.setdefault(week, Counter())[level] += 1
    weeks = []
    for monday in week_starts(start, end):
        week = iso_week(monday)
        week_scores = scores.get(week, [])
        weeks.append(WeekConsensus(
            week=week, starts_on=monday, count=len(week_scores),
            mean_score=round(sum(week_scores) / len(week_scores), 4) if week_scores else None,
            levels={label: levels.get(week, Counter())[label] for label in CONSENSUS_LEVELS}))
    return weeks


def completed_figures(*, start: date, end: date) -> CompletedFigures:
    completed = panels_in_range(start=start, end=end).filter(status=Status.COMPLETED)
    rows = list(completed.values_list("started_at", "finished_at", "tokens_used"))
    durations = [(finished - started).total_seconds() for started, finished, _ in rows if started and finished]
    with_dissent = completed.filter(consensus__isnull=False).exclude(consensus__dissent=[]).count()
    return CompletedFigures(
        count=len(rows),
        median_duration_seconds=median(durations) if durations else None,
        median_tokens=median(tokens for _, _, tokens in rows) if rows else None,
        with_dissent=with_dissent,
        dissent_rate=round(with_dissent / len(rows), 4) if rows else None)


def experts_used_most(*, start: date, end: date, limit: int = TOP) -> list[ExpertUsed]:
    rows = (PanelMember.objects.filter(panel__in=panels_in_range(start=start, end=end), agent__isnull=False)
            .values("agent__slug", "agent__name").annotate(panels=Count("panel", distinct=True))
            .order_by("-panels", "agent__name")[:limit])
    return [ExpertUsed(slug=row["agent__slug"], name=row["agent__name"], panels=row["panels"]) for row in rows]


def experts_rated_best(*, start: date, end: date, limit: int = TOP) -> list[ExpertRated]:
    """Each expert's mean of the ratings given to panels they sat on (one rating counts once
    per expert on that panel)."""
    rows = (PanelRating.objects.filter(panel__in=panels_in_range(start=start, end=end),
                                       panel__members__agent__isnull=False)
            .values(slug=F("panel__members__agent__slug"), name=F("panel__members__agent__name"))
            .annotate(mean_rating=Avg("score"), ratings=Count("id"))
            .order_by("-mean_rating", "-ratings", "name")[:limit])
    return [ExpertRated(slug=row["slug"], name=row["name"], mean_rating=round(row["mean_rating"], 2),
                        ratings=row["ratings"]) for row in rows]


def documents_cited_most(*, start: date, end: date, limit: int = TOP) -> list[DocumentCited]:
    """Citations are chunk ids (`C12`) in each contribution; a chunk belongs to a document."""
    rows = Contribution.objects.filter(panel__in=panels_in_range(start=start, end=end)).exclude(
        citations=[]).values_list("panel_id", "citations")
    cited = [(panel_id, chunk_id) for panel_id, citations in rows for citation in citations
             if (chunk_id := chunk_id_from_citation(citation)) is not None]
    document_of = dict(Chunk.objects.filter(pk__in={chunk_id for _, chunk_id in cited})
                       .values_list("id", "document_id"))
    citations, panels = Counter(), {}
    for panel_id, chunk_id in cited:
        if chunk_id in document_of:  # a deleted document's chunks are gone
            document_id = document_of[chunk_id]
            citations[document_id] += 1
            panels.setdefault(document_id, set()).add(panel_id)
    titles = dict(Document.objects.filter(pk__in=citations).values_list("id", "title"))
    ranked = sorted(citations, key=lambda document_id: (-citations[document_id], titles[document_id]))
    return [DocumentCited(document_id=document_id, title=titles[document_id], citations=citations[document_id],
                          panels=len(panels[document_id])) for document_id in ranked[:limit]]


def analytics_get(*, start: date, end: date) -> Analytics:
    """Every figure of the analytics page for the active tenant, `start` to `end` inclusive."""
    weeks = panels_per_week(start=start, end=end)
    return Analytics(
        start=start, end=end, total=sum(week.total for week in weeks), weeks=weeks,
        consensus=consensus_per_week(start=start, end=end),
        completed=completed_figures(start=start, end=end),
        experts_used=experts_used_most(start=start, end=end),
        experts_rated=experts_rated_best(start=start, end=end),
        documents_cited=documents_cited_most(start=start, end=end))
