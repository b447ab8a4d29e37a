"""The demo tenants `seed_demo` creates: idempotent, so `make run` can run it every time."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from rag.demo import demo_documents_seed
from tenants.models import Tenant
from tenants.services import (
    domain_add,
    public_tenant_ensure,
    tenant_create,
    tenant_update_configuration,
    tenant_user_ensure,
)

DEMO_TENANTS = [
    {
        "schema_name": "acme",
        "name": "Acme Therapeutics",
        "tier": "professional",
        "branding": {
            "display_name": "Acme Therapeutics",
            "logo_url": "/static/tenants/logos/acme.svg",
            "primary_color": "#0b5d8c",
            "secondary_color": "#eef4f8",
            "accent_color": "#d9822b",
            "font_family": "Georgia, 'Times New Roman', serif",
        },
    },
    {
        "schema_name": "globex",
        "name": "Globex Digital Health",
        "tier": "starter",
        "branding": {
            "display_name": "Globex Health",
            "logo_url": "/static/tenants/logos/globex.svg",
            "primary_color": "#2e7d32",
            "secondary_color": "#f3f8f1",
            "accent_color": "#6a1b9a",
            "font_family": "Verdana, Geneva, sans-serif",
        },
    },
]

DEMO_USERS = [("admin", True), ("member", False)]


@dataclass
class SeededTenant:
    tenant: Tenant
    url: str
    created: bool


def demo_seed(*, password: str | None = None, base_domain: str | None = None) -> list[SeededTenant]:
    password = password or settings.DEMO_PASSWORD
    base_domain = base_domain or settings.BASE_DOMAIN
    public_tenant_ensure(domain=base_domain)
    _platform_superuser_ensure(password)
    seeded = []
    for spec in DEMO_TENANTS:
        domain = f"{spec['schema_name']}.{base_domain}"
        tenant = Tenant.objects.filter(schema_name=spec["schema_name"]).first()
        created = tenant is None
        if created:
            tenant = tenant_create(domain=domain, **spec)
        else:
            tenant_update_configuration(tenant=tenant, branding=spec["branding"])
            domain_add(tenant=tenant, domain=domain, is_primary=True)
        for username, is_admin in DEMO_USERS:
            tenant_user_ensure(tenant=tenant, username=username, password=password, is_admin=is_admin)
        demo_documents_seed(tenant)
        port = settings.PORT
        seeded.append(SeededTenant(tenant, f"http://{domain}:{port}/", created))
    return seeded


def _platform_superuser_ensure(password: str) -> None:
    with schema_context("public"):
        user_model = get_user_model()
        user = user_model.objects.filter(username="admin").first()
        if user is None:
            user_model.objects.create_superuser("admin", "", password)
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
