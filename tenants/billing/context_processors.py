from tenants.billing.selectors import budget_status


def budget_banner(request):
    """A banner when the tenant's monthly budget is past its soft limit or used up: one
    ledger aggregate per page, only for a signed-in user on a tenant's host."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    status = budget_status(tenant=tenant)
    if status.level == "ok":
        return {}
    worst = max((status.tokens, status.cost), key=lambda budget: (budget.level == "hard", budget.percent))
    return {"budget_banner": {
        "level": status.level, "measure": "token" if worst.measure == "tokens" else "cost",
        "percent": min(int(worst.percent), 100), "resets_at": status.resets_at,
    }}
