from panels.types.base import PanelType, RoundSpec

OPEN = PanelType(
    name="open",
    label="Open discussion",
    description="All experts answer in parallel; the themes are extracted; then a free reaction round.",
    min_experts=3, default_experts=5, max_experts=10,
    default_rounds=2, max_rounds=4, consensus_threshold=0.60,
    base_plan=(
        RoundSpec("Opening views", "statement"),
        RoundSpec("Reactions to the themes", "revision", with_themes=True,
                  instructions="React freely to the themes and to the other experts: agree, disagree, add."),
    ),
    extra_round=RoundSpec("Further reactions", "revision", with_themes=True),
)
