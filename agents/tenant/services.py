"""Writes of the tenant side of agents."""

from __future__ import annotations

from decimal import Decimal

from agents.providers.client import CallRecord
from agents.tenant.models import LLMCall
from tenants.context import current_tenant


def llm_call_record(record: CallRecord, *, purpose: str) -> LLMCall:
    """Store one provider call in the active tenant's schema."""
    current_tenant()  # refuses to write a tenant's call log into public
    return LLMCall.objects.create(
        purpose=purpose,
        provider=record.provider,
        model=record.model,
        prompt_hash=record.prompt_hash,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cost=Decimal(str(record.cost)),
        latency_ms=int(record.latency_s * 1000),
        outcome=record.outcome,
        attempts=record.attempts,
        error=record.error,
        request=record.request,
        response_text=record.response_text,
    )


def llm_call_recorder(*, purpose: str):
    """A recorder for LLMClient that stores each call for this purpose."""
    return lambda record: llm_call_record(record, purpose=purpose)
