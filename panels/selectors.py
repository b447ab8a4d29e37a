"""Reads of panels (the active tenant's schema). A member sees their own panels; a tenant
admin sees every panel of the tenant."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from agents.ranking import RankedAgent, rank_agents
from config.errors import NotFound
from llm.base import estimate_tokens
from panels.lifecycle import FINAL, Status
from panels.models import (
    Consensus,
    Contribution,
    Panel,
    PanelEvent,
    PanelMember,
    Recommendation,
    Round,
)
from panels.types import REGISTRY, panel_type_get
from rag.models import Chunk, Document
from rag.retrieval import chunk_id_from_citation
from tenants.configuration import TIERS, TenantConfiguration
from tenants.roles import is_tenant_admin


def panel_list(*, user, status: str | None = None, panel_type: str | None = None) -> QuerySet[Panel]:
    panels = Panel.objects.all() if is_tenant_admin(user) else Panel.objects.filter(owner=user)
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
    # Experts' embeddings (384 numbers each) are for ranking, not for reports: not read.
    members = (PanelMember.objects.select_related("agent", "custom_agent")
               .defer("agent__embedding", "custom_agent__embedding").order_by("seat"))
    contributions = (Contribution.objects.select_related("member", "member__agent", "member__custom_agent")
                     .defer("member__agent__embedding", "member__custom_agent__embedding")
                     .order_by("member__seat", "id"))
    return (Panel.objects.select_related("owner", "consensus", "recommendation")
            .prefetch_related(Prefetch("members", queryset=members),
                              Prefetch("rounds", queryset=Round.objects.prefetch_related(
                                  Prefetch("contributions", queryset=contributions))))
            .get(pk=panel_id))


def panel_events(*, panel: Panel, after: int = 0, limit: int = 500) -> list[PanelEvent]:
    return list(PanelEvent.objects.filter(panel=panel, id__gt=after).order_by("id")[:limit])


def panel_rating_get(*, panel: Panel, user):
    """The user's rating of the panel, or None."""
    return panel.ratings.filter(user=user).first()


def experts_recommend(*, question: str, k: int, minimum: int | None = None, panel_type: str | None = None,
                      domains: list[str] | None = None) -> list[RankedAgent]:
    """Experts ranked for a question, with the debate roles of the panel type (if given):
    up to k, at least `minimum` (default k), and past it only relevant ones."""
    role_plan = panel_type_get(panel_type).role_plan if panel_type else None
    return rank_agents(question=question, k=k, minimum=minimum, role_plan=role_plan, domains=domains)


# --- pages: dashboard, ask, live panel, history ------------------------------------------

def panel_history(*, user, status: str | None = None, panel_type: str | None = None, search: str | None = None,
                  created_from=None, created_to=None) -> QuerySet[Panel]:
    """panel_list with the history page's filters: words of the question, and a date range
    (inclusive days)."""
    panels = panel_list(user=user, status=status, panel_type=panel_type).select_related("consensus")
    if search:
        panels = panels.filter(query__icontains=search)
    if created_from:
        panels = panels.filter(created_at__date__gte=created_from)
    if created_to:
        panels = panels.filter(created_at__date__lte=created_to)
    return panels


def panels_recent(*, user, limit: int = 8) -> list[Panel]:
    return list(panel_list(user=user).select_related("consensus")[:limit])


@dataclass(frozen=True)
class UsageBar:
    label: str
    used: float
    limit: float
    unit: str = ""

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 0

    @property
    def near_limit(self) -> bool:
        return self.percent >= NEAR_LIMIT_PERCENT


NEAR_LIMIT_PERCENT = 80


def month_start(now=None):
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_this_month(*, tenant) -> dict:
    """The tenant's use of its plan this month, as bars against the limits (the panel count
    is the one panel_create checks), plus the tokens its panels used this month."""
    limits = tenant.configuration.limits
    this_month = Panel.objects.filter(created_at__gte=month_start())
    panels = this_month.aggregate(count=Count("id"), tokens=Sum("tokens_used"))
    documents = Document.objects.aggregate(count=Count("id"), size=Sum("size"))
    storage_mb = round((documents["size"] or 0) / (1024 * 1024), 1)
    bars = [
        UsageBar("Panels this month", panels["count"], limits.max_panels_per_month),
        UsageBar("Documents", documents["count"], limits.max_documents),
        UsageBar("Storage", storage_mb, limits.max_storage_mb, "MB"),
    ]
    return {"bars": bars, "near_limit": [bar for bar in bars if bar.near_limit],
            "tokens_this_month": panels["tokens"] or 0, "document_count": documents["count"]}


