"""The tenant as the API shows it: its configuration (tier preset plus overrides), with the
LLM key masked. One field per setting of tenants/configuration.py's dataclasses
(tests/config/test_api_schema.py checks that none is missing)."""

from rest_framework import serializers

from tenants.configuration import TIERS, mask_secret
from tenants.models import Tenant


class TenantFeaturesSerializer(serializers.Serializer):
    structured = serializers.BooleanField()
    open = serializers.BooleanField()
    socratic = serializers.BooleanField()
    adversarial = serializers.BooleanField()
    delphi = serializers.BooleanField()
    hybrid = serializers.BooleanField()
    api_access = serializers.BooleanField()
    custom_agents = serializers.BooleanField()
    advanced_analytics = serializers.BooleanField()


class TenantLimitsSerializer(serializers.Serializer):
    max_panels_per_month = serializers.IntegerField()
    max_experts_per_panel = serializers.IntegerField()
    max_concurrent_panels = serializers.IntegerField()
    max_tokens_per_panel = serializers.IntegerField()
    max_documents = serializers.IntegerField()
    max_storage_mb = serializers.IntegerField()
    max_custom_agents = serializers.IntegerField(help_text="Private experts (plans with `custom_agents`).")
    monthly_token_budget = serializers.IntegerField(help_text="Tokens a month (the hard limit).")
    monthly_cost_budget_usd = serializers.IntegerField(help_text="USD a month (the hard limit).")
    budget_soft_limit_percent = serializers.IntegerField(help_text="Share of a budget that warns (banner, email).")
    api_requests_per_minute = serializers.IntegerField(help_text="API requests a minute, all users together.")
    api_requests_per_minute_per_user = serializers.IntegerField(help_text="API requests a minute, per user.")


class TenantBrandingSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    logo_url = serializers.CharField()
    favicon_url = serializers.CharField()
    primary_color = serializers.CharField()
    secondary_color = serializers.CharField()
    accent_color = serializers.CharField()
    font_family = serializers.CharField()
    custom_css = serializers.CharField()


class TenantPanelDefaultsSerializer(serializers.Serializer):
    panel_type = serializers.CharField()
    rounds = serializers.IntegerField()
    consensus_threshold = serializers.FloatField()


class TenantLLMSerializer(serializers.Serializer):
    """The tenant's own LLM provider and model ("" where the platform's default applies)."""

    provider = serializers.CharField(source="configuration.llm.provider")
    model = serializers.CharField(source="configuration.llm.model")
    base_url = serializers.CharField(source="configuration.llm.base_url")
    rerank_experts = serializers.BooleanField(
        source="configuration.llm.rerank_experts",
        help_text="The model re-ranks the 20 best experts for each question (a real provider only).")
    billed_directly = serializers.BooleanField(
        source="configuration.llm.billed_directly",
        help_text="Calls on the tenant's own key are counted but not charged by the platform.")
    api_key = serializers.SerializerMethodField(help_text="Masked: never shown back in full.")

    def get_api_key(self, tenant) -> str:
        return mask_secret(tenant.llm_api_key)


class TenantSerializer(serializers.Serializer):
    id = serializers.CharField(source="schema_name")
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=TIERS)
    status = serializers.ChoiceField(choices=Tenant.Status.choices)
    features = TenantFeaturesSerializer(source="configuration.features")
    limits = TenantLimitsSerializer(source="configuration.limits")
    branding = TenantBrandingSerializer(source="configuration.branding")
    panel_defaults = TenantPanelDefaultsSerializer(source="configuration.panel_defaults")
    llm = TenantLLMSerializer(source="*")
