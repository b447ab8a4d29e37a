import re

from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from tenants.configuration import TIERS, ConfigurationError, TenantConfiguration
from tenants.schemas import tenant_schema_create
from tenants.secrets import EncryptedTextField

SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_SCHEMAS = {"public", "extensions", "information_schema", "pg_catalog", "pg_toast"}


def validate_schema_name(value: str) -> None:
    if value in RESERVED_SCHEMAS or value.startswith("pg_"):
        raise ValidationError(f"{value!r} is reserved; choose another schema name.")
    if not SCHEMA_NAME.match(value):
        raise ValidationError(
            f"{value!r} is not a valid schema name: use lowercase letters, digits and underscores, "
            "starting with a letter, at most 63 characters."
        )


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        INACTIVE = "inactive"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True, help_text="Shown to users when not active.")
    tier = models.CharField(max_length=20, choices=[(t, t.title()) for t in TIERS], default="starter")
    # Overrides only; the tier preset fills the rest (tenants/configuration.py).
    features = models.JSONField(default=dict, blank=True)
    limits = models.JSONField(default=dict, blank=True)
    branding = models.JSONField(default=dict, blank=True)
    panel_defaults = models.JSONField(default=dict, blank=True)
    llm = models.JSONField(default=dict, blank=True, help_text='{"provider", "model", "base_url"} overrides')
    llm_api_key = EncryptedTextField(blank=True, help_text="Encrypted at rest; never cached, logged or shown in full.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The schema is created and migrated when the tenant is first saved (tenants/schemas.py).
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.schema_name})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def configuration(self) -> TenantConfiguration:
        return TenantConfiguration.build(
            tier=self.tier,
            name=self.name,
            features=self.features,
            limits=self.limits,
            branding=self.branding,
            panel_defaults=self.panel_defaults,
            llm=self.llm,
        )

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """django-tenants' hook: the migrations' SQL is replayed rather than re-planned."""
        if not sync_schema:
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        tenant_schema_create(self.schema_name)
        return True

    def clean(self):
        super().clean()
        if not (self.pk and self.is_public):
            try:
                validate_schema_name(self.schema_name)
            except ValidationError as exc:
                raise ValidationError({"schema_name": exc.messages}) from exc
        try:
            self.configuration
        except ConfigurationError as exc:
            section = exc.field.split(".")[0]
            raise ValidationError({section if section in self.__dict__ else "__all__": exc.message}) from exc


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]