def panel_types_offered(*, tenant) -> list[dict]:
    """Every panel type with what it does and whether the tenant's plan includes it (and
    why not, naming the plans that do)."""
    configuration = tenant.configuration
    max_experts = configuration.limits.max_experts_per_panel
    offered = []
    for kind in REGISTRY.values():
        enabled = configuration.features.panel_type_enabled(kind.name)
        plans = [tier for tier in TIERS if TenantConfiguration.build(tier=tier).features.panel_type_enabled(kind.name)]
        reason = "" if enabled else (
            f"Not included in your plan ({configuration.tier}); "
            + (f"available on {', '.join(plans)}." if plans else "ask your administrator.")
        )
        offered.append({"type": kind, "enabled": enabled, "reason": reason,
                         "min_experts": kind.min_experts, "max_experts": min(kind.max_experts, max_experts)})
    return offered


# Planning figures for an expert's turn (tokens): the agent's system prompt and the answer
# format, the sources it is given (runner.SOURCES_PER_EXPERT chunks of RAG_CHUNK_TOKENS),
# a line per peer it reads, and a typical answer (at most experts.build_request's 900).
TURN_PROMPT_TOKENS = 700
SOURCES_PER_TURN = 4
PEER_LINE_TOKENS = 60
ANSWER_TOKENS = 500

# The plan's figure is scaled by what the tenant's own panels of the same type really used:
# actual tokens_used / the plan's figure, over its last HISTORY_PANELS completed panels of
# that type. The expected figure uses their median ratio, the range their lowest and highest
# (at least HISTORY_MARGIN either side of the expected figure). With no such panel yet the
# plan's figure is expected and the range is DEFAULT_RANGE times it: answers run shorter or
# longer than ANSWER_TOKENS, and a repair request adds a call.
HISTORY_PANELS = 10
HISTORY_MARGIN = 0.10
DEFAULT_RANGE = (0.6, 1.5)


def _plan_tokens(*, query: str, kind, count: int, rounds: int) -> tuple[int, int, int]:
    """Input tokens, output tokens and calls of the type's round plan, turn by turn, plus
    the chair's synthesis (the plain figure, before any history)."""
    from django.conf import settings

    moderators = len((kind.role_plan or {}).get("first", []))
    question_tokens = estimate_tokens(query or "")
    turn_input = TURN_PROMPT_TOKENS + question_tokens + SOURCES_PER_TURN * settings.RAG_CHUNK_TOKENS
    input_tokens = output_tokens = turns = 0
    for number, spec in enumerate(kind.plan(rounds), start=1):
        if kind.role_plan:
            speakers = ((count - moderators) if set(spec.speakers) - {"moderator"} else 0) \
                + (moderators if "moderator" in spec.speakers else 0)
        else:
            speakers = count
        peers = 0 if number == 1 and spec.parallel else count - 1
        turns += speakers
        input_tokens += speakers * (turn_input + peers * PEER_LINE_TOKENS)
        output_tokens += speakers * ANSWER_TOKENS
    # The chair's synthesis reads every final position.
    input_tokens += TURN_PROMPT_TOKENS + question_tokens + count * PEER_LINE_TOKENS * 3
    output_tokens += ANSWER_TOKENS
    return input_tokens, output_tokens, turns + 1


def estimate_history(*, panel_type: str) -> list[float]:
    """Actual tokens over the plan's figure for the tenant's last completed panels of a type,
    newest first. The figure stored at creation is used; older panels are planned again."""
    kind = panel_type_get(panel_type)
    panels = (Panel.objects.filter(panel_type=kind.name, status=Status.COMPLETED, tokens_used__gt=0)
              .annotate(expert_count=Count("members", filter=~Q(members__role="human")))
              .order_by("-finished_at", "-id")[:HISTORY_PANELS])
    ratios = []
    for panel in panels:
        planned = (panel.settings.get("estimate") or {}).get("plan_tokens")
        if not planned:
            input_tokens, output_tokens, _ = _plan_tokens(query=panel.query, kind=kind,
                                                          count=max(panel.expert_count, 1), rounds=panel.max_rounds)
            planned = input_tokens + output_tokens
        ratios.append(panel.tokens_used / planned)
    return ratios


