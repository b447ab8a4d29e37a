"""Runs a panel through the rounds of its type, in the worker.

- Every finished round is committed; a retried or restarted run resumes at the first
  unfinished round and skips members who already spoke (one contribution per turn is
  also a database constraint), so nothing is duplicated.
- A session advisory lock per panel: a redelivered task finds the panel busy and leaves.
- A running panel beats (Panel.heartbeat_at, every HEARTBEAT_EVERY_S at least); the beat
  task `panels.requeue_stale` enqueues again, within a minute, a panel whose run went quiet
  (its worker host died: the broker would redeliver only after its visibility timeout).
- Within a round, members who do not need each other's words are called at once
  (threads that only talk to the provider; the database work stays on this thread).
- Cancellation is checked between calls; a provider failure after its retries, or the
  tenant's token budget, ends the panel as failed with the reason and the transcript kept.
- The tenant's monthly token and cost budgets (RunBudget) are checked before each round
  and before each call starts: when the next call no longer fits, the calls in flight
  finish and the panel fails with "budget_exhausted: ..."; no call is made after it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from llm.providers import llm_client
from llm.embeddings import EmbeddingMemo, embed_soon
from llm.client import CallRecord, TokenBudget
from llm.errors import BudgetExceeded, ProviderError
from panels.orchestration.experts import ExpertBrief, ExpertTask, PeerView, Source, ask_expert
from agents.tenant.services import agent_usage_record
from llm.services import llm_calls_record
from panels.lifecycle import IllegalTransition, Status
from panels.models import (ConcurrentUpdate, Consensus, Contribution, Panel, PanelEvent, PanelMember, Recommendation,
                           Round)
from panels.orchestration.consensus import Position, compute_consensus, majority_stance, themes
from panels.orchestration.synthesis import chair_synthesis, write_recommendation
from panels.services import panel_await_human_input, panel_event
from panels.types import panel_type_get
from panels.types.base import RoundSpec
from rag.models import SearchRecord
from rag.retrieval import citations_verify, search, search_record
from tenants.billing.selectors import budget_status
from tenants.billing.services import charge
from tenants.context import current_tenant

logger = logging.getLogger(__name__)
PARALLEL_LIMIT = 8
SOURCES_PER_EXPERT = 4


# How far an expert's retrieval leans toward its own profile. bench/grounding.py (36
# labelled questions over the demo corpus, 5 ranked experts each, 4 sources): embedding
# "question + title + capabilities" per expert put the answering passage among an expert's
# sources 0.62 of the time (experts' sources overlapping 0.35) for ~61 ms of embedding per
# panel; the question alone 0.83 (overlap 0.99); question + 0.5 x profile 0.79 (overlap
# 0.63), with one embedding per panel (~6.5 ms).
EXPERTISE_WEIGHT = 0.5


def expertise_vector(question_vector, profile_vector):
    """The question's embedding moved toward an expert's profile embedding, unit length."""
    if profile_vector is None:
        return question_vector
    profile = np.asarray(profile_vector, dtype=np.float32)
    vector = np.asarray(question_vector, dtype=np.float32) + EXPERTISE_WEIGHT * profile
    return vector / np.linalg.norm(vector)


class PanelCancelled(Exception):
    pass


class BudgetExhausted(BudgetExceeded):
    """The tenant's monthly token or cost budget cannot cover the panel's next call."""

    code = "budget_exhausted"


class RunBudget(TokenBudget):
    """The panel's own token budget (TokenBudget) and the tenant's monthly token and cost
    budgets. The month's figures come from the usage ledger when the run starts and before
    each round (`refresh`: other panels spend too); in between this counter adds what the
    run spends. A call is refused before it starts when its worst case would pass either
    monthly budget, so the calls in flight finish and nothing is billed beyond the limit.
    Cost is counted at the dearer of the model's two per-token prices, an upper bound that
    the next refresh replaces with the ledger's exact figure."""

    def __init__(self, *, tenant, panel_limit: int, spent: int, cost_per_token: Decimal):
        super().__init__(panel_limit, label="panel's token budget", spent=spent)
        self.tenant = tenant
        self.cost_per_token = cost_per_token
        self.reserved_cost = Decimal(0)
        self.month_tokens, self.month_cost = Decimal(0), Decimal(0)
        self.month = None
        self.refresh()

    def refresh(self, unpersisted: list[CallRecord] = ()) -> None:
        """The month's use from the ledger, plus this run's calls not written to it yet."""
        month = budget_status(tenant=self.tenant)
        tokens = sum(r.input_tokens + r.output_tokens for r in unpersisted)
        cost = sum((charge(tenant=self.tenant, cost=Decimal(str(r.cost))) for r in unpersisted), Decimal(0))
        with self._lock:
            self.month = month
            self.month_tokens, self.month_cost = month.tokens.used + tokens, month.cost.used + cost

    def ensure_room(self) -> None:
        """Refuse (BudgetExhausted) when a budget is already used up, before a round starts."""
        with self._lock:
            self._check_month(needed=0)

    def reserve(self, needed: int) -> None:
        with self._lock:
            self._check_month(needed)
            if self.limit is not None and self.spent + self.reserved + needed > self.limit:
                raise BudgetExceeded(
                    f"This call may use up to {needed} tokens, but the {self.label} has {self.remaining} "
                    f"of its {self.limit} tokens left; it was not made.",
                    details={"limit": self.limit, "spent": self.spent, "needed": needed},
                )
            self.reserved += needed
            self.reserved_cost += needed * self.cost_per_token

    def settle(self, reserved: int, used: int) -> None:
        with self._lock:
            self.reserved -= reserved
            self.reserved_cost -= reserved * self.cost_per_token
            self.spent += used
            self.month_tokens += used
            self.month_cost += used * self.cost_per_token

    def _check_month(self, needed: int) -> None:
        """Under the lock: the month's use, the calls in flight and this call's worst case."""
        tokens, cost = self.month.tokens, self.month.cost
        tokens_after = self.month_tokens + self.reserved + needed
        cost_after = self.month_cost + self.reserved_cost + needed * self.cost_per_token
        if tokens_after > tokens.limit or self.month_tokens >= tokens.limit:
            used, limit, what = f"{int(self.month_tokens):,} tokens", f"{int(tokens.limit):,} tokens", "token"
        elif self.cost_per_token and (cost_after > cost.limit or self.month_cost >= cost.limit):  # free calls pass
            used, limit, what = f"${self.month_cost:,.4f}", f"${cost.limit:,.2f}", "cost"
        else:
            return
        after = f", and the next call may need up to {needed:,} tokens" if needed else ""
        raise BudgetExhausted(
            f"Your organisation's monthly {what} budget is used up ({used} of {limit} used this month{after}). "
            f"The panel stopped here and kept its transcript; the budget resets on "
            f"{self.month.resets_at.date().isoformat()}.",
            details={"measure": what, "needed": needed, "resets_at": self.month.resets_at.isoformat()},
        )


