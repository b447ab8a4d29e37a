"""Chat providers by name, configured from settings with a tenant's overrides on top.

    client = llm_client(tenant=tenant, budget=TokenBudget(50_000), recorders=[...])
    answer, calls = ask_expert(client, task)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from llm.client import LLMClient, RetryPolicy, TokenBudget
from tenants.configuration import mask_secret

# Keys: tenants.configuration.LLM_PROVIDER_NAMES (what a tenant may choose), equal by test.
CHAT_PROVIDERS = {
    "offline": "llm.offline.OfflineProvider",
    "openai": "llm.openai_provider.OpenAIProvider",
    "anthropic": "llm.anthropic_provider.AnthropicProvider",
}
DEFAULT_MODELS = {
    "offline": "offline-extractive-1",
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-6",
}


@dataclass(frozen=True)
class ProviderSettings:
    provider: str
    model: str
    base_url: str
    api_key: str
    timeout_s: float

    def describe(self) -> dict:
        return {"provider": self.provider, "model": self.model, "base_url": self.base_url,
                "api_key": mask_secret(self.api_key)}

    def __repr__(self) -> str:  # keys never reach logs through a repr
        return f"ProviderSettings({self.describe()})"


def provider_settings(tenant=None) -> ProviderSettings:
    """Settings from the environment, with the tenant's overrides (provider, model, key)."""
    provider, model = settings.LLM_PROVIDER, settings.LLM_MODEL
    base_url, api_key = settings.LLM_BASE_URL, settings.LLM_API_KEY
    if tenant is not None and not getattr(tenant, "is_public", True):
        override = tenant.configuration.llm
        if override.provider and override.provider != provider:
            provider, model, base_url, api_key = override.provider, "", "", ""
        model = override.model or model
        base_url = override.base_url or base_url
        api_key = tenant.llm_api_key or api_key
    return ProviderSettings(
        provider=provider,
        model=model or DEFAULT_MODELS[provider],
        base_url=base_url,
        api_key=api_key,
        timeout_s=settings.LLM_TIMEOUT_S,
    )


def chat_provider(config: ProviderSettings):
    from llm.errors import ProviderMisconfigured

    if config.provider not in CHAT_PROVIDERS:
        raise ProviderMisconfigured(
            f"LLM provider {config.provider!r} is not known; choose one of {', '.join(CHAT_PROVIDERS)}."
        )
    return import_string(CHAT_PROVIDERS[config.provider])(
        model=config.model, api_key=config.api_key, base_url=config.base_url, timeout_s=config.timeout_s
    )


def llm_client(*, tenant=None, budget: TokenBudget | None = None, recorders=None,
               retry: RetryPolicy | None = None, provider=None) -> LLMClient:
    """A client for the tenant's provider, priced from the price table (tenants/billing);
    the offline provider costs nothing and needs no price."""
    from tenants.billing.selectors import price_get

    provider = provider or chat_provider(provider_settings(tenant))
    return LLMClient(
        provider,
        retry=retry or RetryPolicy.from_settings(),
        budget=budget,
        recorders=recorders,
        price=None if provider.name == "offline" else price_get(provider=provider.name, model=provider.model),
    )
