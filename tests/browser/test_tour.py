"""The main pages as a newcomer sees them after the other browser tests left panels and
documents behind: each renders its heading with no script error, and still fits a 375 px
phone screen without sideways scrolling. ASKPANEL_SCREENSHOTS=1 keeps them as the README's
tour (docs/screenshots/)."""

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [  # path, heading, screenshot name
    ("/", "Ask a panel", "dashboard"),
    ("/panels/", "All panels of Acme Therapeutics", "history"),
    ("/experts/", "Experts", "experts"),
    ("/settings/", "Settings", "settings"),
]


def test_the_main_pages_render_and_fit_a_phone(page, acme):
    sign_in(page, acme)
    for path, heading, name in PAGES:
        page.set_viewport_size({"width": 1280, "height": 860})
        response = page.goto(acme.url(path))
        assert response.status == 200, path
        assert heading in page.locator("h1").first.text_content(), path
        screenshot(page, name)

        page.set_viewport_size({"width": 375, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375 px wide"
    assert page.watched.errors == []
    assert page.watched.dialogs == []
