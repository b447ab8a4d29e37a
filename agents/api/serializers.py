from rest_framework import serializers

from agents.models import Agent


class AgentSerializer(serializers.ModelSerializer):
    domain_label = serializers.CharField(read_only=True)

    class Meta:
        model = Agent
        fields = ["slug", "name", "title", "domain", "domain_label", "business_function", "tier", "disposition",
                  "capabilities", "knowledge_domains", "key_considerations", "compatible_agents",
                  "incompatible_agents", "cost_per_query", "is_active"]


class AgentDetailSerializer(AgentSerializer):
    class Meta(AgentSerializer.Meta):
        fields = AgentSerializer.Meta.fields + ["system_prompt"]
