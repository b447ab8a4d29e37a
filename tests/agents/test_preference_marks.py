"""One expert's mark, set by a tenant admin, keeps every other mark; members cannot."""

import pytest
from django_tenants.utils import schema_context

from agents.models import Agent
from agents.tenant.selectors import preferences_get
from agents.tenant.services import preference_mark_set, preferences_set
from config.errors import Forbidden
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def marks():
    preferences = preferences_get()
    return preferences.preferred, preferences.disabled


def test_a_mark_changes_one_expert_and_keeps_the_others(alpha, catalog):
    with schema_context("alpha"):
        admin = make_user(alpha, "boss", is_admin=True)
        hta, pma = Agent.objects.get(slug="nice-hta-specialist"), Agent.objects.get(slug="fda-pma-specialist")
        preferences_set(preferred={pma.domain: [pma.slug]}, disabled=[])

        preference_mark_set(user=admin, agent=hta, mark="disabled")
        assert marks() == ({pma.domain: [pma.slug]}, [hta.slug])

        preference_mark_set(user=admin, agent=hta, mark="preferred")
        preferred, disabled = marks()
        assert preferred[hta.domain][-1] == hta.slug and pma.slug in preferred[pma.domain] and disabled == []

        preference_mark_set(user=admin, agent=pma, mark="none")
        assert marks() == ({hta.domain: [hta.slug]}, [])


def test_an_expert_retired_since_it_was_marked_does_not_block_the_next_mark(alpha, catalog):
    with schema_context("alpha"):
        admin = make_user(alpha, "boss", is_admin=True)
        preferences_set(preferred={}, disabled=["fda-pma-specialist"])
        Agent.objects.filter(slug="fda-pma-specialist").update(is_active=False)

        preference_mark_set(user=admin, agent=Agent.objects.get(slug="nice-hta-specialist"), mark="disabled")

        assert marks() == ({}, ["nice-hta-specialist"])


def test_a_member_cannot_mark_an_expert(alpha, catalog):
    with schema_context("alpha"):
        member = make_user(alpha, "worker")
        with pytest.raises(Forbidden):
            preference_mark_set(user=member, agent=Agent.objects.get(slug="nice-hta-specialist"), mark="disabled")
        assert marks() == ({}, [])
