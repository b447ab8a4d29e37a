"""seed_demo is idempotent; create_tenant and doctor do what they say."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from tenants.models import Domain, Tenant
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def _demo_state():
    state = {}
    for tenant in Tenant.objects.filter(schema_name__in=["acme", "globex"]).order_by("schema_name"):
        with schema_context(tenant.schema_name):
            users = sorted(get_user_model().objects.values_list("username", "is_staff"))
        state[tenant.schema_name] = (tenant.tier, list(tenant.domains.values_list("domain", flat=True)), users)
    return state


def test_seed_demo_twice_gives_the_same_branded_tenants_users_and_documents(capsys):
    """One test for what seed_demo makes (it creates two schemas and ingests documents:
    the slowest command the suite runs): run twice, nothing changes or is ingested twice."""
    from rag.demo import demo_manifest
    from rag.models import Document

    call_command("seed_demo")
    first = _demo_state()
    call_command("seed_demo")
    second = _demo_state()
    assert first == second
    assert first["acme"] == ("professional", ["acme.localhost"], [("admin", True), ("member", False)])
    assert first["globex"] == ("starter", ["globex.localhost"], [("admin", True), ("member", False)])
    assert Tenant.objects.filter(schema_name="acme").count() == 1
    output = capsys.readouterr().out
    assert "http://acme.localhost:8000/" in output and "askpanel-demo" in output
    with schema_context("public"):
        assert get_user_model().objects.get(username="admin").is_superuser

    # Branded differently, and the demo users can sign in.
    acme = Tenant.objects.get(schema_name="acme").configuration.branding
    globex = Tenant.objects.get(schema_name="globex").configuration.branding
    assert acme.primary_color != globex.primary_color
    assert acme.display_name != globex.display_name
    response = api_client(host="acme.localhost").post(
        "/api/v1/auth/token/", {"username": "member", "password": "askpanel-demo"}, format="json"
    )
    assert response.status_code == 200

    # Each tenant its own document set, ready, none ingested twice.
    manifest = demo_manifest()
    titles = {}
    for schema in ("acme", "globex"):
        with schema_context(schema):
            assert Document.objects.count() == len(manifest[schema])
            assert set(Document.objects.values_list("status", flat=True)) == {"ready"}
            titles[schema] = set(Document.objects.values_list("title", flat=True))
    assert not titles["acme"] & titles["globex"]


def test_provision_tenant_command_creates_schema_domain_and_admin(capsys):
    call_command(
        "provision_tenant", name="Initech", schema="initech", domain="initech.localhost",
        tier="enterprise", admin_password="initech-pass", branding='{"primary_color": "#123456"}',
    )
    tenant = Tenant.objects.get(schema_name="initech")
    assert tenant.tier == "enterprise"
    assert Domain.objects.get(domain="initech.localhost").tenant == tenant
    with schema_context("initech"):
        assert get_user_model().objects.get(username="admin").is_staff
    assert "initech.localhost" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, message",
    [
        ({"schema": "Bad-Name"}, "schema_name"),
        ({"schema": "alpha"}, "already exists"),
        ({"domain": "alpha.localhost"}, "already used"),
        ({"branding": '{"primary_color": "red"}'}, "primary_color"),
        ({"branding": "{not json"}, "not valid JSON"),
    ],
)
def test_provision_tenant_command_refuses_clearly(options, message):
    arguments = {"name": "X", "schema": "xcorp", "domain": "xcorp.localhost", "admin_password": "pw-12345", **options}
    with pytest.raises(CommandError, match=message):
        call_command("provision_tenant", **arguments)


def test_doctor_prints_a_table_and_fails_clearly_without_a_worker(capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("doctor")
    captured = capsys.readouterr()
    assert exited.value.code == 1
    assert "database" in captured.out and "pgvector" in captured.out and "redis" in captured.out
    assert "worker is not working: " in captured.err


def test_doctor_passes_with_a_worker(celery_worker, capsys):
    call_command("doctor")
    assert "FAIL" not in capsys.readouterr().out
