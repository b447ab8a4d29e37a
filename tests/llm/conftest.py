from panels.orchestration.experts import ExpertBrief, ExpertTask, PeerView, Source

REGULATORY = ExpertBrief(
    slug="fda-510k-specialist",
    name="Dr. Elena Marsh",
    title="FDA 510(k) Submissions Lead",
    domain="regulatory_affairs",
    system_prompt="You are a senior 510(k) specialist.",
    key_considerations=(
        "A predicate with different technological characteristics needs performance data showing no new questions of safety and effectiveness.",
        "Software functions need documentation matched to their level of concern and a cybersecurity plan.",
        "A Pre-Submission meeting de-risks the testing plan before the submission is locked.",
        "De Novo is the route when no predicate exists and the risk is low to moderate.",
        "Clinical performance data for AI algorithms must come from a population independent of training data.",
    ),
    capabilities=("510(k) strategy", "predicate selection"),
    disposition="balanced",
)

SOURCES = (
    Source("c1", "US device pathways", "The De Novo pathway is available when no legally marketed predicate exists. "
           "Devices of low to moderate risk can be classified through De Novo, which creates a new regulation."),
    Source("c2", "Software and AI devices", "A predetermined change control plan lets a manufacturer describe "
           "planned algorithm changes. Safety risk remains if training data are biased; independent validation is required."),
)


def expert_task(**overrides) -> ExpertTask:
    values = dict(
        question="Should we file a De Novo or a 510(k) for our AI ECG arrhythmia detection software?",
        expert=REGULATORY,
        sources=SOURCES,
    )
    values.update(overrides)
    return ExpertTask(**values)


__all__ = ["expert_task", "PeerView", "REGULATORY", "SOURCES"]
