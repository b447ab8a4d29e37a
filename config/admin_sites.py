"""Two admin sites, never mixed: the platform admin (public host: tenants, domains, the
agent catalog) and the tenant admin (a tenant's host: its own users and data). A model
is registered on exactly one of them, so a tenant admin can never reach the registry."""

from django.contrib import admin


class PlatformAdminSite(admin.AdminSite):
    site_header = "Ask Panel — platform administration"
    site_title = "Ask Panel platform"
    index_title = "Tenants and the shared agent catalog"


class TenantAdminSite(admin.AdminSite):
    site_header = "Ask Panel — tenant administration"
    site_title = "Ask Panel"
    index_title = "Your organisation"

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.configuration.branding.display_name} — administration"
        return context


platform_site = PlatformAdminSite(name="platform_admin")
tenant_site = TenantAdminSite(name="tenant_admin")
