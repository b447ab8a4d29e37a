"""The panel types. A seventh type is one new module and one line here, plus its name in
tenants.configuration.PANEL_TYPE_NAMES, where a tenant's plan enables it (tenants cannot
import panels; a test keeps the two equal)."""

from config.errors import DomainError
from panels.types.adversarial import ADVERSARIAL
from panels.types.base import PanelType, RoundSpec
from panels.types.delphi import DELPHI
from panels.types.hybrid import HYBRID
from panels.types.open import OPEN
from panels.types.socratic import SOCRATIC
from panels.types.structured import STRUCTURED

REGISTRY: dict[str, PanelType] = {t.name: t for t in (STRUCTURED, OPEN, SOCRATIC, ADVERSARIAL, DELPHI, HYBRID)}


class UnknownPanelType(DomainError):
    code = "unknown_panel_type"


def panel_type_get(name: str) -> PanelType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownPanelType(
            f"{name!r} is not a panel type; choose one of {', '.join(REGISTRY)}.", details={"choices": list(REGISTRY)}
        ) from None


__all__ = ["REGISTRY", "PanelType", "RoundSpec", "panel_type_get", "UnknownPanelType"]
