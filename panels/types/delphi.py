from panels.types.base import PanelType, RoundSpec

CONVERGENCE = 0.05  # stop when the mean change of estimates between rounds is below this


def converged(estimates_by_round: list[list[float]]) -> bool:
    if len(estimates_by_round) < 2 or not estimates_by_round[-1] or not estimates_by_round[-2]:
        return False
    previous, latest = estimates_by_round[-2], estimates_by_round[-1]
    pairs = list(zip(previous, latest))
    return sum(abs(b - a) for a, b in pairs) / len(pairs) < CONVERGENCE


ESTIMATE_ROUND = RoundSpec(
    "Anonymous estimates", "estimate", wants_estimate=True, anonymous=True,
    instructions="Give your probability (0-1) that the proposal succeeds, with your reasons. Others are anonymous.",
)

DELPHI = PanelType(
    name="delphi",
    label="Delphi",
    description="Anonymised rounds of numeric estimates with feedback; stops when the estimates converge.",
    min_experts=3, default_experts=5, max_experts=12,
    default_rounds=3, max_rounds=5, consensus_threshold=0.75,
    base_plan=(ESTIMATE_ROUND,),
    extra_round=RoundSpec(
        "Revised anonymous estimates", "estimate", wants_estimate=True, anonymous=True,
        instructions="Revise your estimate after seeing the group's anonymous estimates and reasons.",
    ),
    stop_rule=converged,
)
