def branding(request):
    """The active tenant's branding for every template (the platform's on the public host)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        return {"tenant": None, "branding": None}
    return {"tenant": tenant, "branding": tenant.configuration.branding}
