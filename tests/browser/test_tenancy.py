"""Two tenants in one browser: each host is its own product (branding, template overrides)
and its own sign-in (host-only session cookies, sessions in the tenant's schema)."""

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def header_box(page) -> dict:
    return page.locator("header.site-header").bounding_box()


def test_globex_renders_its_own_layout_and_dashboard(page, acme, globex):
    sign_in(page, acme)
    page.goto(acme.url("/"))
    top_bar = header_box(page)
    assert top_bar["width"] >= 1200  # acme: the shared layout, a bar across the top
    assert page.locator("[data-template^=globex]").count() == 0
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).textTransform") == "none"

    sign_in(page, globex)
    page.goto(globex.url("/"))
    sidebar = header_box(page)
    assert sidebar["width"] < 400 and sidebar["height"] >= 800  # globex's base.html: a sidebar
    assert page.locator("[data-template=globex-base]").is_visible()
    assert page.locator("[data-template=globex-dashboard]").is_visible()  # its own dashboard
    assert "Expert Desk" in page.locator("h1").text_content()
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).textTransform") == "uppercase"
    screenshot(page, "dashboard-globex")


def test_a_session_made_on_one_tenant_does_not_work_on_another(page, context, acme, globex):
    sign_in(page, acme)
    session = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert session["domain"] == "acme.localhost", "the session cookie must be host-only"
    page.goto(acme.url("/panels/"))
    assert "/accounts/login/" not in page.url  # signed in on acme

    page.goto(globex.url("/panels/"))
    assert "/accounts/login/" in page.url  # the browser did not send acme's cookie

    # Even a copied cookie is unknown there: sessions live in the tenant's schema.
    context.add_cookies([{**session, "domain": "globex.localhost"}])
    page.goto(globex.url("/panels/"))
    assert "/accounts/login/" in page.url
