"""Tenant configuration: tier presets fill what a tenant does not set; nonsense is refused
with a message that names the field."""

import pytest
from django.core.exceptions import ValidationError

from tenants.configuration import ConfigurationError, TenantConfiguration
from tenants.models import Tenant
from tenants.services import ProvisioningError, tenant_create, tenant_update_configuration


def test_tier_presets_fill_unset_values():
    starter = TenantConfiguration.build(tier="starter", name="S")
    professional = TenantConfiguration.build(tier="professional", name="P")
    enterprise = TenantConfiguration.build(tier="enterprise", name="E")
    assert starter.limits.max_panels_per_month < professional.limits.max_panels_per_month
    assert professional.limits.max_panels_per_month < enterprise.limits.max_panels_per_month
    assert starter.features.delphi is False and professional.features.delphi is True
    assert enterprise.features.hybrid is True and professional.features.hybrid is False
    assert starter.branding.display_name == "S"


def test_overrides_win_over_the_preset_and_the_rest_stays():
    configuration = TenantConfiguration.build(
        tier="starter", name="S", limits={"max_documents": 7}, features={"delphi": True}
    )
    assert configuration.limits.max_documents == 7
    assert configuration.limits.max_panels_per_month == 20
    assert configuration.features.delphi is True
    assert "delphi" in configuration.features.enabled_panel_types


@pytest.mark.parametrize(
    "section, value, field, fragment",
    [
        ("limits", {"max_documents": -1}, "limits.max_documents", "cannot be negative"),
        ("limits", {"max_documents": "many"}, "limits.max_documents", "whole number"),
        ("limits", {"max_documents": True}, "limits.max_documents", "whole number"),
        ("limits", {"max_experts_per_panel": 99}, "limits.max_experts_per_panel", "cannot exceed"),
        ("limits", {"max_seats": 3}, "limits.max_seats", "unknown setting"),
        ("features", {"teleport": True}, "features.teleport", "unknown setting"),
        ("features", {"delphi": "yes"}, "features.delphi", "true or false"),
        ("branding", {"primary_color": "blue"}, "branding.primary_color", "hex colour"),
        ("branding", {"accent_color": "#12345"}, "branding.accent_color", "hex colour"),
        ("branding", {"custom_css": "</style><script>x()</script>"}, "branding.custom_css", "'<'"),
        ("branding", {"logo_url": "javascript:alert(1)"}, "branding.logo_url", "URL"),
        ("branding", {"font_family": "Arial; } body { display:none"}, "branding.font_family", "font names"),
        ("panel_defaults", {"panel_type": "freeform"}, "panel_defaults.panel_type", "not a panel type"),
        ("panel_defaults", {"rounds": 0}, "panel_defaults.rounds", "1 to 5"),
        ("panel_defaults", {"consensus_threshold": 1.5}, "panel_defaults.consensus_threshold", "at most 1"),
        ("panel_defaults", {"panel_type": "hybrid"}, "panel_defaults.panel_type", "not enabled"),
        ("limits", ["max_documents"], "limits", "object"),
    ],
)
def test_nonsense_is_refused_naming_the_field(section, value, field, fragment):
    with pytest.raises(ConfigurationError) as refused:
        TenantConfiguration.build(tier="starter", name="S", **{section: value})
    assert refused.value.field == field
    assert fragment in refused.value.message
    assert refused.value.message.startswith(field)


def test_unknown_tier_is_refused():
    with pytest.raises(ConfigurationError, match="'platinum' is not a tier"):
        TenantConfiguration.build(tier="platinum", name="S")


@pytest.mark.parametrize("schema_name", ["Acme", "acme-corp", "1acme", "public", "pg_acme", "a" * 64, "acme corp"])
def test_schema_name_is_validated_with_a_clear_message(schema_name):
    tenant = Tenant(schema_name=schema_name, name="X", tier="starter")
    with pytest.raises(ValidationError) as refused:
        tenant.full_clean()
    assert "schema_name" in refused.value.message_dict


@pytest.mark.django_db
def test_tenant_create_refuses_bad_configuration_and_writes_nothing():
    with pytest.raises(ProvisioningError) as refused:
        tenant_create(name="Bad", schema_name="badcolours", domain="badcolours.localhost",
                      branding={"primary_color": "red"})
    assert "primary_color" in refused.value.message
    assert not Tenant.objects.filter(schema_name="badcolours").exists()


@pytest.mark.django_db
def test_update_refuses_nonsense_and_keeps_the_old_value(alpha):
    with pytest.raises(ProvisioningError, match="limits"):
        tenant_update_configuration(tenant=alpha, limits={"max_documents": -5})
    alpha.refresh_from_db()
    assert alpha.limits.get("max_documents") != -5
