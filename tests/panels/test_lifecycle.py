"""The Panel aggregate enforces its own rules."""

import threading

import pytest
from django_tenants.utils import schema_context

from panels.lifecycle import FINAL, TRANSITIONS, IllegalTransition, Status, check_transition
from panels.models import ConcurrentUpdate, MembersLocked, Panel
from tenants.context import TenantMismatch
from tests.factories import make_user


def test_every_status_has_a_row_and_final_states_go_nowhere():
    assert set(TRANSITIONS) == set(Status.values)
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    for status in set(Status.values) - FINAL:
        assert {Status.FAILED, Status.CANCELLED} <= TRANSITIONS[status]


@pytest.mark.parametrize("current, target", [
    (Status.CREATED, Status.QUEUED), (Status.QUEUED, Status.ASSIGNING_EXPERTS),
    (Status.ASSIGNING_EXPERTS, Status.IN_PROGRESS), (Status.IN_PROGRESS, Status.AWAITING_INPUT),
    (Status.AWAITING_INPUT, Status.IN_PROGRESS), (Status.IN_PROGRESS, Status.BUILDING_CONSENSUS),
    (Status.BUILDING_CONSENSUS, Status.COMPLETED), (Status.IN_PROGRESS, Status.CANCELLED),
])
def test_legal_moves(current, target):
    check_transition(current, target)


@pytest.mark.parametrize("current, target, message", [
    (Status.CREATED, Status.COMPLETED, "cannot become completed"),
    (Status.QUEUED, Status.AWAITING_INPUT, "cannot become awaiting_input"),
    (Status.COMPLETED, Status.CANCELLED, "already completed"),
    (Status.CANCELLED, Status.IN_PROGRESS, "already cancelled"),
])
def test_illegal_moves_raise_a_readable_error(current, target, message):
    with pytest.raises(IllegalTransition, match=message):
        check_transition(current, target)


def make_panel(tenant, **fields) -> Panel:
    with schema_context(tenant.schema_name):
        owner = make_user(tenant, f"owner{Panel.objects.count()}")
        return Panel.objects.create(query="Is a question long enough?", panel_type="structured", owner=owner,
                                    tenant_schema=tenant.schema_name, settings={"max_rounds": 2}, **fields)


@pytest.mark.django_db
def test_a_panel_refuses_changes_under_another_tenant(alpha):
    panel = make_panel(alpha)
    with schema_context("beta"), pytest.raises(TenantMismatch, match="belongs to tenant 'alpha'"):
        panel.transition(Status.QUEUED)


@pytest.mark.django_db
def test_members_cannot_change_after_the_discussion_starts(alpha):
    panel = make_panel(alpha)
    with schema_context("alpha"):
        panel.ensure_members_editable()
        panel.transition(Status.QUEUED)
        panel.transition(Status.ASSIGNING_EXPERTS)
        with pytest.raises(MembersLocked, match="has started"):
            panel.ensure_members_editable()


@pytest.mark.django_db
def test_a_stale_copy_cannot_overwrite_a_newer_one(alpha):
    panel = make_panel(alpha)
    with schema_context("alpha"):
        first, second = Panel.objects.get(pk=panel.pk), Panel.objects.get(pk=panel.pk)
        first.transition(Status.QUEUED)
        with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
            second.transition(Status.CANCELLED)
        assert Panel.objects.get(pk=panel.pk).status == Status.QUEUED


def test_two_concurrent_writers_cannot_both_win(django_db_setup, django_db_blocker):
    """Two threads (two connections) read the same version and write at once: exactly one wins."""
    from tenants.models import Tenant

    results: list[str] = []
    barrier = threading.Barrier(2)

    def writer(panel_id, target):
        from django.db import connection as thread_connection

        try:
            with schema_context("alpha"):
                copy = Panel.objects.get(pk=panel_id)
                barrier.wait()
                copy.transition(target)
                results.append("won")
        except ConcurrentUpdate:
            results.append("lost")
        finally:
            thread_connection.close()

    with django_db_blocker.unblock():
        panel = make_panel(Tenant.objects.get(schema_name="alpha"))  # committed: the threads must see it
        try:
            threads = [threading.Thread(target=writer, args=(panel.pk, t)) for t in (Status.QUEUED, Status.CANCELLED)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            assert sorted(results) == ["lost", "won"]
            with schema_context("alpha"):
                assert Panel.objects.get(pk=panel.pk).version == 2
        finally:
            with schema_context("alpha"):
                owner = panel.owner
                Panel.objects.filter(pk=panel.pk).delete()
                owner.delete()