def panel_estimate(*, tenant, query: str, panel_type: str, experts: int | None = None,
                   max_rounds: int | None = None, budget: bool = True) -> dict:
    """Expected tokens and cost of a panel before it starts, with a low-high range: the
    type's round plan scaled by the tenant's history of the type (see HISTORY_PANELS), and,
    with `budget`, how it fits this month's budgets (budget_fit). A planning figure, not a
    promise: answers vary in length. `cost` is what the platform charges (0 on a tenant's
    own key billed directly; None when the model has no price)."""
    from llm.client import price_of
    from llm.providers import provider_settings
    from tenants.billing.selectors import price_get
    from tenants.billing.services import charge

    kind = panel_type_get(panel_type)
    maximum = min(kind.max_experts, tenant.configuration.limits.max_experts_per_panel)
    count = max(kind.min_experts, min(experts or kind.default_experts, maximum))
    rounds = max(1, min(max_rounds or kind.default_rounds, kind.max_rounds))
    plan_input, plan_output, calls = _plan_tokens(query=query, kind=kind, count=count, rounds=rounds)
    ratios = estimate_history(panel_type=kind.name)
    if ratios:
        scale = statistics.median(ratios)
        factors = {"low": min(min(ratios), scale * (1 - HISTORY_MARGIN)), "expected": scale,
                   "high": max(max(ratios), scale * (1 + HISTORY_MARGIN))}
    else:
        scale = 1.0
        factors = {"low": DEFAULT_RANGE[0], "expected": 1.0, "high": DEFAULT_RANGE[1]}
    chosen = provider_settings(tenant)
    price = price_get(provider=chosen.provider, model=chosen.model)
    ranges: dict[str, dict] = {"input_tokens": {}, "output_tokens": {}, "tokens": {}, "cost": {}}
    for point, factor in factors.items():
        input_tokens, output_tokens = round(plan_input * factor), round(plan_output * factor)
        ranges["input_tokens"][point] = input_tokens
        ranges["output_tokens"][point] = output_tokens
        ranges["tokens"][point] = input_tokens + output_tokens
        ranges["cost"][point] = (float(charge(tenant=tenant, cost=Decimal(str(price_of(price, input_tokens,
                                                                                   output_tokens)))))
                                 if price else None)
    tokens = ranges["tokens"]["expected"]
    estimate = {
        "panel_type": kind.name, "experts": count, "rounds": rounds, "calls": calls,
        "input_tokens": ranges["input_tokens"]["expected"], "output_tokens": ranges["output_tokens"]["expected"],
        "tokens": tokens, "cost": ranges["cost"]["expected"], "model": chosen.model, "range": ranges,
        "basis": {"plan_tokens": plan_input + plan_output, "history_panels": len(ratios), "scale": round(scale, 3),
                  "low_factor": round(factors["low"], 3), "high_factor": round(factors["high"], 3)},
        "token_limit": tenant.configuration.limits.max_tokens_per_panel,
        "over_limit": tokens > tenant.configuration.limits.max_tokens_per_panel,
    }
    if budget:
        estimate["budget"] = budget_fit(tenant=tenant, tokens=tokens, cost=estimate["cost"])
    return estimate


def budget_reserved() -> tuple[int, Decimal]:
    """Tokens and cost that panels not final yet are still expected to spend: the estimate
    stored at their creation less what they spent so far (which the ledger holds)."""
    tokens, cost = 0, Decimal(0)
    for settings, spent_tokens, spent_cost in Panel.objects.exclude(status__in=FINAL).values_list(
            "settings", "tokens_used", "cost"):
        estimate = (settings or {}).get("estimate") or {}
        tokens += max(int(estimate.get("tokens") or 0) - spent_tokens, 0)
        cost += max(Decimal(str(estimate.get("cost") or 0)) - spent_cost, Decimal(0))
    return tokens, cost


