from django.apps import AppConfig


class AgentsTenantConfig(AppConfig):
    """The tenant side of agents (tenant schema): expert preferences, agent usage stats,
    and the log of every LLM call made for the tenant."""

    name = "agents.tenant"
    label = "agents_tenant"
    verbose_name = "Experts and LLM usage"
