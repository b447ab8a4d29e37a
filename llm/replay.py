"""Record/replay: a call log (JSON lines, or stored LLMCall rows) reproduces the same
outputs with no network — for deterministic tests and for auditing a finished panel."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path
from typing import Iterable

from llm.base import ChatRequest
from llm.client import CallRecord
from llm.errors import ReplayMissing


class JsonlRecorder:
    """Appends each call to a file, one JSON object a line."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __call__(self, record: CallRecord) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record.as_dict(), ensure_ascii=False) + "\n")


def load_call_log(path: Path) -> list[CallRecord]:
    with Path(path).open(encoding="utf-8") as handle:
        return [CallRecord(**json.loads(line)) for line in handle if line.strip()]


def records_from_calls(calls: Iterable) -> list[CallRecord]:
    """LLMCall rows -> CallRecords (agents.tenant.models.LLMCall)."""
    return [
        CallRecord(provider=c.provider, model=c.model, prompt_hash=c.prompt_hash, input_tokens=c.input_tokens,
                   output_tokens=c.output_tokens, cost=float(c.cost), latency_s=c.latency_ms / 1000,
                   outcome=c.outcome, attempts=c.attempts, response_text=c.response_text, error=c.error,
                   request=c.request)
        for c in calls
    ]


class ReplayProvider:
    """Answers exactly what was recorded for the same request; refuses anything else."""

    def __init__(self, records: Iterable[CallRecord], *, provider: str | None = None, model: str | None = None):
        records = [r for r in records if r.outcome == "ok"]
        if not records and (provider is None or model is None):
            raise ReplayMissing("The call log holds no successful call to replay.")
        self.name = provider or records[0].provider
        self.model = model or records[0].model
        self._answers: dict[str, deque] = defaultdict(deque)
        for record in records:
            self._answers[record.prompt_hash].append(record)

    def complete(self, request: ChatRequest) -> tuple[str, int, int]:
        prompt_hash = request.prompt_hash(provider=self.name, model=self.model)
        answers = self._answers.get(prompt_hash)
        if not answers:
            raise ReplayMissing(
                f"No recorded {self.name}/{self.model} call matches this request (hash {prompt_hash[:12]}…); "
                "the log cannot reproduce it."
            )
        record = answers.popleft() if len(answers) > 1 else answers[0]
        return record.response_text, record.input_tokens, record.output_tokens
