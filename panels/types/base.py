"""What a panel type is: limits, defaults, a round plan and a stopping rule. Adding a
type is one module and one registry line; the orchestration reads these fields and never
asks which type it is running."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class RoundSpec:
    title: str
    kind: str  # the contribution kind AI members make this round
    parallel: bool = True  # members do not need each other's words this round: call them at once
    speakers: tuple[str, ...] = ("expert", "pro", "con", "moderator")  # roles that speak
    target_next: bool = False  # each speaker addresses the next member (questions, probing)
    wants_estimate: bool = False
    anonymous: bool = False  # peers appear as "Expert A" (delphi)
    with_themes: bool = False  # show the themes of the previous round (open)
    pause_for_humans: bool = False  # after this round, wait for human input (hybrid)
    instructions: str = ""


@dataclass(frozen=True)
class PanelType:
    name: str
    label: str
    description: str
    min_experts: int
    default_experts: int
    max_experts: int
    default_rounds: int
    max_rounds: int
    consensus_threshold: float
    base_plan: tuple[RoundSpec, ...]
    extra_round: RoundSpec  # what further rounds (up to max_rounds) look like
    final_round: RoundSpec | None = None  # always last when there are 2+ rounds (a judge)
    # Seats that need a role, filled by disposition: {"first": [(role, dispositions)], "cycle": [...]}.
    role_plan: dict | None = field(default=None, compare=False)
    stop_rule: Callable[[list[list[float]]], bool] | None = field(default=None, compare=False)

    def plan(self, rounds: int) -> list[RoundSpec]:
        """The round plan for `rounds` rounds."""
        rounds = max(1, min(rounds, self.max_rounds))
        body_length = rounds - (1 if self.final_round and rounds > 1 else 0)
        body = list(self.base_plan[:body_length])
        while len(body) < body_length:
            body.append(self.extra_round)
        return body + ([self.final_round] if self.final_round and rounds > 1 else [])

    def should_stop(self, estimates_by_round: list[list[float]]) -> bool:
        return bool(self.stop_rule and self.stop_rule(estimates_by_round))

    def describe(self) -> dict:
        return {
            "name": self.name, "label": self.label, "description": self.description,
            "experts": {"min": self.min_experts, "default": self.default_experts, "max": self.max_experts},
            "rounds": {"default": self.default_rounds, "max": self.max_rounds},
            "consensus_threshold": self.consensus_threshold,
        }
