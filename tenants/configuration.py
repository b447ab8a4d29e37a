"""Typed, validated tenant configuration: features, limits, branding, panel defaults.

A tenant stores only what it overrides; its tier's preset fills the rest. Every override
is checked here, and a refusal names the field (`limits.max_documents`), so the admin,
the commands and the API all give the same message.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from config.errors import DomainError

PANEL_TYPE_NAMES = ("structured", "open", "socratic", "adversarial", "delphi", "hybrid")
TIERS = ("starter", "professional", "enterprise")
# The chat providers in llm/providers.py (equal by test; tenants does not import llm).
LLM_PROVIDER_NAMES = ("offline", "openai", "anthropic")


class ConfigurationError(DomainError):
    code = "invalid_configuration"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}", details={"field": field})
        self.field = field


@dataclass(frozen=True)
class Features:
    structured: bool = True
    open: bool = True
    socratic: bool = True
    adversarial: bool = False
    delphi: bool = False
    hybrid: bool = False
    api_access: bool = True
    custom_agents: bool = False
    advanced_analytics: bool = False

    def panel_type_enabled(self, panel_type: str) -> bool:
        return bool(getattr(self, panel_type, False)) if panel_type in PANEL_TYPE_NAMES else False

    @property
    def enabled_panel_types(self) -> list[str]:
        return [name for name in PANEL_TYPE_NAMES if getattr(self, name)]


@dataclass(frozen=True)
class Limits:
    max_panels_per_month: int = 20
    max_experts_per_panel: int = 5
    max_concurrent_panels: int = 1
    max_tokens_per_panel: int = 60_000
    max_documents: int = 25
    max_storage_mb: int = 50
    max_custom_agents: int = 10  # private experts, where the plan has `custom_agents`
    # Monthly budgets (tenants/billing): the soft limit warns (banner, email), the budget is the hard limit.
    monthly_token_budget: int = 2_000_000
    monthly_cost_budget_usd: int = 25
    budget_soft_limit_percent: int = 80
    # API requests a minute (tenants/api/throttling.py): all the tenant's users and tokens
    # together, and each user (or, signed out, each client address); over it: 429 throttled.
    api_requests_per_minute: int = 1_200
    api_requests_per_minute_per_user: int = 600


@dataclass(frozen=True)
class Branding:
    display_name: str = ""
    logo_url: str = ""
    favicon_url: str = ""
    primary_color: str = "#1f4e79"
    secondary_color: str = "#f3f6fa"
    accent_color: str = "#e07a1f"
    font_family: str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
    custom_css: str = ""


@dataclass(frozen=True)
class PanelDefaults:
    panel_type: str = "structured"
    rounds: int = 2
    consensus_threshold: float = 0.70


def mask_secret(secret: str) -> str:
    """Never show a key back in full: `sk-…9f2c`."""
    if not secret:
        return ""
    return f"{secret[:3]}…{secret[-4:]}" if len(secret) > 10 else "…" + secret[-2:]


@dataclass(frozen=True)
class LLMOverride:
    """A tenant's own LLM provider/model (its key is a separate, never-shown field)."""

    provider: str = ""
    model: str = ""
    base_url: str = ""
    rerank_experts: bool = False  # the model re-ranks the 20 best experts (agents/rerank.py)
    billed_directly: bool = False  # calls on the tenant's own key: tokens counted, cost not charged


