from django.db import models


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


class LLMCall(models.Model):
    """Every LLM call made for this tenant: what it cost, how it went, and what came back
    (so a finished panel can be audited or replayed without the network)."""

    purpose = models.CharField(max_length=100, db_index=True, help_text='e.g. "panel:12", "doctor"')
    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=200)
    prompt_hash = models.CharField(max_length=64, db_index=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=30)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    request = models.JSONField(default=dict)
    response_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.provider}/{self.model} {self.outcome} ({self.purpose})"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
