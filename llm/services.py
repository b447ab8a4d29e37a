"""Writes of the llm app: the tenant's log of LLM calls, and their usage events.

Each call is logged in the tenant's schema and counted in the usage ledger (public schema,
tenants/billing) in the same transaction, keyed by the call's id: the ledger holds exactly
the calls that were logged, and a resumed or retried panel never counts one twice."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from llm.client import CallRecord
from llm.models import LLMCall
from tenants.billing.models import UsageEvent
from tenants.billing.services import billed_directly, usage_record_many
from tenants.context import current_tenant


def llm_call_record(record: CallRecord, *, purpose: str, **usage) -> LLMCall:
    """Store one provider call in the active tenant's schema (and count it)."""
    return llm_calls_record([record], purpose=purpose, **usage)[0]


def llm_calls_record(records: list[CallRecord], *, purpose: str, panel_id: int | None = None,
                     panel_type: str = "", user_id: int | None = None) -> list[LLMCall]:
    """Store calls at once (a panel round) and count them in the ledger, atomically."""
    tenant = current_tenant()  # refuses to write a tenant's call log into public
    with transaction.atomic():
        calls = LLMCall.objects.bulk_create([_llm_call(record, purpose) for record in records])
        direct = billed_directly(tenant)  # read once per batch
        usage_record_many([UsageEvent(
            tenant=tenant, kind=UsageEvent.Kind.LLM_CALL, key=f"llm:{tenant.pk}:{call.pk}",
            occurred_at=call.created_at, user_id=user_id, panel_id=panel_id, panel_type=panel_type,
            provider=call.provider, model=call.model, input_tokens=call.input_tokens,
            output_tokens=call.output_tokens, cost=Decimal(0) if direct else call.cost,
            billed_directly=direct,
            quantity=1, data={"purpose": purpose, "outcome": call.outcome, "list_cost": str(call.cost)},
        ) for call in calls])
    return calls


def _llm_call(record: CallRecord, purpose: str) -> LLMCall:
    return LLMCall(
        purpose=purpose, provider=record.provider, model=record.model, prompt_hash=record.prompt_hash,
        input_tokens=record.input_tokens, output_tokens=record.output_tokens, cost=Decimal(str(record.cost)),
        latency_ms=int(record.latency_s * 1000), outcome=record.outcome, attempts=record.attempts,
        error=record.error, request=record.request, response_text=record.response_text,
    )


def llm_call_recorder(*, purpose: str, **usage):
    """A recorder for LLMClient that stores each call for this purpose."""
    return lambda record: llm_call_record(record, purpose=purpose, **usage)
