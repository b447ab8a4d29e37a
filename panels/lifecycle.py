"""The panel lifecycle: one transition table. Any move not in it raises."""

from django.db import models

from config.errors import Conflict


class Status(models.TextChoices):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    ASSIGNING_EXPERTS = "ASSIGNING_EXPERTS"
    IN_PROGRESS = "IN_PROGRESS"
    AWAITING_INPUT = "AWAITING_INPUT"
    BUILDING_CONSENSUS = "BUILDING_CONSENSUS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
_ENDINGS = {Status.FAILED, Status.CANCELLED}

TRANSITIONS: dict[str, frozenset] = {
    Status.CREATED: frozenset({Status.QUEUED} | _ENDINGS),
    Status.QUEUED: frozenset({Status.ASSIGNING_EXPERTS} | _ENDINGS),
    Status.ASSIGNING_EXPERTS: frozenset({Status.IN_PROGRESS} | _ENDINGS),
    Status.IN_PROGRESS: frozenset({Status.AWAITING_INPUT, Status.BUILDING_CONSENSUS} | _ENDINGS),
    Status.AWAITING_INPUT: frozenset({Status.IN_PROGRESS} | _ENDINGS),
    Status.BUILDING_CONSENSUS: frozenset({Status.COMPLETED} | _ENDINGS),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        if current in FINAL:
            raise IllegalTransition(f"The panel is already {current.lower()}; it cannot become {target.lower()}.")
        allowed = ", ".join(sorted(s.lower() for s in TRANSITIONS[current]))
        raise IllegalTransition(
            f"A panel that is {current.lower()} cannot become {target.lower()}; it can become: {allowed}."
        )
