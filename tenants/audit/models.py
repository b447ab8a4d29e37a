"""The audit trail, in the public schema (see apps.py)."""

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One administrative change to a tenant: who (a snapshot, since users live in the
    tenant's schema or, for platform admins, in public), what, on which object, and what
    changed. Appended by tenants.audit.services.audit_record; never updated or deleted."""

    class Action(models.TextChoices):
        TENANT_CREATED = "tenant_created", "Tenant created"
        TENANT_SUSPENDED = "tenant_suspended", "Tenant suspended"
        TENANT_ACTIVATED = "tenant_activated", "Tenant activated"
        TENANT_DEACTIVATED = "tenant_deactivated", "Tenant deactivated"
        PLAN_CHANGED = "plan_changed", "Plan changed"
        SETTINGS_CHANGED = "settings_changed", "Settings changed"
        BRANDING_CHANGED = "branding_changed", "Branding changed"
        USER_CREATED = "user_created", "User created"
        USER_ROLE_CHANGED = "user_role_changed", "User role changed"
        USER_DEACTIVATED = "user_deactivated", "User deactivated"
        USER_REACTIVATED = "user_reactivated", "User reactivated"
        DOCUMENT_DELETED = "document_deleted", "Document deleted"
        PANEL_CANCELLED = "panel_cancelled", "Panel cancelled"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"

    class ActorKind(models.TextChoices):
        PLATFORM_ADMIN = "platform_admin", "Platform admin"
        TENANT_USER = "tenant_user", "Tenant user"
        SYSTEM = "system", "System"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="audit_events")
    occurred_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(
        null=True, blank=True, help_text="The user's id in the tenant's schema, or in public for a platform admin.")
    actor_username = models.CharField(max_length=150, blank=True, help_text="As it was when they acted.")
    action = models.CharField(max_length=30, choices=Action.choices)
    target_kind = models.CharField(max_length=20, help_text="tenant, user, document, panel or token.")
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True, help_text="As it was when it changed.")
    changes = models.JSONField(default=dict, blank=True, help_text="What changed; secrets only as \"changed\".")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-occurred_at"], name="audit_tenant_time"),
            models.Index(fields=["tenant", "action", "-occurred_at"], name="audit_tenant_action_time"),
        ]

    def __str__(self):
        return f"{self.tenant_id} {self.action} by {self.actor_username or self.actor_kind}"

    @property
    def actor_label(self) -> str:
        return self.actor_username or self.get_actor_kind_display()

    @property
    def change_lines(self) -> list[tuple[str, str]]:
        """(field, "old → new") for display; a secret's line reads "changed"."""
        lines = []
        for name, change in self.changes.items():
            if isinstance(change, dict) and set(change) == {"from", "to"}:
                lines.append((name, f"{_shown(change['from'])} → {_shown(change['to'])}"))
            else:
                lines.append((name, _shown(change)))
        return lines


def _shown(value) -> str:
    return "—" if value in (None, "") else str(value)
