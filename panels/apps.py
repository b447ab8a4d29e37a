from django.apps import AppConfig


class PanelsConfig(AppConfig):
    """Panels: the aggregate, panel types, orchestration (tenant schema)."""

    name = "panels"
    verbose_name = "Panels"