@contextmanager
def panel_lock(panel: Panel):
    """Only one worker runs a panel at a time; the lock dies with its connection."""
    key = f"panel-run:{panel.tenant_schema}:{panel.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def purpose_of(panel: Panel) -> str:
    return f"panel:{panel.pk}"


HEARTBEAT_EVERY_S = 10
STALE_AFTER = timedelta(seconds=60)
# A panel in these states is being run, or waits for a run (QUEUED); AWAITING_INPUT waits
# for humans and its deadline task, not for a worker.
RUN_STATES = (Status.QUEUED, Status.ASSIGNING_EXPERTS, Status.IN_PROGRESS, Status.BUILDING_CONSENSUS)


def panel_beat(panel_id: int) -> None:
    """Stamp the run's sign of life: a plain update, so it never conflicts with the panel's
    version lock (save_versioned writes only the fields it names)."""
    Panel.objects.filter(pk=panel_id).update(heartbeat_at=timezone.now())


@contextmanager
def panel_heartbeat(panel: Panel, *, every_s: float = HEARTBEAT_EVERY_S):
    """Beat now, then every `every_s` from a daemon thread while the block runs (long LLM
    calls included). The thread has its own connection: it enters the panel's schema
    (threads start in public) and closes its connection when the run ends."""
    panel_beat(panel.pk)
    stop = threading.Event()

    def beat_until_stopped():
        try:
            with schema_context(panel.tenant_schema):
                while not stop.wait(every_s):
                    try:
                        with transaction.atomic():
                            # A row lock held this long is the run's own open transaction
                            # (it is alive): skip the beat instead of waiting on it.
                            with connection.cursor() as cursor:
                                cursor.execute("SET LOCAL lock_timeout = '2s'")
                            panel_beat(panel.pk)
                    except DatabaseError:
                        logger.warning("panel %s: a heartbeat was skipped", panel.pk, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat_until_stopped, name=f"panel-{panel.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def panels_requeue_stale(*, stale_after: timedelta = STALE_AFTER) -> int:
    """Enqueue the run of every panel, in every active tenant, whose run went quiet for
    `stale_after` (no heartbeat since, nor a start or creation when it never beat); how many.
    Safe to repeat: the run task leaves a panel another worker holds (panel_lock), and a run
    resumes at the first unfinished round. The requeue stamps the heartbeat, so a panel waits
    `stale_after` for its new run before it is requeued again (never one message per beat)."""
    from tenants.models import Tenant

    requeued = 0
    tenants = Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(schema_name=get_public_schema_name())
    for tenant in tenants.order_by("pk"):
        try:
            with tenant_context(tenant):
                requeued += _requeue_stale_here(tenant, stale_after)
        except Exception:  # noqa: BLE001 - one tenant's trouble must not leave the others' panels stuck
            logger.exception("requeueing the stalled panels of tenant %s failed", tenant.schema_name)
    return requeued


def _requeue_stale_here(tenant, stale_after: timedelta) -> int:
    from panels.tasks import panel_run_task

    now = timezone.now()
    quiet = Q(last_sign_of_life__lt=now - stale_after)
    stale = Panel.objects.filter(status__in=RUN_STATES).alias(
        last_sign_of_life=Coalesce("heartbeat_at", "started_at", "created_at"))
    requeued = 0
    for panel in stale.filter(quiet).only("pk", "status", "heartbeat_at"):
        with transaction.atomic():
            # Claimed only if still quiet: a requeue running at the same time enqueues it once.
            if not stale.filter(quiet, pk=panel.pk).update(heartbeat_at=now):
                continue
            last = panel.heartbeat_at.isoformat() if panel.heartbeat_at else None
            reason = (f"no heartbeat for {int(stale_after.total_seconds())} s (last {last or 'never'}) "
                      f"while {panel.status.lower()}; its worker is presumed dead")
            panel_event(panel, "requeued", reason=reason, last_heartbeat=last)
        panel_run_task.delay(panel.pk)  # here, in the tenant: the task carries its schema
        logger.warning("panel %s of tenant %s requeued: %s", panel.pk, tenant.schema_name, reason)
        requeued += 1
    return requeued


def panel_run(*, panel_id: int) -> Panel:
    panel = Panel.objects.get(pk=panel_id)
    panel.assert_tenant()
    with panel_lock(panel) as acquired:
        if not acquired:
            logger.info("panel %s is being run by another worker; leaving it", panel_id)
            return panel
        panel.refresh_from_db()
        if panel.is_final or panel.status == Status.AWAITING_INPUT:
            return panel
        runner = PanelRunner(panel)
        try:
            with panel_heartbeat(panel):
                runner.run()
        except PanelCancelled:
            logger.info("panel %s was cancelled; stopped between calls", panel_id)
        except BudgetExhausted as exhausted:
            runner.fail(f"budget_exhausted: {exhausted.message}", reason="budget_exhausted")
        except ProviderError as failure:
            runner.fail(failure.message)
        except (IllegalTransition, ConcurrentUpdate):
            panel.refresh_from_db()
            if panel.status != Status.CANCELLED:  # only a cancellation may overtake a running panel
                raise
        runner.budget_alerts()
        panel.refresh_from_db()
        return panel


def panel_input_deadline(*, panel_id: int) -> Panel:
    """The hybrid panel's wait for humans is over: go on without (more) human input."""
    panel = Panel.objects.get(pk=panel_id)
    panel.assert_tenant()
    if panel.status != Status.AWAITING_INPUT or (panel.input_deadline and panel.input_deadline > timezone.now()):
        return panel
    with transaction.atomic():
        panel.settings = {**panel.settings, "human_input_closed": True}
        panel.input_deadline = None
        panel.save_versioned("settings", "input_deadline")
        panel.transition(Status.IN_PROGRESS)
        panel_event(panel, "status", status="in_progress", reason="the deadline for human input passed")
    return panel_run(panel_id=panel_id)


class PanelRunner:
    def __init__(self, panel: Panel):
        self.panel = panel
        self.kind = panel_type_get(panel.panel_type)
        self.tenant = current_tenant()
        self.members = list(panel.members.select_related("agent", "custom_agent").order_by("seat"))
        self.calls: deque[CallRecord] = deque()  # appended by the experts' threads
        self.client = llm_client(tenant=self.tenant, recorders=[self.calls.append])
        price = self.client.price
        dearer = Decimal(str(max(price))) / 1_000_000 if price else Decimal(0)
        self.budget = RunBudget(tenant=self.tenant, panel_limit=self.tenant.configuration.limits.max_tokens_per_panel,
                                spent=panel.tokens_used, cost_per_token=charge(tenant=self.tenant, cost=dearer))
        self.client.budget = self.budget  # priced from the client's own price, so it is set after
        self.start_level = self.budget.month.level
        self.sources: dict[int, tuple[Source, ...]] = {}  # per member: retrieved once per run
        self.embedder = EmbeddingMemo()
        self.themes_by_round: dict[int, list[dict]] = {}
        self.question_vector = embed_soon([panel.query])  # ready by the time retrieval needs it

    # --- lifecycle ---------------------------------------------------------------
    def run(self) -> None:
        panel = self.panel
        if panel.status in (Status.QUEUED, Status.ASSIGNING_EXPERTS):
            self._check_cancelled()
            with transaction.atomic():
                if panel.status == Status.QUEUED:
                    panel.transition(Status.ASSIGNING_EXPERTS)
                    panel_event(panel, "status", status="assigning_experts")
                panel_event(panel, "experts", members=[m.display_name for m in self.members])
                panel.transition(Status.IN_PROGRESS)
                panel_event(panel, "status", status="in_progress")
        plan = self.kind.plan(panel.max_rounds)
        rounds = {round_.number: round_ for round_ in Round.objects.filter(panel=panel)}
        for number, spec in enumerate(plan, start=1):
            round_ = rounds.get(number)
            if round_ is None or round_.state != Round.State.COMPLETED:
                self._check_budget()
                round_ = self._run_round(number, len(plan), spec, round_)
            if spec.pause_for_humans and self._waits_for_humans():
                return
            if self.kind.stop_rule and self.kind.should_stop(self._estimates_by_round(through=number)):
                panel_event(panel, "converged", round=number,
                            note="the estimates changed by less than 0.05 on average; the panel stops here")
                break
        self._conclude()

    def _move(self, status: str, **event) -> None:
        self._check_cancelled()
        with transaction.atomic():
            self.panel.transition(status)
            panel_event(self.panel, "status", status=status.lower(), **event)

    def _check_cancelled(self) -> None:
        current = Panel.objects.filter(pk=self.panel.pk).values_list("status", "version").first()
        if current and current[0] == Status.CANCELLED:
            raise PanelCancelled
        if current:
            self.panel.status, self.panel.version = current

    def fail(self, message: str, *, reason: str = "") -> None:
        """End the panel as failed with `message` (its error); the status event's reason is
        `reason` when given (e.g. budget_exhausted), else the message."""
        self._persist_calls()
        self.panel.refresh_from_db()
        if self.panel.is_final:
            return
        with transaction.atomic():
            self.panel.transition(Status.FAILED, error=message)
            event = {"reason": reason, "message": message} if reason else {"reason": message}
            panel_event(self.panel, "status", status="failed", **event)
        logger.warning("panel %s failed: %s", self.panel.pk, message)

    def budget_alerts(self) -> None:
        """Mail the tenant's admins at once when this run moved the month past a soft or
        hard limit (the periodic task catches everything else); never fails the panel."""
        from tenants.billing.alerts import budget_alerts_send

        try:
            if budget_status(tenant=self.tenant).level != self.start_level:
                budget_alerts_send(tenant=self.tenant)
        except Exception:  # noqa: BLE001 - an email is not worth a panel; the periodic task retries it
            logger.exception("budget alerts for %s failed after panel %s", self.tenant.schema_name, self.panel.pk)

    def _check_budget(self) -> None:
        """Before a round (and the conclusion): the month's ledger again, plus what this run
        has not written yet; stop here if a budget is used up."""
        self.budget.refresh(list(self.calls))
        self.budget.ensure_room()


    def _waits_for_humans(self) -> bool:
        panel = self.panel
        if panel.settings.get("human_input_closed") or Contribution.objects.filter(
                panel=panel, kind=Contribution.Kind.HUMAN_INPUT).exists():
            return False
        panel_await_human_input(panel=panel)
        return True

    # --- rounds ----------------------------------------------------------------------
    def _run_round(self, number: int, total: int, spec: RoundSpec, round_: Round | None) -> Round:
        panel = self.panel
        just_created = round_ is None
        if round_ is None:
            self._check_cancelled()
            with transaction.atomic():
                round_ = Round.objects.create(panel=panel, number=number, title=spec.title)
                panel.current_round = number
                panel.save_versioned("current_round")
                panel_event(panel, "round_started", round=number, of=total, title=spec.title)
        panel_beat(panel.pk)
        speakers = [m for m in self.members if m.expert is not None and m.role in spec.speakers]
        done = set() if just_created else set(
            Contribution.objects.filter(round=round_).values_list("member_id", flat=True))
        pending = [m for m in speakers if m.pk not in done]
        self._retrieve([m for m in pending if m.pk not in self.sources])
        if spec.parallel:
            latest = self._latest_by_member(number)
            tasks = [(member, self._task(member, spec, number, speakers, latest)) for member in pending]
            themed = self._next_shows_themes(number)
            panel_event(panel, "speaking", round=number, members=[m.display_name for m, _ in tasks])
            self._check_cancelled()
            failure = None
            with ThreadPoolExecutor(max_workers=min(PARALLEL_LIMIT, max(1, len(tasks)))) as pool:
                futures = {pool.submit(self._ask, task, themed): member for member, task in tasks}
                for future in as_completed(futures):  # each answer is saved, and shown, as it lands
                    if future.exception() is not None:
                        failure = failure or future.exception()
                        continue
                    self._save_all(round_, spec, [(futures[future], future.result())])
            if failure is not None:  # every answer that came is kept; then the failure is reported
                raise failure
        else:
            for member in pending:
                self._check_cancelled()
                task = self._task(member, spec, number, speakers, self._latest_by_member(number, include_current=True))
                panel_event(panel, "speaking", round=number, members=[member.display_name])
                self._save_all(round_, spec, [(member, self._ask(task, self._next_shows_themes(number)))])
        with transaction.atomic():
            round_.state = Round.State.COMPLETED
            round_.completed_at = timezone.now()
            round_.summary = self._round_summary(round_, with_themes=self._next_shows_themes(number))
            round_.save(update_fields=["state", "completed_at", "summary"])
            self.themes_by_round[number] = round_.summary.get("themes", [])
            panel_event(panel, "round_completed", round=number, of=total, summary=round_.summary)
        return round_

    def _ask(self, task: ExpertTask, themed: bool = False):
        """One expert's turn. When the round's themes will be drawn from the answers, their
        key points are embedded here, while other experts are still answering. (The final
        round's positions are embedded for the consensus while the chair's call runs.)"""
        answer, results = ask_expert(self.client, task)
        if themed:
            try:
                self.embedder.embed([point for point in answer.key_points if point.strip()])
            except Exception:  # noqa: BLE001 - only a head start: the same embedding is retried later
                logger.exception("embedding an answer early failed; it will be embedded when needed")
        return answer, results

    def _task(self, member: PanelMember, spec: RoundSpec, number: int, speakers: list[PanelMember],
              latest: dict[int, Contribution]) -> ExpertTask:
        agent = member.expert
        brief = ExpertBrief(slug=agent.slug, name=agent.name, title=agent.title, domain=agent.domain,
                            system_prompt=agent.system_prompt, key_considerations=tuple(agent.key_considerations),
                            capabilities=tuple(agent.capabilities), disposition=agent.disposition)
        target = ""
        if spec.target_next and len(speakers) > 1:
            index = speakers.index(member)
            target = speakers[(index + 1) % len(speakers)].display_name
        instructions = spec.instructions
        if spec.with_themes:
            found = self._themes_of(number - 1)
            if found:
                instructions += " Themes so far: " + "; ".join(f"{t['theme']} (raised by {len(t['raised_by'])})"
                                                                for t in found) + "."
        asked = [c for c in latest.values() if c.kind == Contribution.Kind.QUESTION and member.display_name in c.text]
        if asked and spec.kind == Contribution.Kind.REVISION:
            instructions += " Questions put to you: " + " | ".join(c.position for c in asked)
        return ExpertTask(
            question=self.panel.query, expert=brief, kind=spec.kind, role=member.role, round_number=number,
            instructions=instructions.strip(), sources=self.sources[member.pk], peers=self._peers(member, spec, latest),
            target=target, wants_estimate=spec.wants_estimate,
        )

    def _themes_of(self, number: int) -> list[dict]:
        if number not in self.themes_by_round:
            previous = Round.objects.filter(panel=self.panel, number=number).first()
            self.themes_by_round[number] = (previous.summary or {}).get("themes", []) if previous else []
        return self.themes_by_round[number]

    def _retrieve(self, members: list[PanelMember]) -> None:
        """Retrieval for the question and each expert's own expertise, recorded for citation
        checks; done once per expert and run. The full-text side searches the question with
        the expert's title and first capabilities; the vector side embeds the question once
        and steers it toward the expert's profile embedding (see expertise_vector)."""
        if not members:
            return
        question_vector = self.question_vector.result()[0]
        documents = self.panel.settings.get("documents") or None
        records = []
        for member in members:
            agent = member.expert
            query = f"{self.panel.query} {agent.title} {' '.join(agent.capabilities[:2])}"
            result = search(query=query, k=SOURCES_PER_EXPERT, document_ids=documents, record=False,
                            query_vector=expertise_vector(question_vector, agent.embedding))
            records.append(search_record(result, purpose=purpose_of(self.panel), k=SOURCES_PER_EXPERT,
                                         document_ids=documents))
            self.sources[member.pk] = tuple(Source(id=hit.citation, title=hit.document_title, text=hit.text)
                                            for hit in result.hits)
        SearchRecord.objects.bulk_create(records)  # before any answer can cite them

    def _latest_by_member(self, before_round: int, *, include_current: bool = False) -> dict[int, Contribution]:
        limit = before_round if include_current else before_round - 1
        latest: dict[int, Contribution] = {}
        for contribution in Contribution.objects.filter(panel=self.panel, round__number__lte=limit).exclude(
                kind=Contribution.Kind.SYNTHESIS).select_related("member", "member__agent", "round").order_by(
                "round__number", "id"):
            latest[contribution.member_id] = contribution
        return latest

    def _peers(self, member: PanelMember, spec: RoundSpec, latest: dict[int, Contribution]) -> tuple[PeerView, ...]:
        peers = []
        for member_id, contribution in latest.items():
            if member_id == member.pk:
                continue
            name = contribution.member.anonymous_name if spec.anonymous else contribution.member.display_name
            peers.append(PeerView(name=name, stance=contribution.stance or "neutral",
                                  position=contribution.position or contribution.text[:300],
                                  statement="" if spec.anonymous else contribution.text[:600],
                                  estimate=contribution.estimate))
        return tuple(peers)

    def _save_all(self, round_: Round, spec: RoundSpec, answered: list) -> None:
        """Store answers (one expert's, as it lands) in one transaction, with their calls."""
        if not answered:
            self._persist_calls()
            return
        citations = [c for _, (answer, _) in answered for c in answer.citations]
        verified = set(citations_verify(citations=citations, purpose=purpose_of(self.panel)).verified)
        with transaction.atomic():
            # The members of `answered` have not spoken in this round (the round's pending
            # list says so, under the panel's lock): one insert for all, one for their events.
            contributions = Contribution.objects.bulk_create([
                Contribution(
                    panel=self.panel, round=round_, member=member, kind=spec.kind, text=answer.statement,
                    position=answer.position, stance=answer.stance, confidence=answer.confidence,
                    estimate=answer.estimate, action=answer.action or "", key_points=answer.key_points,
                    citations=[c for c in answer.citations if c in verified],
                    dropped_citations=[c for c in answer.citations if c not in verified],
                    input_tokens=sum(r.usage.input_tokens for r in results),
                    output_tokens=sum(r.usage.output_tokens for r in results),
                    cost=Decimal(str(sum(r.usage.cost for r in results))),
                    latency_ms=int(sum(r.usage.latency_s for r in results) * 1000),
                )
                for member, (answer, results) in answered
            ])
            PanelEvent.objects.bulk_create([
                PanelEvent(panel=self.panel, kind="contribution",
                           data={"round": round_.number, "member": contribution.member.display_name,
                                 "kind": spec.kind, "stance": contribution.stance, "contribution_id": contribution.pk})
                for contribution in contributions
            ])
            self._persist_calls()
        panel_beat(self.panel.pk)

    def _persist_calls(self) -> None:
        """Write the collected provider calls and the panel's running usage."""
        calls = []
        while self.calls:  # popleft is atomic: a call recorded meanwhile waits for the next write
            calls.append(self.calls.popleft())
        if not calls:
            return
        llm_calls_record(calls, purpose=purpose_of(self.panel), panel_id=self.panel.pk,
                         panel_type=self.panel.panel_type, user_id=self.panel.owner_id)
        panel = self.panel
        panel.refresh_from_db(fields=["version", "status"])
        panel.tokens_used += sum(r.input_tokens + r.output_tokens for r in calls)
        panel.cost = Decimal(panel.cost) + Decimal(str(sum(r.cost for r in calls)))
        panel.save_versioned("tokens_used", "cost")

    def _next_shows_themes(self, number: int) -> bool:
        plan = self.kind.plan(self.panel.max_rounds)
        return number < len(plan) and plan[number].with_themes

    def _round_summary(self, round_: Round, *, with_themes: bool) -> dict:
        contributions = list(round_.contributions.select_related("member", "member__agent"))
        summary: dict = {"contributions": len(contributions),
                         "stances": {s: sum(1 for c in contributions if c.stance == s) for s in ("support", "oppose", "neutral")}}
        estimates = [c.estimate for c in contributions if c.estimate is not None]
        if estimates:
            summary["estimates"] = {"mean": round(sum(estimates) / len(estimates), 3), "min": min(estimates),
                                    "max": max(estimates)}
        points = [(c.member.display_name, point) for c in contributions for point in c.key_points]
        if points and with_themes:
            summary["themes"] = themes(points, embedder=self.embedder)
        return summary

    def _estimates_by_round(self, *, through: int) -> list[list[float]]:
        """The last two rounds' estimates up to round `through`, of the members in both (a
        resumed panel checks its stored rounds one by one, as they were run)."""
        rounds: dict[int, dict[int, float]] = {}
        for number, member_id, estimate in Contribution.objects.filter(
                panel=self.panel, estimate__isnull=False, round__number__lte=through,
        ).values_list("round__number", "member_id", "estimate"):
            rounds.setdefault(number, {})[member_id] = estimate
        ordered = [rounds[n] for n in sorted(rounds)]
        if len(ordered) < 2:
            return [list(r.values()) for r in ordered]
        common = sorted(set(ordered[-1]) & set(ordered[-2]))
        return [[ordered[-2][m] for m in common], [ordered[-1][m] for m in common]]

    # --- conclusion --------------------------------------------------------------------
    def _conclude(self) -> None:
        panel = self.panel
        if not Contribution.objects.filter(panel=panel, kind=Contribution.Kind.SYNTHESIS).exists():
            self._check_budget()  # the chair's call is still to come
        self._check_cancelled()
        if panel.status != Status.BUILDING_CONSENSUS:  # a run resumed after a crash may find it there
            self._move(Status.BUILDING_CONSENSUS)
        latest = self._latest_by_member(len(self.kind.plan(panel.max_rounds)) + 1)
        positions = [
            Position(member_id=c.member_id, name=c.member.display_name, role=c.member.role, stance=c.stance,
                     position=c.position, confidence=c.confidence or 0.5, estimate=c.estimate,
                     key_points=list(c.key_points))
            for c in latest.values() if c.member.is_ai and c.stance
        ]
        synthesis = Contribution.objects.filter(panel=panel, kind=Contribution.Kind.SYNTHESIS).select_related(
            "member", "member__agent").first()
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The chair's call needs only the positions; the consensus, whose embeddings are
            # the slow part, is computed while it runs.
            chair = None if synthesis is not None else pool.submit(
                chair_synthesis, panel=panel, client=self.client, contributions=list(latest.values()),
                majority=majority_stance(positions))
            result = compute_consensus(positions, threshold=float(panel.settings.get("consensus_threshold", 0.7)),
                                       embedder=self.embedder)
            dropped = sum(len(c.dropped_citations) for c in Contribution.objects.filter(panel=panel))
            chair_answer = chair.result() if chair else None
        recommendation = write_recommendation(consensus=result, contributions=list(latest.values()),
                                              synthesis=synthesis, chair=chair_answer)
        with transaction.atomic():
            Consensus.objects.update_or_create(panel=panel, defaults={
                key: result[key] for key in ("score", "level", "threshold", "reached", "majority_stance",
                                             "agreement_points", "dissent", "matrix", "method")})
            Recommendation.objects.update_or_create(panel=panel, defaults=recommendation)
            self._persist_calls()
            panel.refresh_from_db(fields=["version", "status"])
            panel.dropped_citations = dropped
            panel.save_versioned("dropped_citations")
            panel_event(panel, "consensus", score=result["score"], level=result["level"], reached=result["reached"])
            panel.transition(Status.COMPLETED)
            panel_event(panel, "status", status="completed", action=recommendation["action"])
            agent_usage_record(agents=[m.expert for m in self.members if m.expert is not None])