def budget_fit(*, tenant, tokens: int, cost: float | None) -> dict:
    """Whether a panel expected to use `tokens` and `cost` fits this month's budgets: what
    the ledger holds (used), what unfinished panels are still expected to spend (reserved),
    what is left, and when the budgets reset."""
    from tenants.billing.selectors import budget_status

    status = budget_status(tenant=tenant)
    reserved_tokens, reserved_cost = budget_reserved()
    figures = {}
    for budget, estimate, reserved in ((status.tokens, Decimal(tokens), Decimal(reserved_tokens)),
                                       (status.cost, Decimal(str(cost or 0)), reserved_cost)):
        remaining = max(budget.limit - budget.used - reserved, Decimal(0))
        number = int if budget.measure == "tokens" else (lambda value: round(float(value), 6))
        figures[budget.measure] = {
            "limit": number(budget.limit), "used": number(budget.used), "reserved": number(reserved),
            "remaining": number(remaining), "estimate": number(estimate), "fits": estimate <= remaining,
        }
    return {**figures, "fits": all(measure["fits"] for measure in figures.values()), "level": status.level,
            "resets_at": status.resets_at.isoformat(),
            "retry_after_seconds": max(int((status.resets_at - timezone.now()).total_seconds()), 0)}


def panel_progress(*, panel: Panel) -> dict:
    """Where a panel is: round n of N, and how many of this round's speakers answered."""
    total = panel.max_rounds
    current = panel.current_round
    if not current:
        return {"round": 0, "of": total, "answered": 0, "expected": 0, "percent": 0}
    kind = panel_type_get(panel.panel_type)
    plan = kind.plan(total)
    spec = plan[min(current, len(plan)) - 1]
    expected = panel.members.filter(agent__isnull=False, role__in=spec.speakers).count()
    answered = Contribution.objects.filter(panel=panel, round__number=current).exclude(
        kind=Contribution.Kind.HUMAN_INPUT).count()
    done_rounds = current - 1 + (min(answered / expected, 1) if expected else 0)
    percent = 100 if panel.status == "COMPLETED" else round(100 * done_rounds / total)
    return {"round": current, "of": total, "answered": answered, "expected": expected, "percent": percent}


def panel_last_event_seq(*, panel: Panel) -> int:
    return PanelEvent.objects.filter(panel=panel).order_by("-id").values_list("id", flat=True).first() or 0


def panel_contribution_get(*, user, panel_id: int, contribution_id: int) -> Contribution:
    """One contribution of a panel the user may see (404 otherwise)."""
    panel = panel_get(user=user, panel_id=panel_id)
    contribution = (Contribution.objects.select_related("member", "member__agent", "round")
                    .filter(panel=panel, pk=contribution_id).first())
    if contribution is None:
        raise NotFound(f"Panel {panel_id} has no contribution {contribution_id}.")
    return contribution


def documents_groundable() -> QuerySet[Document]:
    """Documents a panel may be grounded on (ready ones)."""
    return Document.objects.filter(status=Document.Status.READY).only("id", "title").order_by("title")


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
    words: str  # highlighted on the passage's page: the claim's words found in the passage


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
    question_words = passage_words(panel.query)
    cited = {chunk_id for round_ in rounds for c in round_.contributions.all() for citation in c.citations
             if (chunk_id := chunk_id_from_citation(citation)) is not None}
    passages = dict(Chunk.objects.filter(pk__in=cited).values_list("id", "text"))
    transcript, stances_by_round = [], []
    estimates: dict[str, list[float | None]] = {}
    for index, round_ in enumerate(rounds):
        contributions = list(round_.contributions.all())
        transcript.append(TranscriptRound(round_.number, round_.title, [
            TranscriptEntry(c, [Source(citation, chunk_id, cited_words(c.text, passages.get(chunk_id)) or question_words)
                                for citation in c.citations
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
        estimates=estimates, dissent=dissent, passage_words=question_words)


def _telling_words(text: str) -> list[str]:
    """A text's words without short or common ones, lower case, first occurrence first."""
    words = [w.lower() for w in re.findall(r"\w[\w-]*", text) if len(w) > 3 or (len(w) > 1 and w.isupper())]
    return list(dict.fromkeys(w for w in words if w not in COMMON_WORDS))


def passage_words(question: str) -> str:
    """The question's telling words, for highlighting a cited passage."""
    return " ".join(_telling_words(question)[:PASSAGE_WORDS])


def cited_words(claim: str, passage: str | None) -> str:
    """The claim's telling words that the cited passage has too ("" when none, or no passage)."""
    if not passage:
        return ""
    in_passage = set(_telling_words(passage))
    return " ".join([w for w in _telling_words(claim) if w in in_passage][:PASSAGE_WORDS])
