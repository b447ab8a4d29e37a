"""Every chat call goes through LLMClient: retries with backoff, token budgets,
cost from the price table, and a CallRecord for each call (accounting, audit, replay)."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

from django.conf import settings

from llm.base import ChatProvider, ChatRequest, ChatResult, TransientError, Usage, estimate_tokens
from llm.errors import BudgetExceeded, ProviderError, ProviderRateLimited, ProviderUnavailable

logger = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    """Up to `max_attempts` calls; before attempt n+1 a wait of base * 2**(n-1) seconds,
    capped at `max_delay_s`, +/- `jitter` (or the server's Retry-After, capped too)."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    jitter: float = 0.25  # +/- this fraction of the delay
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, **overrides) -> RetryPolicy:
        """The production schedule: LLM_MAX_ATTEMPTS, LLM_RETRY_BASE_DELAY_S, LLM_RETRY_MAX_DELAY_S."""
        return cls(**{"max_attempts": settings.LLM_MAX_ATTEMPTS, "base_delay_s": settings.LLM_RETRY_BASE_DELAY_S,
                      "max_delay_s": settings.LLM_RETRY_MAX_DELAY_S, **overrides})

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay_s)
        backoff = min(self.base_delay_s * (2 ** (attempt - 1)), self.max_delay_s)
        return backoff * (1 + random.uniform(-self.jitter, self.jitter))


class TokenBudget:
    """A running total that refuses a call before it could overspend. Calls made at the
    same time (a parallel round) each reserve their worst case first, under a lock."""

    def __init__(self, limit: int | None, *, label: str = "panel", spent: int = 0):
        self.limit = limit
        self.label = label
        self.spent = spent
        self.reserved = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.spent - self.reserved, 0)

    def reserve(self, needed: int) -> None:
        with self._lock:
            if self.limit is not None and self.spent + self.reserved + needed > self.limit:
                raise BudgetExceeded(
                    f"This call may use up to {needed} tokens, but the {self.label} has {self.remaining} "
                    f"of its {self.limit} tokens left; it was not made.",
                    details={"limit": self.limit, "spent": self.spent, "needed": needed},
                )
            self.reserved += needed

    def settle(self, reserved: int, used: int) -> None:
        with self._lock:
            self.reserved -= reserved
            self.spent += used


@dataclass
class CallRecord:
    provider: str
    model: str
    prompt_hash: str
    input_tokens: int
    output_tokens: int
    cost: float
    latency_s: float
    outcome: str  # ok | rate_limited | unavailable | budget_exceeded | error
    attempts: int
    response_text: str = ""
    error: str = ""
    request: dict = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def as_dict(self) -> dict:
        return asdict(self)


def price_of(price, input_tokens: int, output_tokens: int) -> float:
    """USD for the tokens at `price` (USD per million input and output tokens; None: 0)."""
    if not price:
        return 0.0
    return round(input_tokens * float(price[0]) / 1_000_000 + output_tokens * float(price[1]) / 1_000_000, 8)


class LLMClient:
    def __init__(
        self,
        provider: ChatProvider,
        *,
        retry: RetryPolicy | None = None,
        budget: TokenBudget | None = None,
        max_tokens_per_call: int | None = None,
        recorders: list[Callable[[CallRecord], None]] | None = None,
        price=None,
    ):
        self.provider = provider
        self.price = price  # USD per million input and output tokens (tenants/billing), read once
        self.retry = retry or RetryPolicy.from_settings()
        self.budget = budget or TokenBudget(None)
        self.max_tokens_per_call = max_tokens_per_call or settings.LLM_MAX_TOKENS_PER_CALL
        self.recorders = list(recorders or [])

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def model(self) -> str:
        return self.provider.model

    def chat(self, request: ChatRequest) -> ChatResult:
        prompt_hash = request.prompt_hash(provider=self.provider.name, model=self.provider.model)
        needed = estimate_tokens(request.prompt_text()) + request.max_tokens
        try:
            if needed > self.max_tokens_per_call:
                raise BudgetExceeded(
                    f"This call may use up to {needed} tokens, more than the per-call limit of "
                    f"{self.max_tokens_per_call}; shorten the input or raise LLM_MAX_TOKENS_PER_CALL.",
                    details={"limit": self.max_tokens_per_call, "needed": needed},
                )
            self.budget.reserve(needed)
        except BudgetExceeded as refusal:
            self._record(request, prompt_hash, outcome="budget_exceeded", attempts=0, error=refusal.message)
            raise

        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                text, input_tokens, output_tokens = self.provider.complete(request)
                break
            except TransientError as failure:
                if attempt >= self.retry.max_attempts:
                    self.budget.settle(needed, 0)
                    latency = time.perf_counter() - started
                    error = self._exhausted(failure, attempt)
                    self._record(request, prompt_hash, outcome=error.code.removeprefix("provider_"),
                                 attempts=attempt, error=error.message, latency_s=latency)
                    raise error from failure
                wait = self.retry.delay(attempt, failure.retry_after)
                logger.warning("%s call failed (%s); retry %d in %.2fs", self.provider.name, failure, attempt, wait)
                self.retry.sleep(wait)
            except ProviderError as failure:
                self.budget.settle(needed, 0)
                self._record(request, prompt_hash, outcome="error", attempts=attempt, error=failure.message,
                             latency_s=time.perf_counter() - started)
                raise

        latency = time.perf_counter() - started
        usage = Usage(
            provider=self.provider.name,
            model=self.provider.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=price_of(self.price, input_tokens, output_tokens),
            latency_s=latency,
            attempts=attempt,
        )
        self.budget.settle(needed, usage.total_tokens)
        self._record(request, prompt_hash, outcome="ok", attempts=attempt, usage=usage, response_text=text)
        return ChatResult(text=text, usage=usage, prompt_hash=prompt_hash)

    def _exhausted(self, failure: TransientError, attempts: int) -> ProviderError:
        where = f"{self.provider.name} ({self.provider.model})"
        if failure.rate_limited:
            return ProviderRateLimited(
                f"{where} is rate-limiting us and still was after {attempts} attempts; try again later.",
                details={"attempts": attempts},
            )
        return ProviderUnavailable(
            f"{where} did not answer usably after {attempts} attempts: {failure}.",
            details={"attempts": attempts},
        )

    def _record(self, request, prompt_hash, *, outcome, attempts, usage: Usage | None = None,
                response_text="", error="", latency_s=0.0) -> None:
        record = CallRecord(
            provider=self.provider.name,
            model=self.provider.model,
            prompt_hash=prompt_hash,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
            cost=usage.cost if usage else 0.0,
            latency_s=round(usage.latency_s if usage else latency_s, 4),
            outcome=outcome,
            attempts=attempts,
            response_text=response_text,
            error=error,
            request={"system": request.system, "messages": [asdict(m) for m in request.messages]},
        )
        for recorder in self.recorders:
            recorder(record)
