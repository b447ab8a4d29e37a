"""One chat interface for every provider: a request in, text plus usage out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class ChatRequest:
    system: str
    messages: tuple[Message, ...]
    json_schema: dict | None = None  # ask for a structured answer of this shape
    max_tokens: int = 900
    temperature: float = 0.2
    # What the prompt was built from (panels/orchestration/experts.py). LLM providers read the
    # rendered text; the offline provider composes its answer from these facts directly.
    grounding: dict = field(default_factory=dict, compare=False)

    def prompt_hash(self, *, provider: str, model: str) -> str:
        """Identifies the call for accounting and replay: same inputs, same hash."""
        payload = {
            "provider": provider,
            "model": model,
            "system": self.system,
            "messages": [asdict(m) for m in self.messages],
            "json_schema": self.json_schema,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def prompt_text(self) -> str:
        return self.system + "\n" + "\n".join(m.content for m in self.messages)


@dataclass(frozen=True)
class Usage:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    latency_s: float
    attempts: int = 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ChatResult:
    text: str
    usage: Usage
    prompt_hash: str


class ChatProvider(Protocol):
    """What every provider implements. `complete` makes one attempt; retries, budgets
    and accounting wrap it (llm/client.py)."""

    name: str
    model: str

    def complete(self, request: ChatRequest) -> tuple[str, int, int]:
        """One attempt: (text, input_tokens, output_tokens). Raises TransientError or
        ProviderError subclasses."""


class TransientError(Exception):
    """One attempt failed in a way worth retrying (429, 5xx, timeout, connection)."""

    def __init__(self, message: str, *, rate_limited: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.rate_limited = rate_limited
        self.retry_after = retry_after


def estimate_tokens(text: str) -> int:
    """A provider-neutral estimate (about four characters a token) for budgets up front."""
    return max(1, (len(text) + 3) // 4)
