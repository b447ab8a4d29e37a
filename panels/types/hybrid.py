from panels.types.base import PanelType, RoundSpec

HUMAN_INPUT_HOURS = 24

HYBRID = PanelType(
    name="hybrid",
    label="Hybrid (AI + human experts)",
    description="An AI round, then human experts add their input, then the AI experts revise.",
    min_experts=2, default_experts=4, max_experts=8,
    default_rounds=2, max_rounds=4, consensus_threshold=0.70,
    base_plan=(
        RoundSpec("AI experts' views", "statement", pause_for_humans=True),
        RoundSpec("Revision with human input", "revision",
                  instructions="Take the human experts' input into account: revise or confirm your position."),
    ),
    extra_round=RoundSpec("Further revision", "revision"),
)
