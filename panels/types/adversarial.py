from panels.types.base import PanelType, RoundSpec

DEBATERS = ("pro", "con")

ADVERSARIAL = PanelType(
    name="adversarial",
    label="Adversarial debate",
    description="A pro side and a con side argue and rebut; a moderator judges and synthesises.",
    min_experts=3, default_experts=5, max_experts=9,
    default_rounds=3, max_rounds=4, consensus_threshold=0.50,
    base_plan=(
        RoundSpec("Opening arguments", "statement", speakers=DEBATERS,
                  instructions="Argue your side's case as strongly as the evidence allows."),
        RoundSpec("Rebuttals", "rebuttal", speakers=DEBATERS,
                  instructions="Rebut the strongest argument of the other side."),
    ),
    extra_round=RoundSpec("Second rebuttals", "rebuttal", speakers=DEBATERS),
    role_plan={
        "first": [("moderator", ("balanced",))],
        "cycle": [("pro", ("advocate", "balanced")), ("con", ("skeptic", "balanced"))],
    },
    final_round=RoundSpec("Judged synthesis", "synthesis", speakers=("moderator",),
                          instructions="Judge the debate: which arguments held, which failed, and what follows."),
)
