from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app only for its operations commands (`doctor`,
    `seed_demo`): like urls and health, they reach every app, so they live here and not
    inside one of them. No models."""

    name = "config"
    verbose_name = "Ask Panel"