TIER_PRESETS: dict[str, dict[str, dict]] = {
    "starter": {
        "features": {},
        "limits": {},
    },
    "professional": {
        "features": {"adversarial": True, "delphi": True, "advanced_analytics": True},
        "limits": {
            "max_panels_per_month": 200,
            "max_experts_per_panel": 8,
            "max_concurrent_panels": 3,
            "max_tokens_per_panel": 250_000,
            "max_documents": 500,
            "max_storage_mb": 1_000,
            "monthly_token_budget": 50_000_000,
            "monthly_cost_budget_usd": 500,
            "api_requests_per_minute": 6_000,
            "api_requests_per_minute_per_user": 1_200,
        },
    },
    "enterprise": {
        "features": {
            "adversarial": True, "delphi": True, "hybrid": True,
            "custom_agents": True, "advanced_analytics": True,
        },
        "limits": {
            "max_panels_per_month": 5_000,
            "max_experts_per_panel": 12,
            "max_concurrent_panels": 20,
            "max_tokens_per_panel": 1_000_000,
            "max_documents": 10_000,
            "max_storage_mb": 50_000,
            "max_custom_agents": 200,
            "monthly_token_budget": 1_000_000_000,
            "monthly_cost_budget_usd": 20_000,
            "api_requests_per_minute": 30_000,
            "api_requests_per_minute_per_user": 3_000,
        },
    },
}

LIMIT_CEILINGS = {
    "max_panels_per_month": 1_000_000,
    "max_experts_per_panel": 12,
    "max_concurrent_panels": 1_000,
    "max_tokens_per_panel": 100_000_000,
    "max_documents": 10_000_000,
    "max_storage_mb": 10_000_000,
    "max_custom_agents": 10_000,
    "monthly_token_budget": 100_000_000_000,
    "monthly_cost_budget_usd": 10_000_000,
    "budget_soft_limit_percent": 100,
    "api_requests_per_minute": 1_000_000,
    "api_requests_per_minute_per_user": 1_000_000,
}
# A rate of 0 would shut the API; the plan's `api_access` feature is the switch for that.
RATE_LIMITS = ("api_requests_per_minute", "api_requests_per_minute_per_user")

COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
FONT = re.compile(r"^[A-Za-z0-9 ,'\"\-]{1,200}$")
URL = re.compile(r"^(?:https?://[^\s\"'<>]+|/[^\s\"'<>]*)$")


def _unknown(section: str, data: dict, known: type) -> None:
    names = {f.name for f in fields(known)}
    for key in data:
        if key not in names:
            raise ConfigurationError(
                f"{section}.{key}", f"unknown setting; known ones are {', '.join(sorted(names))}."
            )


def validate_features(data: dict) -> dict:
    _require_mapping("features", data)
    _unknown("features", data, Features)
    for key, value in data.items():
        if not isinstance(value, bool):
            raise ConfigurationError(f"features.{key}", f"must be true or false, not {value!r}.")
    return data


def validate_limits(data: dict) -> dict:
    _require_mapping("limits", data)
    _unknown("limits", data, Limits)
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"limits.{key}", f"must be a whole number, not {value!r}.")
        if value < 0:
            raise ConfigurationError(f"limits.{key}", f"cannot be negative (got {value}).")
        if key == "budget_soft_limit_percent" and value < 1:
            raise ConfigurationError(f"limits.{key}", f"must be a percentage from 1 to 100 (got {value}).")
        if key in RATE_LIMITS and value < 1:
            raise ConfigurationError(
                f"limits.{key}", f"must be at least 1 (got {value}); API tokens are turned off with features.api_access instead.")
        if value > LIMIT_CEILINGS[key]:
            raise ConfigurationError(f"limits.{key}", f"cannot exceed {LIMIT_CEILINGS[key]} (got {value}).")
    return data


def validate_branding(data: dict) -> dict:
    _require_mapping("branding", data)
    _unknown("branding", data, Branding)
    for key, value in data.items():
        field = f"branding.{key}"
        if not isinstance(value, str):
            raise ConfigurationError(field, f"must be text, not {value!r}.")
        if key.endswith("_color") and not COLOUR.match(value):
            raise ConfigurationError(field, f"must be a hex colour like #1f4e79, not {value!r}.")
        if key.endswith("_url") and value and not URL.match(value):
            raise ConfigurationError(field, f"must be an http(s) URL or a path starting with /, not {value!r}.")
        if key == "font_family" and not FONT.match(value):
            raise ConfigurationError(field, "may hold only font names, spaces, commas, quotes and hyphens.")
        if key == "display_name" and len(value) > 100:
            raise ConfigurationError(field, "must be at most 100 characters.")
        if key == "custom_css":  # rendered inside <style>: no way out of it
            if len(value) > 20_000:
                raise ConfigurationError(field, "must be at most 20,000 characters.")
            if "<" in value or "@import" in value.lower():
                raise ConfigurationError(field, "may not contain '<' or @import.")
    return data


