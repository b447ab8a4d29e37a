from django.shortcuts import render


def home(request):
    """The tenant's branded home page (full frontends come later)."""
    return render(request, "home.html", {"configuration": request.tenant.configuration})


def platform_home(request):
    from tenants.models import Tenant

    return render(request, "platform_home.html", {"tenant_count": Tenant.objects.exclude(schema_name="public").count()})
