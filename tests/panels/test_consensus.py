"""Consensus and the delphi stopping rule, on contributions built here (not a whole run):
the score follows agreement, dissenters are the members who disagree, the agreement
matrix is a proper similarity matrix, and converged delphi estimates end the rounds."""

import numpy as np
import pytest
from django_tenants.utils import schema_context

from panels.models import Contribution, PanelEvent, Round
from panels.orchestration.consensus import Position, compute_consensus
from panels.orchestration.runner import panel_run
from panels.types import panel_type_get
from tests.factories import make_panel

DE_NOVO = "File a De Novo request: there is no valid predicate and the risk is moderate."
KEY_POINTS = ["No valid predicate device exists", "Risk is low to moderate, so Class II fits"]


def position(member_id, name, *, stance="support", text=DE_NOVO, confidence=0.8, estimate=None, key_points=None):
    return Position(member_id=member_id, name=name, role="expert", stance=stance, position=text,
                    confidence=confidence, estimate=estimate, key_points=KEY_POINTS if key_points is None else key_points)


def test_a_unanimous_panel_has_a_high_score_and_no_dissent():
    panel = [position(1, "Ada", estimate=0.8), position(2, "Ben", estimate=0.82), position(3, "Cy", estimate=0.78)]

    result = compute_consensus(panel, threshold=0.7)

    assert result["score"] >= 0.8 and result["level"] == "high" and result["reached"]
    assert result["majority_stance"] == "support"
    assert result["dissent"] == []
    assert {point["point"] for point in result["agreement_points"]} == set(KEY_POINTS)


def test_a_split_panel_names_its_dissenters():
    against = "Do not file yet: the clinical evidence is too thin for any submission this year."
    panel = [
        position(1, "Ada"), position(2, "Ben"), position(3, "Cy"),
        position(4, "Dee", stance="oppose", text=against, confidence=0.9, key_points=["The evidence is too thin"]),
        position(5, "Eve", stance="oppose", text=against, confidence=0.7, key_points=["Wait for the pivotal study"]),
    ]

    result = compute_consensus(panel, threshold=0.7)

    assert [d["name"] for d in result["dissent"]] == ["Dee", "Eve"]
    assert [d["reasons"] for d in result["dissent"]] == [["The evidence is too thin"], ["Wait for the pivotal study"]]
    assert result["majority_stance"] == "support"
    unanimous = compute_consensus(panel[:3], threshold=0.7)
    assert result["score"] < unanimous["score"] and not result["reached"]


def test_the_agreement_matrix_is_symmetric_with_a_diagonal_of_one():
    panel = [position(1, "Ada", estimate=0.7),
             position(2, "Ben", stance="neutral", text="It depends on the predicate search.", estimate=0.5),
             position(3, "Cy", stance="oppose", text="Run a pre-submission meeting first.", estimate=0.2),
             position(4, "Dee")]

    result = compute_consensus(panel, threshold=0.7)
    matrix = np.array(result["matrix"]["values"])

    assert result["matrix"]["labels"] == ["Ada", "Ben", "Cy", "Dee"]
    assert matrix.shape == (4, 4)
    assert np.array_equal(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 1.0)
    assert np.all((matrix >= 0) & (matrix <= 1))
    assert matrix[0, 3] > matrix[0, 2]  # Ada agrees with Dee (same view) more than with Cy


@pytest.mark.parametrize("estimates, stops", [
    ([[0.40, 0.70, 0.55]], False),                                   # one round: nothing to compare
    ([[0.40, 0.70, 0.55], [0.42, 0.68, 0.56]], True),                # moved 0.017 on average
    ([[0.40, 0.70, 0.55], [0.60, 0.62, 0.58]], False),               # moved 0.103 on average
    ([[0.40, 0.70, 0.55], [0.60, 0.62, 0.58], [0.61, 0.60, 0.58]], True),
])
def test_delphi_stops_when_the_estimates_converge(estimates, stops):
    assert panel_type_get("delphi").should_stop(estimates) is stops


@pytest.mark.django_db
def test_a_delphi_panel_whose_estimates_converged_runs_no_further_round(catalog, alpha, alpha_user):
    panel = make_panel(alpha, alpha_user, panel_type="delphi", max_rounds=5)
    with schema_context("alpha"):
        panel.transition("ASSIGNING_EXPERTS")
        panel.transition("IN_PROGRESS")
        members = list(panel.members.order_by("seat"))
        for number, estimates in ((1, [0.40, 0.70, 0.55]), (2, [0.42, 0.68, 0.56])):
            round_ = Round.objects.create(panel=panel, number=number, title=f"Estimates {number}",
                                          state=Round.State.COMPLETED)
            for member, estimate in zip(members, estimates):
                Contribution.objects.create(panel=panel, round=round_, member=member, kind=Contribution.Kind.ESTIMATE,
                                            text=DE_NOVO, position=DE_NOVO, stance="support", confidence=0.8,
                                            estimate=estimate, key_points=KEY_POINTS)

        finished = panel_run(panel_id=panel.pk)

        assert finished.status == "COMPLETED"
        assert list(finished.rounds.values_list("number", flat=True)) == [1, 2]  # 3 more were allowed
        assert PanelEvent.objects.get(panel=panel, kind="converged").data["round"] == 2
