"""Reads of panels (the active tenant's schema). A member sees their own panels; a tenant
admin sees every panel of the tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from agents.ranking import RankedAgent, rank_agents
from config.errors import NotFound
from panels.models import Consensus, Contribution, Panel, PanelEvent, Recommendation, Round
from panels.types import panel_type_get
from rag.retrieval import chunk_id_from_citation


def panel_list(*, user, status: str | None = None, panel_type: str | None = None) -> QuerySet[Panel]:
    panels = Panel.objects.all() if user.is_staff else Panel.objects.filter(owner=user)
    if status:
        panels = panels.filter(status=status.upper())
    if panel_type:
        panels = panels.filter(panel_type=panel_type)
    return panels.select_related("owner")


def panel_get(*, user, panel_id: int) -> Panel:
    panel = panel_list(user=user).filter(pk=panel_id).first()
    if panel is None:
        raise NotFound(f"There is no panel {panel_id}.")
    return panel


def panel_detail(*, user, panel_id: int) -> Panel:
    """A panel with everything its report shows, in a few queries."""
    panel_get(user=user, panel_id=panel_id)
    contributions = Contribution.objects.select_related("member", "member__agent").order_by("member__seat", "id")
    return (Panel.objects.select_related("owner", "consensus", "recommendation")
            .prefetch_related("members__agent",
                              Prefetch("rounds", queryset=Round.objects.prefetch_related(
                                  Prefetch("contributions", queryset=contributions))))
            .get(pk=panel_id))


def panel_events(*, panel: Panel, after: int = 0, limit: int = 500) -> list[PanelEvent]:
    return list(PanelEvent.objects.filter(panel=panel, id__gt=after).order_by("id")[:limit])


def experts_recommend(*, question: str, k: int, panel_type: str | None = None,
                      domains: list[str] | None = None) -> list[RankedAgent]:
    """Experts ranked for a question, with the debate roles of the panel type (if given)."""
    role_plan = panel_type_get(panel_type).role_plan if panel_type else None
    return rank_agents(question=question, k=k, role_plan=role_plan, domains=domains)


# --- The report: what the report page and the PDF show beyond the panel's own fields ------

PASSAGE_WORDS = 8
COMMON_WORDS = frozenset(
    "about after also been before being could does from have into more most much only other over should such "
    "than that their them then there these they this those through under what when where which while with would "
    "your".split())


@dataclass(frozen=True)
class Source:
    citation: str  # as the expert wrote it, e.g. "C12"
    chunk_id: int


@dataclass(frozen=True)
class TranscriptEntry:
    contribution: Contribution
    sources: list[Source]


@dataclass(frozen=True)
class TranscriptRound:
    number: int
    title: str
    entries: list[TranscriptEntry]


@dataclass(frozen=True)
class PanelReport:
    consensus: Consensus | None
    recommendation: Recommendation | None
    transcript: list[TranscriptRound]
    stances_by_round: list[tuple[str, dict[str, int]]]  # ("Round 1", {"support": 2, ...})
    estimate_rounds: list[str]
    estimates: dict[str, list[float | None]]  # expert -> estimate per round; empty when nobody gave one
    dissent: list[dict]
    passage_words: str  # the question's words, highlighted on a cited passage's page


def panel_report_data(*, panel: Panel) -> PanelReport:
    """The report of a panel read by panel_detail (its prefetches answer every read here)."""
    consensus = getattr(panel, "consensus", None)  # a missing one-to-one raises an AttributeError
    recommendation = getattr(panel, "recommendation", None)
    rounds = list(panel.rounds.all())
    transcript, stances_by_round = [], []
    estimates: dict[str, list[float | None]] = {}
    for index, round_ in enumerate(rounds):
        contributions = list(round_.contributions.all())
        transcript.append(TranscriptRound(round_.number, round_.title, [
            TranscriptEntry(c, [Source(citation, chunk_id) for citation in c.citations
                                if (chunk_id := chunk_id_from_citation(citation)) is not None])
            for c in contributions]))
        stance_of = {c.member_id: c.stance for c in contributions if c.stance and c.kind != Contribution.Kind.SYNTHESIS}
        counts = {stance: 0 for stance in ("support", "neutral", "oppose")}
        for stance in stance_of.values():
            counts[stance] = counts.get(stance, 0) + 1
        stances_by_round.append((f"Round {round_.number}", counts))
        for c in contributions:
            if c.estimate is not None:
                estimates.setdefault(c.member.display_name, [None] * len(rounds))[index] = c.estimate
    if not any(sum(counts.values()) for _, counts in stances_by_round):
        stances_by_round = []
    dissent = consensus.dissent if consensus else (recommendation.dissent if recommendation else [])
    return PanelReport(
        consensus=consensus, recommendation=recommendation, transcript=transcript,
        stances_by_round=stances_by_round, estimate_rounds=[f"Round {r.number}" for r in rounds] if estimates else [],
        estimates=estimates, dissent=dissent, passage_words=passage_words(panel.query))


def passage_words(question: str) -> str:
    """The question's telling words (no short or common ones), for highlighting a cited passage."""
    words = [w.lower() for w in re.findall(r"\w[\w-]*", question) if len(w) > 3 or (len(w) > 1 and w.isupper())]
    return " ".join(list(dict.fromkeys(w for w in words if w not in COMMON_WORDS))[:PASSAGE_WORDS])
