"""The schema is a contract a new user can build on: openapi-python-client generates a
typed client from the served schema, and that generated code alone (no hand-written HTTP)
signs in, uploads a document and waits for it, asks for experts, runs an open panel
grounded in the document in a real worker, reads its consensus and recommendation as
typed models and downloads the PDF report."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.factories import QUESTION
from tests.panels.conftest import DEVICE_NOTE

pytestmark = pytest.mark.slow

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = Path(__file__).with_name("openapi-python-client.yaml")
PACKAGE = "askpanel_client"  # package_name_override in CONFIG
WAIT_SECONDS = 120  # a deadline for the worker, not a timing assertion


class Generated:
    """The generated package: its clients, its models, and its operations by operation id
    (a module api/<tag>/<operation id>.py each, whatever the tag)."""

    def __init__(self, package: ModuleType):
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        self.root = Path(package.__file__).parent

    def operation(self, operation_id: str) -> ModuleType:
        found = sorted(self.root.glob(f"api/*/{operation_id}.py"))
        assert len(found) == 1, f"the generated client has {len(found)} modules for operation {operation_id!r}"
        tag = found[0].parent.name
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


@pytest.fixture(scope="module")
def generated(api_site, tmp_path_factory):
    """`openapi-python-client generate --url <served schema>`, imported from a temporary
    folder; the generator must not warn about anything in the schema."""
    folder = tmp_path_factory.mktemp("generated-client")
    result = subprocess.run(
        [str(GENERATOR), "generate", "--url", api_site.schema_url, "--config", str(CONFIG), "--meta", "none",
         "--output-path", str(folder / PACKAGE), "--fail-on-warning"],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, f"openapi-python-client failed:\n{result.stdout}\n{result.stderr}"
    sys.path.insert(0, str(folder))
    try:
        yield Generated(importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def until(fetch, done, what: str):
    """fetch() again until done(result); fails after WAIT_SECONDS naming what it waited for."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not done after {WAIT_SECONDS}s; last seen {result!r}")
        time.sleep(0.3)


def test_a_generated_client_runs_a_grounded_panel_from_sign_in_to_pdf(generated, api_site, celery_worker):
    api, models = generated, generated.models
    # Python's resolver does not know <tenant>.localhost: connect to 127.0.0.1, name the tenant in Host.
    reach = {"base_url": api_site.origin, "headers": {"Host": api_site.host}, "raise_on_unexpected_status": True}

    with api.package.Client(**reach) as anonymous:
        token = api.operation("auth_token").sync(
            client=anonymous, body=models.TokenRequest(username=api_site.username, password=api_site.password))
    assert isinstance(token, models.Token) and token.token, token
    # The client closes its connections when done, so the server's threads can end.
    with api.package.AuthenticatedClient(**reach, token=token.token, prefix="Token") as client:
        uploaded = api.operation("documents_upload").sync(client=client, body=models.DocumentUploadRequest(
            file=api.types.File(payload=io.BytesIO(DEVICE_NOTE), file_name="device-note.md", mime_type="text/markdown"),
            title="Device pathways note", tags="regulatory,devices",
        ))
        assert isinstance(uploaded, models.Document) and uploaded.title == "Device pathways note", uploaded
        document = until(lambda: api.operation("documents_get").sync(client=client, document_id=uploaded.id),
                         lambda document: document.status not in ("pending", "processing"), "the document's ingestion")
        assert document.status == "ready", document.failure_reason
        assert document.chunk_count >= 1 and document.tags == ["devices", "regulatory"]

        recommended = api.operation("agents_recommend").sync(
            client=client, q=QUESTION, k=3, panel_type=models.PanelTypeEnum.OPEN)
        assert isinstance(recommended, models.AgentRecommendations) and len(recommended.results) == 3, recommended
        assert all(isinstance(item, models.AgentRecommendation) and item.reasons for item in recommended.results)
        experts = [item.agent.slug for item in recommended.results]

        created = api.operation("panels_create").sync(client=client, body=models.PanelCreateRequest(
            query=QUESTION, panel_type=models.PanelTypeEnum.OPEN, experts=experts, documents=[document.id],
        ))
        assert isinstance(created, models.Panel) and created.status == "queued", created
        assert [member.agent.slug for member in created.members if member.agent] == experts

        seen = []

        def follow():
            page = api.operation("panels_events").sync(client=client, panel_id=created.id,
                                                       after=seen[-1].seq if seen else 0)
            seen.extend(page.events)
            return page

        final = until(follow, lambda page: page.status in ("completed", "failed", "cancelled"), "the panel's run")
        assert final.status == "completed", [event.data for event in seen if event.kind == "status"]
        assert {"round_started", "contribution", "consensus"} <= {event.kind for event in seen}

        panel = api.operation("panels_get").sync(client=client, panel_id=created.id)
        assert isinstance(panel, models.Panel) and panel.status == "completed"
        assert isinstance(panel.consensus, models.Consensus)
        assert panel.consensus.level in ("high", "medium", "low") and 0 <= panel.consensus.score <= 1
        assert isinstance(panel.recommendation, models.Recommendation)
        assert panel.recommendation.action in ("proceed", "caution", "stop", "investigate")
        assert panel.recommendation.summary
        assert panel.recommendation.citations, "the recommendation cites nothing"
        assert all(isinstance(citation, models.Citation) for citation in panel.recommendation.citations)
        assert {citation.document_id for citation in panel.recommendation.citations} == {document.id}

        pdf = api.operation("panels_export_pdf").sync(client=client, panel_id=created.id)
        assert isinstance(pdf, api.types.File), pdf
        assert pdf.payload.read().startswith(b"%PDF-")
