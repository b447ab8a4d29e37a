from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail (public schema): who did what to a tenant, one row per change,
    appended in the same transaction as the change. Every row names its tenant, so
    platform admins read all tenants' trails without switching schemas."""

    name = "tenants.audit"
    label = "audit"
    verbose_name = "Audit trail"
