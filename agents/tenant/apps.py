from django.apps import AppConfig


class AgentsTenantConfig(AppConfig):
    """The tenant side of agents (tenant schema): expert preferences and agent usage stats."""

    name = "agents.tenant"
    label = "agents_tenant"
    verbose_name = "Expert preferences and usage"
