from panels.types.base import PanelType, RoundSpec

SOCRATIC = PanelType(
    name="socratic",
    label="Socratic",
    description="Initial positions, then each expert probes another's reasoning, then defense or revision.",
    min_experts=2, default_experts=3, max_experts=6,
    default_rounds=3, max_rounds=5, consensus_threshold=0.65,
    base_plan=(
        RoundSpec("Initial positions", "statement"),
        RoundSpec("Probing", "question", target_next=True,
                  instructions="Examine the reasoning of the expert you address: find its weakest assumption."),
        RoundSpec("Defense and revision", "revision",
                  instructions="Answer the probing directed at you: defend your position or revise it."),
    ),
    extra_round=RoundSpec("Further revision", "revision"),
)
