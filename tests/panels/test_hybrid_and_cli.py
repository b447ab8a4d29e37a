"""Hybrid panels without a human in time, and the `ask` command."""

import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from panels.models import Panel
from panels.orchestration.runner import panel_input_deadline
from tenants.services import tenant_update_configuration
from tests.factories import make_user
from tests.panels.conftest import run_inline

pytestmark = pytest.mark.django_db


def test_a_hybrid_panel_goes_on_without_humans_when_the_deadline_passes(grounded_alpha, alpha_user):
    tenant_update_configuration(tenant=grounded_alpha, features={"hybrid": True})
    panel = run_inline(grounded_alpha, alpha_user, panel_type="hybrid")
    assert panel.status == "AWAITING_INPUT" and panel.input_deadline > timezone.now()
    with schema_context("alpha"):
        assert panel_input_deadline(panel_id=panel.pk).status == "AWAITING_INPUT"  # not yet
        Panel.objects.filter(pk=panel.pk).update(input_deadline=timezone.now() - timedelta(seconds=1))
        finished = panel_input_deadline(panel_id=panel.pk)
        assert finished.status == "COMPLETED"
        assert finished.rounds.count() == 2 and not finished.contributions.filter(kind="human_input").exists()
        kinds = list(finished.events.values_list("data__reason", flat=True))
        assert "the deadline for human input passed" in kinds


def test_ask_runs_a_panel_inline_and_prints_the_report(grounded_alpha, capsys):
    make_user(grounded_alpha, "asker", is_admin=True)
    call_command("ask", "Should we file a De Novo or a 510(k) for our AI ECG software?", tenant="alpha",
                 panel_type="socratic", inline=True)
    output = capsys.readouterr().out
    assert "Round 1/3 Initial positions: ###" in output and "[completed]" in output
    assert "# Panel report:" in output and "## Recommendation" in output


@pytest.mark.parametrize("options, message", [
    ({"tenant": "nosuch"}, "There is no tenant 'nosuch'"),
    ({"tenant": "alpha", "panel_type": "open", "experts": "ghost-agent,fda-510k-specialist,nice-hta-specialist"},
     "Unknown or retired expert(s): ghost-agent"),
])
def test_ask_refuses_clearly(catalog, alpha, options, message):
    make_user(alpha, "asker2", is_admin=True)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("ask", "Should we file a De Novo or a 510(k) for our AI ECG software?", inline=True, **options)
