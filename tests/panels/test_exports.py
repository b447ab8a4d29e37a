"""The Markdown and PDF exports: the Accept headers real clients send, a browser session,
and the report's charts drawn in the PDF."""

import re
import zlib

import pytest

from tenants.services import tenant_update_configuration
from tests.conftest import api_client, make_token, make_user, page_client
from tests.panels.report_factory import build_completed_panel

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def rgb(hex_colour: str) -> str:
    """How fpdf2 writes a fill colour: 'r g b rg' with 4 decimals."""
    channels = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return " ".join(f"{c:.4f}".rstrip("0").rstrip(".") for c in channels) + " rg"


def drawing(pdf: bytes) -> str:
    """The PDF's content streams, inflated: the operators that draw its pages."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue  # an embedded font or image, not drawing operators
    return "\n".join(streams)


@pytest.fixture
def panel(alpha, alpha_user):
    return build_completed_panel(alpha, alpha_user)


@pytest.mark.parametrize("accept", ["application/pdf", "*/*", BROWSER_ACCEPT, "application/pdf;q=1, */*;q=0.1", None])
def test_the_pdf_export_honours_the_accept_headers_clients_send(panel, alpha, alpha_api, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = alpha_api.get(f"/api/v1/panels/{panel.pk}/export.pdf", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="panel-{panel.pk}.pdf"'


@pytest.mark.parametrize("accept", ["text/markdown", "text/markdown; charset=utf-8", "*/*", BROWSER_ACCEPT, None])
def test_the_markdown_export_honours_the_accept_headers_clients_send(panel, alpha_api, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = alpha_api.get(f"/api/v1/panels/{panel.pk}/export.md", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/markdown")
    assert response.content.decode().startswith("# Panel report: Should we file a De Novo")


def test_a_browser_session_downloads_both_exports(panel, alpha, alpha_user):
    browser = page_client(alpha, alpha_user)
    pdf = browser.get(f"/api/v1/panels/{panel.pk}/export.pdf", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    markdown = browser.get(f"/api/v1/panels/{panel.pk}/export.md", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert markdown.status_code == 200 and b"## Dissent" in markdown.content


def test_an_export_error_is_the_json_error_shape_whatever_was_accepted(alpha, panel, alpha_api):
    missing = alpha_api.get(f"/api/v1/panels/{panel.pk + 1000}/export.pdf", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["error"]["message"] == f"There is no panel {panel.pk + 1000}."
    other = make_user(alpha, "carol")
    refused = api_client(alpha, token=make_token(alpha, other)).get(
        f"/api/v1/panels/{panel.pk}/export.md", HTTP_ACCEPT="text/markdown")
    assert refused.status_code == 404 and refused.json()["error"]["code"]
    unsupported = alpha_api.get(f"/api/v1/panels/{panel.pk}/export.pdf", HTTP_ACCEPT="image/png")
    assert unsupported.status_code == 406 and unsupported.json()["error"]["code"]


def test_the_pdf_draws_the_reports_charts(alpha, alpha_user, alpha_api):
    tenant_update_configuration(tenant=alpha, branding={"primary_color": "#123456", "accent_color": "#aa5500"})
    with_consensus = build_completed_panel(alpha, alpha_user)
    without = build_completed_panel(alpha, alpha_user, consensus=False)
    drawn = drawing(alpha_api.get(f"/api/v1/panels/{with_consensus.pk}/export.pdf").content)
    plain = drawing(alpha_api.get(f"/api/v1/panels/{without.pk}/export.pdf").content)

    # gauge arc and threshold mark, matrix cells: in the tenant's colours, only with a consensus
    assert drawn.count(rgb("#123456")) >= 9 and rgb("#123456").replace("rg", "RG") in drawn
    assert rgb("#aa5500").replace("rg", "RG") in drawn
    assert rgb("#123456") not in plain and rgb("#aa5500").replace("rg", "RG") not in plain
    assert "(threshold not reached \\(0.60\\)) Tj" in drawn and "(0.58) Tj" in drawn
    # the stance chart: the support (green) and oppose (red) bars of both rounds, in both PDFs
    for pdf in (drawn, plain):
        assert pdf.count(f"{rgb('#2e7d32')} 0 0 m") >= 3 and pdf.count(f"{rgb('#c62828')} 0 0 m") >= 3
    # a hostile name is text in the chart, not markup
    assert "(<script>alert\\('name'\\)</" in drawn


def test_the_pdf_draws_the_estimates_of_a_delphi_panel(alpha, alpha_user, alpha_api):
    panel = build_completed_panel(alpha, alpha_user, panel_type="delphi",
                                  estimates=[(0.2, 0.9, 0.5), (0.4, 0.7, 0.55), (0.5, 0.6, 0.55)],
                                  stances=[("support", "oppose", "neutral")] * 3)
    drawn = drawing(alpha_api.get(f"/api/v1/panels/{panel.pk}/export.pdf").content)
    assert "(panel mean) Tj" in drawn and "(Round 3) Tj" in drawn
