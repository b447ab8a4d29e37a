"""The report's SVG charts, on data: values map to geometry, labels are escaped, every
chart describes itself to a screen reader."""

import xml.etree.ElementTree as ET

import pytest

from config import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = '<script>alert("x")</script>&"'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # fails on anything that is not well-formed XML


def find(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter() if css_class in e.get("class", "").split()]


def path_end(d: str) -> tuple[float, float]:
    *_, x, y = d.split()
    return float(x), float(y)


def test_the_gauge_maps_0_half_and_1_to_left_top_and_right():
    cx, cy, r = charts.GAUGE_CX, charts.GAUGE_CY, charts.GAUGE_R
    assert charts.gauge_point(0.0) == pytest.approx((cx - r, cy))
    assert charts.gauge_point(0.5) == pytest.approx((cx, cy - r))
    assert charts.gauge_point(1.0) == pytest.approx((cx + r, cy))
    for score, end in [(0.5, (cx, cy - r)), (1.0, (cx + r, cy))]:
        arc = find(parse(charts.consensus_gauge(score=score, threshold=0.7, level="medium")), "gauge-value")[0]
        assert path_end(arc.get("d")) == pytest.approx(end, abs=0.01)
    assert find(parse(charts.consensus_gauge(score=0.0, threshold=0.7, level="low")), "gauge-value") == []


def test_the_gauge_marks_the_threshold_where_it_sits_on_the_dial():
    root = parse(charts.consensus_gauge(score=0.3, threshold=0.5, level="low"))
    mark = find(root, "gauge-threshold")[0]
    # at 0.5 the mark is vertical, above the centre, crossing the arc
    assert float(mark.get("x1")) == pytest.approx(charts.GAUGE_CX) == pytest.approx(float(mark.get("x2")))
    assert float(mark.get("y2")) < charts.GAUGE_CY - charts.GAUGE_R < float(mark.get("y1"))
    low = find(parse(charts.consensus_gauge(score=0.3, threshold=0.25, level="low")), "gauge-threshold")[0]
    assert float(low.get("x1")) < charts.GAUGE_CX  # a lower threshold sits further left


def test_the_gauge_says_whether_the_threshold_was_reached():
    reached = parse(charts.consensus_gauge(score=0.82, threshold=0.75, level="high"))
    missed = parse(charts.consensus_gauge(score=0.41, threshold=0.75, level="low"))
    assert "threshold reached (0.75)" in "".join(reached.itertext())
    assert "threshold not reached (0.75)" in "".join(missed.itertext())
    assert reached.get("aria-label").endswith("reached.") and missed.get("aria-label").endswith("not reached.")


def test_matrix_cells_darken_with_agreement():
    values = [[1.0, 0.2, 0.9], [0.2, 1.0, 0.5], [0.9, 0.5, 1.0]]
    root = parse(charts.agreement_matrix(labels=["Ada", "Bo", "Cy"], values=values))
    cells = find(root, "matrix-cell")
    assert len(cells) == 9
    by_value = sorted(cells, key=lambda cell: float(cell.get("data-value")))
    opacities = [float(cell.get("fill-opacity")) for cell in by_value]
    assert opacities == sorted(opacities) and opacities[0] < opacities[-1]
    cell = next(c for c in cells if (c.get("data-row"), c.get("data-col")) == ("0", "1"))
    assert float(cell.get("data-value")) == 0.2 and float(cell.get("fill-opacity")) == charts.cell_opacity(0.2)
    assert charts.cell_opacity(0.0) > 0 and charts.cell_opacity(1.0) == 1.0


