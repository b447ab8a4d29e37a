"""WCAG contrast of a tenant's colours (tenants/branding.py), checked on data."""

import pytest

from tenants.branding import contrast_ratio, contrast_warnings
from tenants.configuration import Branding


def test_black_on_white_is_21_and_a_colour_on_itself_is_1():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#fff", "#000") == pytest.approx(21.0)
    assert contrast_ratio("#1f4e79", "#1f4e79") == pytest.approx(1.0)


def test_known_ratios_around_the_aa_threshold():
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")  # order does not matter


def test_default_branding_has_no_warnings_except_the_orange_button():
    warnings = contrast_warnings(Branding())
    assert [w.where for w in warnings] == ["White text on the accent colour (buttons)"]
    assert "2.9" in warnings[0].message or "3.0" in warnings[0].message


def test_each_pair_is_checked():
    pale = Branding(primary_color="#eeeeee", secondary_color="#333333", accent_color="#ffff00")
    where = [w.where for w in contrast_warnings(pale)]
    assert where == [
        "White text on the primary colour (header and navigation)",
        "White text on the accent colour (buttons)",
        "Body text on the secondary colour (page background)",
        "Primary-coloured links and headings on white cards",
    ]
    assert contrast_warnings(Branding(accent_color="#8a2be2")) == []


def test_not_a_colour_is_an_error():
    with pytest.raises(ValueError):
        contrast_ratio("red", "#ffffff")
