"""Reads and checks the catalog files (agents/catalog/*.yaml). Every problem is listed
with the file and the agent it is in, so a broken catalog is refused whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from agents.domains import DISPOSITIONS, DOMAINS

CATALOG_DIR = Path(__file__).resolve().parent
MINIMUM_AGENTS = 136
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TEXT_FIELDS = ("name", "title", "business_function", "system_prompt")
LIST_FIELDS = ("capabilities", "knowledge_domains", "key_considerations")
EXAMPLE_MAX_CHARS = 300
REQUIRED = ("slug", *TEXT_FIELDS, "tier", "disposition", *LIST_FIELDS, "compatible_agents",
            "incompatible_agents", "cost_per_query")


class CatalogError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__(f"The agent catalog has {len(problems)} problem(s):\n- " + "\n- ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class AgentSpec:
    slug: str
    name: str
    title: str
    domain: str
    business_function: str
    tier: int
    disposition: str
    capabilities: tuple[str, ...]
    knowledge_domains: tuple[str, ...]
    key_considerations: tuple[str, ...]
    system_prompt: str
    compatible_agents: tuple[str, ...]
    incompatible_agents: tuple[str, ...]
    cost_per_query: Decimal
    example_questions: tuple[str, ...] = ()  # what users ask this agent: ranking matches questions to them


def read_catalog(directory: Path = CATALOG_DIR, *, minimum: int = MINIMUM_AGENTS) -> list[AgentSpec]:
    problems: list[str] = []
    specs: list[AgentSpec] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogError([f"no catalog files (*.yaml) in {directory}"])
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML ({exc})")
            continue
        domain = document.get("domain")
        if domain not in DOMAINS:
            problems.append(f"{path.name}: unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
            continue
        for index, raw in enumerate(document.get("agents") or []):
            where = f"{path.name}: agent #{index + 1} ({raw.get('slug', '?') if isinstance(raw, dict) else '?'})"
            spec = _spec(raw, domain, where, problems)
            if spec is not None:
                specs.append(spec)
    _check_references(specs, problems)
    if len(specs) < minimum:
        problems.append(f"the catalog has {len(specs)} valid agents; at least {minimum} are required")
    if problems:
        raise CatalogError(problems)
    return specs


def _spec(raw, domain: str, where: str, problems: list[str]) -> AgentSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    missing = [name for name in REQUIRED if name not in raw]
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
        return None
    before = len(problems)
    if not isinstance(raw["slug"], str) or not SLUG.match(raw["slug"]):
        problems.append(f"{where}: slug must be lowercase words joined by hyphens")
    for name in TEXT_FIELDS:
        if not isinstance(raw[name], str) or not raw[name].strip():
            problems.append(f"{where}: {name} must be non-empty text")
    for name in LIST_FIELDS:
        if not isinstance(raw[name], list) or not all(isinstance(item, str) and item.strip() for item in raw[name]):
            problems.append(f"{where}: {name} must be a list of text")
    if isinstance(raw.get("key_considerations"), list) and len(raw["key_considerations"]) < 5:
        problems.append(f"{where}: needs at least 5 key_considerations (has {len(raw['key_considerations'])})")
    examples = raw.get("example_questions") or []
    if not isinstance(examples, list) or not all(isinstance(item, str) and item.strip() for item in examples):
        problems.append(f"{where}: example_questions must be a list of text")
    elif any(len(item) > EXAMPLE_MAX_CHARS for item in examples):
        problems.append(f"{where}: an example question is longer than {EXAMPLE_MAX_CHARS} characters")
    if raw["tier"] not in (1, 2, 3):
        problems.append(f"{where}: tier must be 1, 2 or 3")
    if raw["disposition"] not in DISPOSITIONS:
        problems.append(f"{where}: disposition must be one of {', '.join(DISPOSITIONS)}")
    for name in ("compatible_agents", "incompatible_agents"):
        if not isinstance(raw[name] or [], list):
            problems.append(f"{where}: {name} must be a list of slugs")
    try:
        cost = Decimal(str(raw["cost_per_query"]))
        if not Decimal("0") <= cost <= Decimal("10"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        problems.append(f"{where}: cost_per_query must be a number from 0 to 10")
        cost = Decimal("0")
    if len(problems) > before:
        return None
    return AgentSpec(
        slug=raw["slug"], name=raw["name"].strip(), title=raw["title"].strip(), domain=domain,
        business_function=raw["business_function"].strip(), tier=raw["tier"], disposition=raw["disposition"],
        capabilities=tuple(raw["capabilities"]), knowledge_domains=tuple(raw["knowledge_domains"]),
        key_considerations=tuple(raw["key_considerations"]), system_prompt=raw["system_prompt"].strip(),
        compatible_agents=tuple(raw["compatible_agents"] or ()), incompatible_agents=tuple(raw["incompatible_agents"] or ()),
        cost_per_query=cost, example_questions=tuple(item.strip() for item in examples),
    )


def _check_references(specs: list[AgentSpec], problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for spec in specs:
        seen[spec.slug] = seen.get(spec.slug, 0) + 1
    for slug, count in seen.items():
        if count > 1:
            problems.append(f"duplicate slug {slug!r} ({count} agents)")
    for spec in specs:
        for name in ("compatible_agents", "incompatible_agents"):
            for other in getattr(spec, name):
                if other not in seen:
                    problems.append(f"{spec.slug}: {name} names unknown agent {other!r}")
                elif other == spec.slug:
                    problems.append(f"{spec.slug}: {name} names the agent itself")
