"""The catalog files and the load_agents command."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from agents.catalog.loader import CATALOG_DIR, CatalogError, read_catalog
from agents.domains import DOMAINS
from agents.models import Agent
from agents.services import agents_load


def test_the_real_catalog_is_large_specific_and_consistent():
    specs = read_catalog()
    assert len(specs) >= 136
    assert len({spec.domain for spec in specs}) >= 12
    assert len({spec.slug for spec in specs}) == len(specs)
    assert len({spec.name for spec in specs}) == len(specs)
    assert all(len(spec.key_considerations) >= 5 for spec in specs)
    assert len({spec.system_prompt for spec in specs}) == len(specs)  # no persona copied with a name swapped
    for domain in DOMAINS:
        dispositions = {spec.disposition for spec in specs if spec.domain == domain}
        assert dispositions == {"advocate", "skeptic", "balanced"}, domain


def write_catalog(directory: Path, agents: list[dict], domain="regulatory_affairs"):
    (directory / f"{domain}.yaml").write_text(yaml.safe_dump({"domain": domain, "agents": agents}))


def agent(slug, **overrides):
    values = {
        "slug": slug, "name": f"Name {slug}", "title": f"Title {slug}", "business_function": "Regulatory",
        "tier": 2, "disposition": "balanced", "capabilities": ["a"], "knowledge_domains": ["b"],
        "key_considerations": ["c1", "c2", "c3", "c4", "c5"], "system_prompt": f"You are {slug}.",
        "compatible_agents": [], "incompatible_agents": [], "cost_per_query": 0.05,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    "agents, domain, problem",
    [
        ([agent("a-one"), agent("a-one")], "regulatory_affairs", "duplicate slug 'a-one'"),
        ([agent("a-one")], "astrology", "unknown domain 'astrology'"),
        ([{k: v for k, v in agent("a-one").items() if k != "system_prompt"}], "regulatory_affairs", "missing system_prompt"),
        ([agent("a-one", compatible_agents=["ghost"])], "regulatory_affairs", "unknown agent 'ghost'"),
        ([agent("a-one", key_considerations=["only one"])], "regulatory_affairs", "at least 5 key_considerations"),
        ([agent("A One")], "regulatory_affairs", "slug must be"),
        ([agent("a-one", tier=7)], "regulatory_affairs", "tier must be"),
    ],
)
def test_a_broken_catalog_is_refused_naming_the_problem(tmp_path, agents, domain, problem):
    write_catalog(tmp_path, agents, domain)
    with pytest.raises(CatalogError) as refused:
        read_catalog(tmp_path, minimum=1)
    assert any(problem in line for line in refused.value.problems), refused.value.problems


def test_too_few_agents_is_refused(tmp_path):
    write_catalog(tmp_path, [agent("a-one")])
    with pytest.raises(CatalogError, match="at least 136 are required"):
        read_catalog(tmp_path)


@pytest.mark.django_db
def test_loading_twice_changes_nothing(catalog, capsys):
    before = dict(Agent.objects.values_list("slug", "updated_at"))
    call_command("load_agents")
    assert "0 created, 0 updated" in capsys.readouterr().out
    assert dict(Agent.objects.values_list("slug", "updated_at")) == before


@pytest.mark.django_db
def test_changed_agents_are_updated_and_removed_ones_retired_not_deleted(catalog, tmp_path, alpha):
    from django_tenants.utils import schema_context

    from agents.tenant.services import agent_usage_record

    for path in CATALOG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    referenced = {slug for spec in read_catalog() for slug in spec.compatible_agents + spec.incompatible_agents}
    document = yaml.safe_load((tmp_path / "therapeutic_areas.yaml").read_text())
    unreferenced = next(i for i, a in enumerate(document["agents"]) if a["slug"] not in referenced and i > 0)
    removed = document["agents"].pop(unreferenced)["slug"]
    document["agents"][0]["title"] = "Chief Medical Officer, Oncology and Haematology"
    changed = document["agents"][0]["slug"]
    (tmp_path / "therapeutic_areas.yaml").write_text(yaml.safe_dump(document))
    with schema_context("alpha"):
        agent_usage_record(agents=[Agent.objects.get(slug=removed)])  # a tenant used the agent

    report = agents_load(directory=tmp_path)
    assert report.updated == [changed] and report.retired == [removed] and not report.created
    assert Agent.objects.get(slug=changed).title == "Chief Medical Officer, Oncology and Haematology"
    retired = Agent.objects.get(slug=removed)
    assert retired.is_active is False and retired.retired_at is not None
    with schema_context("alpha"):
        from agents.tenant.models import AgentUsage

        assert AgentUsage.objects.get(agent=retired).use_count == 1

    report = agents_load()
    assert removed in report.reactivated and Agent.objects.get(slug=removed).is_active
