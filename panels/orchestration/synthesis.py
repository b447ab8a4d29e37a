"""The recommendation: written by a synthesis step (the moderator's judgement when there
is one, else a chair's call through the same provider), keeping the dissent and the
verified citations."""

from __future__ import annotations

from panels.orchestration.experts import ExpertBrief, ExpertTask, PeerView, ask_expert
from rag.models import Chunk
from rag.retrieval import chunk_id_from_citation

CHAIR = ExpertBrief(
    slug="panel-chair", name="Panel chair", title="Chair of the expert panel", domain="cross_functional",
    system_prompt=("You chair an expert panel. You weigh the experts' final positions by their evidence, state "
                   "the recommendation plainly, and never hide dissent."),
    key_considerations=(
        "The recommendation must follow the weight of the evidence the experts cited, not the number of voices.",
        "Where experts disagree, the recommendation should say what would settle the disagreement.",
        "Risks raised by a single well-qualified expert deserve a named mitigation before proceeding.",
        "Actions should be concrete: who does what next, and which decision point follows.",
        "A recommendation without verifiable sources should be treated as provisional.",
    ),
)
ACTION_FROM_STANCE = {"support": "proceed", "oppose": "stop", "neutral": "investigate"}


def chair_synthesis(*, panel, client, contributions: list, majority: str):
    """The chair's call: a recommendation from the experts' final positions. It needs no
    consensus figures, so the runner computes the consensus while this call runs."""
    peers = tuple(PeerView(name=c.member.display_name, stance=c.stance or "neutral", position=c.position,
                           statement=c.text[:600], estimate=c.estimate) for c in contributions)
    holding = sum(1 for c in contributions if c.stance == majority)
    task = ExpertTask(
        question=panel.query, expert=CHAIR, kind="synthesis", round_number=panel.current_round + 1,
        instructions=(f"Majority stance: {majority} ({holding} of {len(contributions)} experts). "
                      "Write the panel's recommendation and keep the dissent."),
        peers=peers,
    )
    answer, _ = ask_expert(client, task)
    return answer


def write_recommendation(*, consensus: dict, contributions: list, synthesis=None, chair=None) -> dict:
    """From the moderator's judgement (`synthesis`, a contribution) when there is one, else
    from the chair's answer (`chair`, see chair_synthesis)."""
    if synthesis is not None:  # the moderator already judged the debate
        summary, action, points = synthesis.text, synthesis.action, list(synthesis.key_points)
    else:
        summary, action, points = chair.statement, chair.action, list(chair.key_points)
    action = action or ACTION_FROM_STANCE.get(consensus["majority_stance"], "investigate")
    if not consensus["reached"] and action == "proceed":
        action = "caution"  # the panel did not reach its consensus threshold
    rationale = [p["point"] for p in consensus["agreement_points"]] + [p for p in points if p]
    return {
        "summary": summary,
        "action": action,
        "rationale": list(dict.fromkeys(rationale))[:8],
        "dissent": [{"name": d["name"], "stance": d["stance"], "position": d["position"], "reasons": d["reasons"]}
                    for d in consensus["dissent"]],
        "citations": _citations(contributions + ([synthesis] if synthesis else [])),
    }


def _citations(contributions) -> list[dict]:
    cited: dict[str, list[str]] = {}
    for contribution in contributions:
        for citation in contribution.citations:
            cited.setdefault(citation, []).append(contribution.member.display_name)
    ids = {chunk_id_from_citation(c): c for c in cited}
    chunks = Chunk.objects.filter(pk__in=[i for i in ids if i]).select_related("document")
    found = []
    for chunk in chunks:
        citation = ids[chunk.pk]
        found.append({"citation": citation, "chunk_id": chunk.pk, "document_id": chunk.document_id,
                      "document_title": chunk.document.title, "page": chunk.page, "heading": chunk.heading,
                      "excerpt": chunk.text[:300], "cited_by": sorted(set(cited[citation]))})
    return sorted(found, key=lambda c: (-len(c["cited_by"]), c["citation"]))
