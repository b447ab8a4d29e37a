from django.apps import AppConfig


class LlmConfig(AppConfig):
    """Chat providers and embedders for every app; the log of every LLM call made for a
    tenant lives in that tenant's schema (TENANT_APPS)."""

    name = "llm"
    verbose_name = "LLM calls"
