from django.apps import AppConfig


class AgentsConfig(AppConfig):
    """The shared agent catalog (public schema)."""

    name = "agents"
    verbose_name = "Agent catalog"
