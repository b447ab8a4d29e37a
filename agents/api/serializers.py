from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.domains import DISPOSITIONS, DOMAINS
from config.api.fields import TextField


class AgentSerializer(serializers.Serializer):
    """A catalog agent as the API shows it. Declared field by field rather than as a
    ModelSerializer, which rebuilds its fields from the model on every use (~0.25 ms for
    the recommend endpoint's five agents)."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    domain = serializers.ChoiceField(choices=list(DOMAINS), read_only=True)
    domain_label = serializers.CharField(read_only=True)
    business_function = serializers.CharField(read_only=True)
    tier = serializers.IntegerField(min_value=1, max_value=3, read_only=True)
    disposition = serializers.ChoiceField(choices=DISPOSITIONS, read_only=True)
    capabilities = serializers.ListField(child=serializers.CharField(), read_only=True)
    knowledge_domains = serializers.ListField(child=serializers.CharField(), read_only=True)
    key_considerations = serializers.ListField(child=serializers.CharField(), read_only=True)
    compatible_agents = serializers.ListField(child=serializers.CharField(), read_only=True,
                                              help_text="Slugs of agents that work well with this one.")
    incompatible_agents = serializers.ListField(child=serializers.CharField(), read_only=True)
    cost_per_query = serializers.DecimalField(max_digits=8, decimal_places=4, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    private = serializers.BooleanField(read_only=True, help_text="One of your organisation's own experts.")


class AgentDetailSerializer(AgentSerializer):
    system_prompt = serializers.CharField(read_only=True)


@extend_schema_field({
    "type": "object", "additionalProperties": False,
    "properties": {domain: {"type": "array", "items": {"type": "string"}} for domain in DOMAINS},
}, component_name="PreferredAgents")
class PreferredAgentsField(serializers.DictField):
    """Per domain, agent slugs. The schema names the domains, the only keys
    preferences_set accepts (OpenAPI 3.0 cannot constrain the keys of a map otherwise)."""

    child = serializers.ListField(child=TextField())


class AgentPreferencesSerializer(serializers.Serializer):
    """The organisation's expert preferences: what PUT takes and what GET and PUT return."""

    preferred = PreferredAgentsField(
        default=dict, help_text="Per domain (e.g. `regulatory_affairs`), the agent slugs to seat first, in order.")
    disabled = serializers.ListField(child=TextField(), default=list,
                                     help_text="Agent slugs never seated on this tenant's panels.")


class CustomAgentReplaceSerializer(serializers.Serializer):
    """A private expert's profile as it is replaced (its slug stays; checked by agents.tenant.services)."""

    name = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=300)
    domain = serializers.ChoiceField(choices=list(DOMAINS))
    business_function = serializers.CharField(max_length=200)
    disposition = serializers.ChoiceField(choices=DISPOSITIONS, required=False, default="balanced")
    capabilities = serializers.ListField(child=serializers.CharField(max_length=500), min_length=1, max_length=20)
    knowledge_domains = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                              max_length=20)
    key_considerations = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                               max_length=20)
    system_prompt = serializers.CharField(max_length=8000)


class CustomAgentInputSerializer(CustomAgentReplaceSerializer):
    """A private expert as it is created."""

    slug = serializers.SlugField(max_length=100, help_text="Unique in your organisation; not a catalog slug.")


class CustomAgentSerializer(AgentDetailSerializer):
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
