from django.apps import AppConfig


class AgentPreferencesConfig(AppConfig):
    """The tenant side of agents (tenant schema): preferences and usage stats."""

    name = "agents.preferences"
    label = "agent_preferences"
    verbose_name = "Expert preferences"