def validate_panel_defaults(data: dict) -> dict:
    _require_mapping("panel_defaults", data)
    _unknown("panel_defaults", data, PanelDefaults)
    if "panel_type" in data and data["panel_type"] not in PANEL_TYPE_NAMES:
        raise ConfigurationError(
            "panel_defaults.panel_type",
            f"{data['panel_type']!r} is not a panel type; choose one of {', '.join(PANEL_TYPE_NAMES)}.",
        )
    rounds = data.get("rounds")
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= 5):
        raise ConfigurationError("panel_defaults.rounds", f"must be a whole number from 1 to 5, not {rounds!r}.")
    threshold = data.get("consensus_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1
    ):
        raise ConfigurationError(
            "panel_defaults.consensus_threshold", f"must be a number above 0 and at most 1, not {threshold!r}."
        )
    return data


def validate_llm(data: dict) -> dict:
    _require_mapping("llm", data)
    _unknown("llm", data, LLMOverride)
    for key, value in data.items():
        if key in ("rerank_experts", "billed_directly"):
            if not isinstance(value, bool):
                raise ConfigurationError(f"llm.{key}", f"must be true or false, not {value!r}.")
        elif not isinstance(value, str):
            raise ConfigurationError(f"llm.{key}", f"must be text, not {value!r}.")
    if data.get("provider") and data["provider"] not in LLM_PROVIDER_NAMES:
        raise ConfigurationError(
            "llm.provider", f"{data['provider']!r} is not a provider; choose one of {', '.join(LLM_PROVIDER_NAMES)}."
        )
    if data.get("base_url") and not re.match(r"^https?://[^\s\"'<>]+$", data["base_url"]):
        raise ConfigurationError("llm.base_url", "must be an http(s) URL.")
    if len(data.get("model", "")) > 200:
        raise ConfigurationError("llm.model", "must be at most 200 characters.")
    return data


def _require_mapping(section: str, data) -> None:
    if not isinstance(data, dict):
        raise ConfigurationError(section, "must be an object of settings.")


SECTIONS = {
    "features": (Features, validate_features),
    "limits": (Limits, validate_limits),
    "branding": (Branding, validate_branding),
    "panel_defaults": (PanelDefaults, validate_panel_defaults),
    "llm": (LLMOverride, validate_llm),
}


@dataclass(frozen=True)
class TenantConfiguration:
    """What a tenant may do and how it looks: its tier preset with its overrides on top."""

    tier: str
    features: Features
    limits: Limits
    branding: Branding
    panel_defaults: PanelDefaults
    llm: LLMOverride

    @classmethod
    def build(cls, *, tier: str, name: str = "", **overrides: dict) -> "TenantConfiguration":
        if tier not in TIERS:
            raise ConfigurationError("tier", f"{tier!r} is not a tier; choose one of {', '.join(TIERS)}.")
        preset = TIER_PRESETS[tier]
        parts = {}
        for section, (kind, validate) in SECTIONS.items():
            override = validate(overrides.get(section) or {})
            parts[section] = kind(**{**preset.get(section, {}), **override})
        if not parts["branding"].display_name:
            parts["branding"] = Branding(**{**asdict(parts["branding"]), "display_name": name})
        if parts["panel_defaults"].panel_type not in parts["features"].enabled_panel_types:
            raise ConfigurationError(
                "panel_defaults.panel_type",
                f"{parts['panel_defaults'].panel_type!r} is not enabled for this tenant's features.",
            )
        return cls(tier=tier, **parts)

    def as_dict(self) -> dict:
        return {section: asdict(getattr(self, section)) for section in SECTIONS}
