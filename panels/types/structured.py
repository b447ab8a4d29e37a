from panels.types.base import PanelType, RoundSpec

STRUCTURED = PanelType(
    name="structured",
    label="Structured",
    description="Experts answer in turn, each seeing the earlier answers; then they cross-question each other.",
    min_experts=2, default_experts=4, max_experts=8,
    default_rounds=2, max_rounds=5, consensus_threshold=0.70,
    base_plan=(
        RoundSpec("Statements in turn", "statement", parallel=False,
                  instructions="Give your view, building on or challenging what earlier experts said."),
        RoundSpec("Cross-questions", "question", target_next=True,
                  instructions="Ask the expert you address the one question that most tests their position, "
                               "and restate your own position."),
    ),
    extra_round=RoundSpec("Revised positions", "revision",
                          instructions="Revise or confirm your position in the light of the questions raised."),
)
