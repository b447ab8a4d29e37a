"""Budget alerts: one email per threshold per month to the tenant's admins (the BudgetAlert
row's unique constraint keeps it at one)."""

import pytest
from django.core import mail

from tenants.billing.alerts import budget_alerts_send
from tenants.billing.models import BudgetAlert
from tenants.billing.services import usage_record
from tenants.services import tenant_update_configuration
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def spend(tenant, tokens: int, key: str) -> None:
    usage_record(tenant=tenant, kind="llm_call", key=key, input_tokens=tokens)


@pytest.fixture
def budgeted(alpha):
    tenant_update_configuration(tenant=alpha, limits={**alpha.limits, "monthly_token_budget": 1000,
                                                      "budget_soft_limit_percent": 80})
    make_user(alpha, "boss", is_admin=True)
    make_user(alpha, "member")
    return alpha


def test_the_soft_limit_mails_the_tenants_admins_once(budgeted, beta):
    spend(budgeted, 500, "a")
    assert budget_alerts_send() == 0 and not mail.outbox  # 50%: nothing to say
    spend(budgeted, 320, "b")
    assert budget_alerts_send() == 1
    assert budget_alerts_send() == 0  # the same threshold, the same month: once
    [message] = mail.outbox
    assert message.to == ["boss@example.com"]  # admins only, not members
    assert "82% of this month's tokens budget used" in message.subject
    assert "820 tokens of its monthly budget of 1,000 tokens" in message.body
    alert = BudgetAlert.objects.get(tenant=budgeted)
    assert (alert.measure, alert.threshold, alert.recipients) == ("tokens", "soft", ["boss@example.com"])
    assert not BudgetAlert.objects.filter(tenant=beta).exists()


def test_the_hard_limit_mails_again_with_what_happens_next(budgeted):
    spend(budgeted, 900, "a")
    assert budget_alerts_send(tenant=budgeted) == 1
    spend(budgeted, 200, "b")
    assert budget_alerts_send(tenant=budgeted) == 1
    hard = mail.outbox[-1]
    assert "tokens budget is used up" in hard.subject and "New panels are refused" in hard.body
    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == ["hard", "soft"]


def test_a_tenant_without_admins_with_email_is_not_recorded(alpha):
    tenant_update_configuration(tenant=alpha, limits={**alpha.limits, "monthly_token_budget": 10})
    spend(alpha, 20, "a")
    assert budget_alerts_send(tenant=alpha) == 0 and not BudgetAlert.objects.exists()


def test_a_panel_that_crosses_the_soft_limit_mails_at_once(catalog, alpha):
    from tests.panels.conftest import run_inline

    user = make_user(alpha, "boss", is_admin=True)
    tenant_update_configuration(tenant=alpha, limits={**alpha.limits, "monthly_token_budget": 200_000,
                                                      "budget_soft_limit_percent": 1})
    panel = run_inline(alpha, user, panel_type="structured", max_rounds=1,
                       experts=["fda-510k-specialist", "fda-de-novo-strategist"])
    assert panel.status == "COMPLETED"
    assert [m.subject for m in mail.outbox] == ["Alpha: 1% of this month's tokens budget used"] or \
        "budget used" in mail.outbox[0].subject
    assert BudgetAlert.objects.filter(tenant=alpha, threshold="soft").count() == 1
