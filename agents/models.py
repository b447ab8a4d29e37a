from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from agents.domains import DISPOSITIONS, DOMAINS
from llm.embeddings.base import DIMENSIONS


class ExpertProfile(models.Model):
    """Who an expert is: what catalog agents and a tenant's private experts share."""

    name = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    domain = models.CharField(max_length=50, choices=list(DOMAINS.items()), db_index=True)
    business_function = models.CharField(max_length=200)
    disposition = models.CharField(max_length=20, choices=[(d, d) for d in DISPOSITIONS], default="balanced")
    capabilities = models.JSONField(default=list)
    knowledge_domains = models.JSONField(default=list)
    key_considerations = models.JSONField(default=list)
    system_prompt = models.TextField()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.name} — {self.title}"

    @property
    def domain_label(self) -> str:
        return DOMAINS.get(self.domain, self.domain)

    def profile_text(self) -> str:
        """What the agent is about, as ranking reads it."""
        return " ".join([self.title, self.business_function, self.domain_label, *self.capabilities,
                         *self.knowledge_domains])


class Agent(ExpertProfile):
    """One expert of the shared catalog (public schema), loaded from agents/catalog/*.yaml.

    An agent removed from the catalog is retired (is_active=False), never deleted, so
    panels that used it keep their members."""

    private = False  # a tenant's own experts are agents.tenant.models.CustomAgent

    slug = models.SlugField(max_length=100, unique=True)
    tier = models.PositiveSmallIntegerField(choices=[(1, "Tier 1"), (2, "Tier 2"), (3, "Tier 3")])
    compatible_agents = models.JSONField(default=list, blank=True)
    incompatible_agents = models.JSONField(default=list, blank=True)
    cost_per_query = models.DecimalField(max_digits=8, decimal_places=4)
    is_active = models.BooleanField(default=True, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Derived by load_agents from the profile: what ranking searches.
    profile_hash = models.CharField(max_length=64, blank=True)
    search_vector = SearchVectorField(null=True)
    embedding = VectorField(dimensions=DIMENSIONS, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain", "-tier", "name"]
        indexes = [
            GinIndex(fields=["search_vector"], name="agent_search_gin"),
            HnswIndex(name="agent_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]


class AgentExample(models.Model):
    """A question written for an agent in its catalog file (`example_questions`), embedded:
    ranking matches a user's question to the closest example of each agent."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="examples")
    text = models.TextField()
    embedding = VectorField(dimensions=DIMENSIONS)

    class Meta:
        ordering = ["agent", "id"]

    def __str__(self):
        return self.text


class CatalogVersion(models.Model):
    """One row: a number that changes with every change to the agents table.

    A statement trigger on agents_agent and agents_agentexample (migrations 0003, 0004) sets it from a sequence after
    every INSERT, UPDATE, DELETE or TRUNCATE, so every write path counts (admin,
    load_agents, bulk update(), raw SQL). The number is written in the writer's
    transaction, so readers see it with the rows it stands for; a sequence never hands out
    a number twice, so a rolled-back change cannot lend its number to a later one.
    Ranking keeps the catalog's embeddings per process under this number
    (agents/ranking.py: catalog_matrix)."""

    number = models.BigIntegerField(default=0)

    def __str__(self):
        return f"catalog version {self.number}"
