from decimal import Decimal

from django.conf import settings
from django.db import models
from pgvector.django import VectorField

from agents.models import ExpertProfile
from llm.embeddings.base import DIMENSIONS


class AgentPreferences(models.Model):
    """The tenant's steering of expert ranking (one row per tenant schema):
    preferred agents per domain (x1.2) and disabled agents (never returned)."""

    preferred = models.JSONField(default=dict, blank=True, help_text='{"<domain>": ["<slug>", ...]}')
    disabled = models.JSONField(default=list, blank=True, help_text='["<slug>", ...]')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "agent preferences"

    def __str__(self):
        return "Expert preferences"

    @property
    def preferred_slugs(self) -> set[str]:
        return {slug for slugs in self.preferred.values() for slug in slugs}


class AgentUsage(models.Model):
    """How this tenant has used an agent: feeds the usage boost in ranking."""

    agent = models.OneToOneField("agents.Agent", on_delete=models.PROTECT, related_name="+")
    use_count = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    avg_rating = models.FloatField(default=0.0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-use_count"]
        verbose_name_plural = "agent usage"

    def __str__(self):
        return f"{self.agent_id}: used {self.use_count}, rated {self.avg_rating:.1f}"


class CustomAgent(ExpertProfile):
    """A tenant's private expert (tenant schema: no other tenant can see it), created by a
    tenant admin on a plan with `custom_agents`. Ranked together with the catalog; panels
    keep its name and role if it is deleted later (panels.PanelMember)."""

    private = True
    tier = 2
    compatible_agents: list = []
    incompatible_agents: list = []
    is_active = True

    slug = models.SlugField(max_length=100, unique=True)
    embedding = VectorField(dimensions=DIMENSIONS, null=True)
    cost_per_query = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("0.10"))
    use_count = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    avg_rating = models.FloatField(default=0.0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
