from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from config.admin_sites import platform_site, tenant_site
from tenants.audit.services import tenant_change_record, tenant_created_record, tenant_fields
from tenants.billing.services import plan_change_record, plan_of
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_routing_forget
from tenants.services import (
    tenant_set_status,
    token_admin_record,
    user_admin_change_record,
    user_admin_delete_record,
)


class TenantForm(forms.ModelForm):
    """The LLM key is write-only: never rendered back; left blank, it keeps its value."""

    llm_api_key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the current key.",
    )
    clear_llm_api_key = forms.BooleanField(required=False, label="Remove the tenant's LLM key")

    class Meta:
        model = Tenant
        fields = "__all__"

    def clean_llm_api_key(self):
        new_key = self.cleaned_data.get("llm_api_key", "")
        if self.data.get("clear_llm_api_key"):
            return ""
        return new_key or (self.instance.llm_api_key if self.instance.pk else "")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=platform_site)
class TenantAdmin(admin.ModelAdmin):
    form = TenantForm
    list_display = ("name", "schema_name", "tier", "status", "primary_domain", "created_at")
    list_filter = ("tier", "status")
    search_fields = ("name", "schema_name", "domains__domain")
    inlines = [DomainInline]
    actions = ["suspend", "activate"]
    fieldsets = (
        (None, {"fields": ("name", "schema_name", "tier", "status", "status_reason")}),
        (
            "Configuration (overrides of the tier preset; validated on save)",
            {"fields": ("features", "limits", "branding", "panel_defaults")},
        ),
        ("LLM provider (overrides the platform's)", {"fields": ("llm", "llm_api_key", "clear_llm_api_key")}),
    )

    def save_model(self, request, obj, form, change):
        # Audited with who and when (in the admin's transaction): the tenant's creation, a plan
        # change (tier, features, limits and budgets), its status, branding and settings.
        stored = Tenant.objects.get(pk=obj.pk) if change else None
        before, plan_before = (tenant_fields(stored), plan_of(stored)) if change else (None, None)
        super().save_model(request, obj, form, change)
        if change:
            plan_change_record(tenant=obj, by=request.user, before=plan_before, after=plan_of(obj))
            tenant_change_record(tenant=obj, actor=request.user, before=before, after=tenant_fields(obj))
        else:
            tenant_created_record(tenant=obj, actor=request.user)

    def save_related(self, request, form, formsets, change):
        # Routing caches what it saw; forget it once the tenant and its domains are saved.
        old_domains = list(form.instance.domains.values_list("domain", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        tenant_routing_forget(form.instance, domains=old_domains)

    def get_readonly_fields(self, request, obj=None):
        return ("schema_name",) if obj else ()

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    @admin.display(description="Domain")
    def primary_domain(self, tenant):
        return next((d.domain for d in tenant.domains.all() if d.is_primary), "")

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED, reason="Suspended by the platform.",
                              actor=request.user)
        messages.success(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Activate selected tenants")
    def activate(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE, actor=request.user)
        messages.success(request, f"Activated {queryset.count()} tenant(s).")


@admin.register(Domain, site=platform_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)

    def save_model(self, request, obj, form, change):
        previous = Domain.objects.filter(pk=obj.pk).values_list("domain", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        tenant_routing_forget(obj.tenant, domains=[previous] if previous else [])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tenant_routing_forget(obj.tenant, domains=[obj.domain])


# Users: platform admins on the platform site; a tenant's users on that tenant's site,
# where what a tenant admin changes is in the tenant's audit trail like the Settings pages.
class TenantUserAdmin(UserAdmin):
    def save_model(self, request, obj, form, change):
        before = User.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        user_admin_change_record(actor=request.user, user=obj, before=before)

    def delete_model(self, request, obj):
        user_admin_delete_record(actor=request.user, user=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user_admin_delete_record(actor=request.user, user=user)
        super().delete_queryset(request, queryset)


platform_site.register(User, UserAdmin)
tenant_site.register(User, TenantUserAdmin)
for site in (platform_site, tenant_site):
    site.register(Group, GroupAdmin)

from rest_framework.authtoken.admin import TokenAdmin  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402


class TenantTokenAdmin(TokenAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            token_admin_record(actor=request.user, token=obj, created=True)

    def delete_model(self, request, obj):
        token_admin_record(actor=request.user, token=obj, created=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            token_admin_record(actor=request.user, token=token, created=False)
        super().delete_queryset(request, queryset)


tenant_site.register(Token, TenantTokenAdmin)
