"""Structured expert answers: the task an expert is given, the prompt every LLM provider
receives for it, and robust reading of what comes back (one repair attempt, then
MalformedOutput)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from llm.base import ChatRequest, ChatResult, Message
from llm.errors import MalformedOutput
from llm.structured import extract_json_object

STANCES = ("support", "oppose", "neutral")
ACTIONS = ("proceed", "caution", "stop", "investigate")
KINDS = ("statement", "question", "rebuttal", "revision", "estimate", "synthesis")

EXPERT_ANSWER_SCHEMA = {
    "type": "object",
    "required": ["statement", "position", "stance", "confidence", "key_points", "citations"],
    "properties": {
        "statement": {"type": "string", "description": "what you say in this turn, citing sources as [id]"},
        "position": {"type": "string", "description": "your position in one sentence"},
        "stance": {"enum": list(STANCES)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "key_points": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "citations": {"type": "array", "items": {"type": "string"}, "description": "ids of the sources you used"},
        "estimate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "action": {"enum": [*ACTIONS, None]},
    },
}


@dataclass(frozen=True)
class ExpertBrief:
    slug: str
    name: str
    title: str
    domain: str
    system_prompt: str
    key_considerations: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    disposition: str = "balanced"


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class PeerView:
    name: str
    stance: str
    position: str
    statement: str = ""
    estimate: float | None = None


@dataclass(frozen=True)
class ExpertTask:
    question: str
    expert: ExpertBrief
    kind: str = "statement"
    role: str = "expert"  # expert | pro | con | moderator
    round_number: int = 1
    instructions: str = ""
    sources: tuple[Source, ...] = ()
    peers: tuple[PeerView, ...] = ()
    target: str = ""  # whom a question or rebuttal addresses
    wants_estimate: bool = False


@dataclass
class ExpertAnswer:
    statement: str
    position: str
    stance: str
    confidence: float
    key_points: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    estimate: float | None = None
    action: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# --- the prompt -------------------------------------------------------------------------


def build_request(task: ExpertTask, *, max_tokens: int = 900) -> ChatRequest:
    expert = task.expert
    system = (
        f"{expert.system_prompt.strip()}\n\n"
        f"You are {expert.name}, {expert.title}, on an expert panel. Stay in your field; be concrete; "
        "say what would change your mind. Cite only the sources you are given, by their id in square "
        "brackets, and never invent a source. Answer with one JSON object only."
    )
    parts = [f"Question for the panel:\n{task.question}", f"Round {task.round_number}. Your task: {task.kind}."]
    if task.role != "expert":
        parts.append(f"Your role in this debate: {task.role}.")
    if task.instructions:
        parts.append(task.instructions)
    if task.target:
        parts.append(f"Address: {task.target}.")
    if task.sources:
        parts.append("Sources from the organisation's documents:\n" + "\n\n".join(
            f"[{s.id}] {s.title}\n{s.text}" for s in task.sources))
    else:
        parts.append("No documents were retrieved for this question; say so where it matters.")
    if task.peers:
        parts.append("What other panel members said:\n" + "\n".join(
            f"- {p.name} ({p.stance}{'' if p.estimate is None else f', estimate {p.estimate:.2f}'}): "
            f"{p.position}" for p in task.peers))
    parts.append(
        "Reply with JSON matching this schema (no other text):\n" + json.dumps(EXPERT_ANSWER_SCHEMA)
        + ("\nInclude `estimate`: your probability (0-1) that the proposal succeeds." if task.wants_estimate else "")
    )
    return ChatRequest(
        system=system,
        messages=(Message("user", "\n\n".join(parts)),),
        json_schema=EXPERT_ANSWER_SCHEMA,
        max_tokens=max_tokens,
        grounding={"task": task},
    )


# --- reading the answer ---------------------------------------------------------------

STANCE_SYNONYMS = {"for": "support", "pro": "support", "supportive": "support", "agree": "support",
                   "against": "oppose", "con": "oppose", "opposed": "oppose", "disagree": "oppose",
                   "mixed": "neutral", "undecided": "neutral"}


def parse_expert_answer(text: str) -> ExpertAnswer:
    """Read a reply as an ExpertAnswer; ValueError says what is wrong (used for the repair)."""
    data = extract_json_object(text)
    statement = str(data.get("statement") or "").strip()
    if not statement:
        raise ValueError("`statement` is missing or empty")
    stance = str(data.get("stance") or "").strip().lower()
    stance = STANCE_SYNONYMS.get(stance, stance)
    if stance not in STANCES:
        raise ValueError(f"`stance` must be one of {', '.join(STANCES)}, not {data.get('stance')!r}")
    confidence = _unit_number(data.get("confidence"), "confidence", required=True)
    estimate = _unit_number(data.get("estimate"), "estimate", required=False)
    action = data.get("action")
    action = str(action).strip().lower() if action not in (None, "", "null") else None
    if action is not None and action not in ACTIONS:
        raise ValueError(f"`action` must be one of {', '.join(ACTIONS)}, not {data.get('action')!r}")
    citations = data.get("citations") or []
    if not isinstance(citations, list):
        raise ValueError("`citations` must be a list of source ids")
    key_points = data.get("key_points") or []
    if not isinstance(key_points, list):
        raise ValueError("`key_points` must be a list of strings")
    return ExpertAnswer(
        statement=statement,
        position=str(data.get("position") or statement.split(". ")[0]).strip()[:500],
        stance=stance,
        confidence=confidence,
        key_points=[str(point).strip() for point in key_points if str(point).strip()][:5],
        citations=list(dict.fromkeys(str(c).strip().strip("[]") for c in citations if str(c).strip())),
        estimate=estimate,
        action=action,
    )


def _unit_number(value, name: str, *, required: bool) -> float | None:
    if value is None or value == "":
        if required:
            raise ValueError(f"`{name}` is missing")
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number from 0 to 1, not {value!r}") from None
    if 1 < number <= 100:  # a percentage
        number /= 100
    if not 0 <= number <= 1:
        raise ValueError(f"`{name}` must be from 0 to 1, not {value!r}")
    return round(number, 4)


REPAIR_INSTRUCTION = (
    "Your previous reply could not be used: {problem}. Reply again with only the JSON object, "
    "matching the schema exactly, and nothing else."
)


def ask_expert(client, task: ExpertTask, *, max_tokens: int = 900) -> tuple[ExpertAnswer, list[ChatResult]]:
    """One expert turn through any provider: the answer and the calls it took (1 or 2)."""
    request = build_request(task, max_tokens=max_tokens)
    first = client.chat(request)
    try:
        return parse_expert_answer(first.text), [first]
    except ValueError as problem:
        repair = ChatRequest(
            system=request.system,
            messages=request.messages + (
                Message("assistant", first.text),
                Message("user", REPAIR_INSTRUCTION.format(problem=problem)),
            ),
            json_schema=request.json_schema,
            max_tokens=max_tokens,
            grounding=request.grounding,
        )
        second = client.chat(repair)
        try:
            return parse_expert_answer(second.text), [first, second]
        except ValueError as still:
            raise MalformedOutput(
                f"{client.name} ({client.model}) gave an answer that could not be read as an expert "
                f"statement, even after one repair request: {still}.",
                details={"first_problem": str(problem), "second_problem": str(still)},
            ) from still
