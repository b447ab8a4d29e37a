import pytest
from django_tenants.utils import schema_context

from panels.orchestration.runner import panel_run
from tests.factories import QUESTION, make_document, make_panel  # noqa: F401  (QUESTION: tests import it from here)

DEVICE_NOTE = (b"# Device pathways\n\nWhen a novel device has no valid predicate but its risk is low to moderate, "
               b"the De Novo pathway lets FDA classify it into Class II with special controls.\n\n"
               b"## 510(k)\n\nA 510(k) needs a predicate device with the same intended use; different technological "
               b"characteristics need performance data that raise no new questions of safety and effectiveness.")


def run_inline(tenant, user, **options):
    """Create and run a panel in this process (what the worker does), in the tenant."""
    panel = make_panel(tenant, user, **options)
    with schema_context(tenant.schema_name):
        return panel_run(panel_id=panel.pk)


@pytest.fixture
def grounded_alpha(alpha, catalog, media_root):
    make_document(alpha, "device-note.md", DEVICE_NOTE, title="Device pathways note")
    return alpha
