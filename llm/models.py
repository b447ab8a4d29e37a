from django.db import models


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
