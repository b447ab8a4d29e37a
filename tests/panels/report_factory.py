"""Completed panels built directly in the database, with every part of a report under the
test's control (names, stances, estimates, citations, hostile text)."""

from __future__ import annotations

from django.utils import timezone
from django_tenants.utils import schema_context

from panels.models import Consensus, Contribution, Panel, PanelMember, Recommendation, Round

HOSTILE_NAME = "<script>alert('name')</script>Dr. Mallory"
HOSTILE_TEXT = "Proceed. <img src=x onerror=alert('text')> <script>alert('text')</script> **bold claim** [C41]"


def build_completed_panel(tenant, owner, *, panel_type="open", names=("Ada Regulatory", HOSTILE_NAME, "Grace Clinical"),
                          stances=(("support", "oppose", "neutral"), ("support", "oppose", "support")),
                          estimates=None, consensus=True, threshold=0.6, score=0.58) -> Panel:
    """A completed panel: one round per entry of `stances` (one stance per member), each
    contribution citing chunk 41 (the first also 42); `estimates` (rounds x members) for a
    delphi-like panel; the second member dissents."""
    with schema_context(tenant.schema_name):
        panel = Panel.objects.create(
            query="Should we file a De Novo request or a 510(k) for the ECG arrhythmia software?",
            panel_type=panel_type, owner=owner, tenant_schema=tenant.schema_name, status=Panel.Status.COMPLETED,
            settings={"max_rounds": len(stances), "consensus_threshold": threshold}, current_round=len(stances),
            finished_at=timezone.now(), tokens_used=1234)
        members = [PanelMember.objects.create(panel=panel, seat=seat, human_name=name) for seat, name in enumerate(names)]
        for number, round_stances in enumerate(stances, start=1):
            round_ = Round.objects.create(panel=panel, number=number, title=f"Round title {number}",
                                          state=Round.State.COMPLETED)
            for seat, (member, stance) in enumerate(zip(members, round_stances)):
                Contribution.objects.create(
                    panel=panel, round=round_, member=member, kind=Contribution.Kind.STATEMENT,
                    text=HOSTILE_TEXT if seat == 1 else f"{member.human_name} thinks the De Novo route fits [C41].",
                    position=f"{member.human_name} position in round {number}", stance=stance, confidence=0.8,
                    estimate=estimates[number - 1][seat] if estimates else None,
                    citations=["C41", "C42"] if seat == 0 else ["C41"])
        if consensus:
            n = len(names)
            values = [[1.0 if i == j else (0.2 if 1 in (i, j) else 0.9) for j in range(n)] for i in range(n)]
            Consensus.objects.create(
                panel=panel, score=score, level="medium", threshold=threshold, reached=score >= threshold,
                majority_stance="support", matrix={"labels": list(names), "values": values},
                agreement_points=[{"point": "A predicate device is missing", "supporters": [names[0], names[2]]}],
                dissent=[{"member_id": members[1].pk, "name": names[1], "role": "expert", "stance": "oppose",
                          "position": "The 510(k) is faster <b>onerror=alert(1)</b>", "confidence": 0.8,
                          "agreement_with_panel": 0.2, "reasons": ["A predicate exists for the older model"]}],
            )
            Recommendation.objects.create(
                panel=panel, summary="File a **De Novo** request. <script>alert('summary')</script>",
                action="caution", rationale=["No valid predicate device", "Risk is moderate"],
                dissent=[{"name": names[1], "stance": "oppose", "position": "510(k)", "reasons": []}],
                citations=[{"citation": "C41", "chunk_id": 41, "document_id": 7, "document_title": "Device pathways note",
                            "page": 2, "heading": "", "excerpt": "When a novel device has no valid predicate",
                            "cited_by": [names[0], names[1]]}],
            )
        return panel
