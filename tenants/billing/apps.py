from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Usage and billing (public schema): the usage ledger, prices, daily rollups, monthly
    statements, budget alerts and the audit trail of plan changes. Every row names its
    tenant, so the platform rolls up and bills without switching schemas."""

    name = "tenants.billing"
    label = "billing"
    verbose_name = "Usage and billing"
