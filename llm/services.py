"""Writes of the llm app: the tenant's log of LLM calls."""

from __future__ import annotations

from decimal import Decimal

from llm.client import CallRecord
from llm.models import LLMCall
from tenants.context import current_tenant


def llm_call_record(record: CallRecord, *, purpose: str) -> LLMCall:
    """Store one provider call in the active tenant's schema."""
    current_tenant()  # refuses to write a tenant's call log into public
    call = _llm_call(record, purpose)
    call.save()
    return call


def llm_calls_record(records: list[CallRecord], *, purpose: str) -> None:
    """Store several calls at once (a panel round)."""
    current_tenant()
    LLMCall.objects.bulk_create([_llm_call(record, purpose) for record in records])


def _llm_call(record: CallRecord, purpose: str) -> LLMCall:
    return LLMCall(
        purpose=purpose, provider=record.provider, model=record.model, prompt_hash=record.prompt_hash,
        input_tokens=record.input_tokens, output_tokens=record.output_tokens, cost=Decimal(str(record.cost)),
        latency_ms=int(record.latency_s * 1000), outcome=record.outcome, attempts=record.attempts,
        error=record.error, request=record.request, response_text=record.response_text,
    )


def llm_call_recorder(*, purpose: str):
    """A recorder for LLMClient that stores each call for this purpose."""
    return lambda record: llm_call_record(record, purpose=purpose)