def test_stance_bars_are_as_tall_as_their_counts_on_one_scale():
    root = parse(charts.stance_chart(rounds=[("Round 1", {"support": 1, "neutral": 1, "oppose": 2}),
                                             ("Round 2", {"support": 3, "oppose": 1})]))
    bars = {(b.get("data-round"), b.get("data-stance")): b for b in find(root, "stance-bar")}
    assert set(bars) == {("1", "support"), ("1", "neutral"), ("1", "oppose"), ("2", "support"), ("2", "oppose")}
    unit = charts.STANCE_PLOT_HEIGHT / 4  # the tallest round has 4 stances
    for (_, _), bar in bars.items():
        assert float(bar.get("height")) == pytest.approx(int(bar.get("data-count")) * unit, abs=0.01)
    # stacked: support at the bottom, oppose on top of it, and both rounds reach the same top
    r1_support, r1_oppose = bars[("1", "support")], bars[("1", "oppose")]
    assert float(r1_oppose.get("y")) < float(r1_support.get("y"))
    assert float(r1_oppose.get("y")) == pytest.approx(float(bars[("2", "oppose")].get("y")))


def test_delphi_lines_follow_each_experts_estimates():
    series = {"Expert A": [0.2, 0.5, 0.6], "Expert B": [0.9, None, 0.7]}
    root = parse(charts.delphi_chart(rounds=["Round 1", "Round 2", "Round 3"], series=series))
    lines = {line.get("data-expert"): line for line in find(root, "delphi-line")}
    points = [tuple(map(float, p.split(","))) for p in lines["Expert A"].get("points").split()]
    assert points == [pytest.approx(charts.estimate_point(r, 3, v), abs=0.01) for r, v in enumerate([0.2, 0.5, 0.6])]
    top, bottom = charts.PLOT_TOP, charts.PLOT_TOP + charts.PLOT_HEIGHT
    assert charts.estimate_point(0, 3, 1.0)[1] == top and charts.estimate_point(0, 3, 0.0)[1] == bottom
    assert len(lines["Expert B"].get("points").split()) == 2  # the missing round is skipped
    mean = [tuple(map(float, p.split(","))) for p in find(root, "delphi-mean")[0].get("points").split()]
    assert mean[0] == pytest.approx(charts.estimate_point(0, 3, 0.55), abs=0.01)
    assert mean[1] == pytest.approx(charts.estimate_point(1, 3, 0.5), abs=0.01)  # only A answered


@pytest.mark.parametrize("draw", [
    lambda name: charts.agreement_matrix(labels=[name, "Bo"], values=[[1, 0.5], [0.5, 1]]),
    lambda name: charts.stance_chart(rounds=[(name, {"support": 1})]),
    lambda name: charts.delphi_chart(rounds=[name, "Round 2"], series={name: [0.2, 0.4]}),
])
def test_labels_are_escaped(draw):
    svg = draw(HOSTILE)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert "<script>" in "".join(root.itertext()) or "<script>" in root.get("aria-label")


@pytest.mark.parametrize("svg", [
    charts.consensus_gauge(score=0.6, threshold=0.7, level="medium"),
    charts.agreement_matrix(labels=["Ada", "Bo"], values=[[1, 0.5], [0.5, 1]]),
    charts.stance_chart(rounds=[("Round 1", {"support": 2, "oppose": 1})]),
    charts.delphi_chart(rounds=["Round 1", "Round 2"], series={"Expert A": [0.2, 0.4]}),
])
def test_every_chart_is_an_accessible_image_with_brand_colour_fallbacks(svg):
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.find("svg:title", NS).text == root.get("aria-label")
    assert root.get("width") and root.get("viewBox")
    assert "var(" not in svg  # colours are attributes; a page re-colours them by class
    for element in find(root, "chart-primary"):
        assert element.get("fill") == charts.DEFAULT_PALETTE.primary
    for element in find(root, "chart-primary-stroke"):
        assert element.get("stroke") == charts.DEFAULT_PALETTE.primary


def test_the_palette_colours_a_chart():
    svg = charts.consensus_gauge(score=0.6, threshold=0.7, level="medium",
                                 palette=charts.Palette(primary="#123456", accent="#654321"))
    root = parse(svg)
    assert find(root, "gauge-value")[0].get("stroke") == "#123456"
    assert find(root, "gauge-threshold")[0].get("stroke") == "#654321"
