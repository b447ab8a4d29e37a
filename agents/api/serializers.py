from rest_framework import serializers


class AgentSerializer(serializers.Serializer):
    """A catalog agent as the API shows it. Declared field by field rather than as a
    ModelSerializer, which rebuilds its fields from the model on every use (~0.25 ms for
    the recommend endpoint's five agents); the lists pass through as stored."""

    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    domain = serializers.CharField(read_only=True)
    domain_label = serializers.CharField(read_only=True)
    business_function = serializers.CharField(read_only=True)
    tier = serializers.IntegerField(read_only=True)
    disposition = serializers.CharField(read_only=True)
    capabilities = serializers.JSONField(read_only=True)
    knowledge_domains = serializers.JSONField(read_only=True)
    key_considerations = serializers.JSONField(read_only=True)
    compatible_agents = serializers.JSONField(read_only=True)
    incompatible_agents = serializers.JSONField(read_only=True)
    cost_per_query = serializers.DecimalField(max_digits=8, decimal_places=4, read_only=True)
    is_active = serializers.BooleanField(read_only=True)


class AgentDetailSerializer(AgentSerializer):
    system_prompt = serializers.CharField(read_only=True)
