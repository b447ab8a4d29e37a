"""Budget alerts: an email to a tenant's admins when its token or cost budget passes the
soft limit, or is used up, this month. Each threshold is mailed once per tenant, measure
and month: the BudgetAlert row is written in the same transaction as the email is sent,
and its unique constraint makes a second sender (a concurrent call, the periodic task and
a panel's end at once) wait for the first and then find the row."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.billing.models import BudgetAlert
from tenants.billing.selectors import Budget, BudgetStatus, budget_status
from tenants.roles import is_tenant_admin

logger = logging.getLogger(__name__)


def budget_alerts_send(*, tenant=None) -> int:
    """Mail each tenant (or `tenant`) whose budgets are past a threshold this month and
    were not mailed about it yet; how many emails were sent. Only the highest threshold
    reached is mailed: a budget that jumps straight to used up gets the "used up" email."""
    from tenants.models import Tenant

    tenants = [tenant] if tenant is not None else Tenant.objects.exclude(schema_name=get_public_schema_name())
    sent = 0
    for each in tenants:
        status = budget_status(tenant=each)
        for budget in (status.tokens, status.cost):
            if budget.level != "ok" and _alert_send(each, status, budget):
                sent += 1
    return sent


def tenant_admin_emails(tenant) -> list[str]:
    """The email addresses of the tenant's admins (staff users in its schema)."""
    from tenants.selectors import tenant_users

    with schema_context(tenant.schema_name):
        return sorted({user.email for user in tenant_users() if is_tenant_admin(user) and user.is_active and user.email})


def _alert_send(tenant, status: BudgetStatus, budget: Budget) -> bool:
    recipients = tenant_admin_emails(tenant)
    if not recipients:
        logger.warning("tenant %s passed its %s %s limit but has no admin with an email", tenant.schema_name,
                       budget.measure, budget.level)
        return False
    with transaction.atomic():  # the row and the email together: a failed send is tried again next time
        _, created = BudgetAlert.objects.get_or_create(
            tenant=tenant, period=status.period_start.date(), measure=budget.measure, threshold=budget.level,
            defaults={"sent_at": timezone.now(), "recipients": recipients},
        )
        if not created:
            return False
        subject, body = _message(tenant, status, budget)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    logger.info("budget alert (%s %s) mailed to %s admins", budget.measure, budget.level, tenant.schema_name)
    return True


def _message(tenant, status: BudgetStatus, budget: Budget) -> tuple[str, str]:
    if budget.measure == "tokens":
        used, limit = f"{int(budget.used):,} tokens", f"{int(budget.limit):,} tokens"
    else:
        used, limit = f"${budget.used:,.2f}", f"${budget.limit:,.2f}"
    resets = status.resets_at.date().isoformat()
    if budget.level == "hard":
        subject = f"{tenant.name}: this month's {budget.measure} budget is used up"
        consequence = ("New panels are refused and running panels stop before their next model call "
                       f"until the budget resets on {resets}, or until a platform admin raises it.")
    else:
        subject = f"{tenant.name}: {budget.percent:.0f}% of this month's {budget.measure} budget used"
        consequence = (f"This is past the soft limit of {budget.soft_percent}%. When the budget is used up, new "
                       f"panels are refused until it resets on {resets}.")
    body = (f"Your organisation {tenant.name} has used {used} of its monthly budget of {limit} "
            f"({budget.percent:.0f}%) this month.\n\n{consequence}\n")
    return subject, body
