"""The panel report as Markdown and PDF: question, panel, recommendation, consensus,
dissent, transcript and citations."""

from __future__ import annotations

import io
import re
import unicodedata

from config.charts import Palette, report_charts
from panels.models import Panel
from panels.selectors import panel_report_data
from panels.types import panel_type_get
from tenants.context import current_tenant


def report_markdown(panel: Panel) -> str:
    kind = panel_type_get(panel.panel_type)
    lines = [f"# Panel report: {panel.query}", ""]
    lines += [f"- Panel: {kind.label}, {panel.members.count()} members, status {panel.status.lower()}",
              f"- Asked by: {panel.owner.username} on {panel.created_at:%Y-%m-%d %H:%M} UTC",
              f"- Usage: {panel.tokens_used} tokens, ${panel.cost:.4f}", ""]
    lines += ["## Panel", ""]
    for member in panel.members.all():
        who = member.display_title
        lines.append(f"- {member.display_name} — {who} ({member.role})")
    recommendation = getattr(panel, "recommendation", None) if _has(panel, "recommendation") else None
    if recommendation:
        lines += ["", "## Recommendation", "", f"**Action: {recommendation.action}**", "", recommendation.summary, ""]
        if recommendation.rationale:
            lines += ["Rationale:", ""] + [f"- {point}" for point in recommendation.rationale] + [""]
    consensus = getattr(panel, "consensus", None) if _has(panel, "consensus") else None
    if consensus:
        lines += ["## Consensus", "",
                  f"Score {consensus.score:.2f} ({consensus.level}); threshold {consensus.threshold:.2f} "
                  f"{'reached' if consensus.reached else 'not reached'}; majority stance: {consensus.majority_stance}.", ""]
        for point in consensus.agreement_points:
            lines.append(f"- Agreed: {point['point']} ({', '.join(point['supporters'])})")
        labels, values = consensus.matrix.get("labels", []), consensus.matrix.get("values", [])
        if labels:
            lines += ["", "| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
            lines += [f"| {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |" for label, row in zip(labels, values)]
        lines += ["", "## Dissent", ""]
        if consensus.dissent:
            for item in consensus.dissent:
                lines.append(f"- **{item['name']}** ({item['stance']}): {item['position']}")
                lines += [f"  - {reason}" for reason in item["reasons"]]
        else:
            lines.append("No member stood apart from the panel.")
    lines += ["", "## Transcript", ""]
    for round_ in panel.rounds.all().order_by("number"):
        lines += [f"### Round {round_.number}: {round_.title}", ""]
        for contribution in round_.contributions.all():
            stance = f", {contribution.stance}" if contribution.stance else ""
            confidence = f", confidence {contribution.confidence:.2f}" if contribution.confidence is not None else ""
            estimate = f", estimate {contribution.estimate:.2f}" if contribution.estimate is not None else ""
            lines += [f"**{contribution.member.display_name}** ({contribution.kind}{stance}{confidence}{estimate})", "",
                      contribution.text, ""]
    if recommendation and recommendation.citations:
        lines += ["## Sources cited", ""]
        for citation in recommendation.citations:
            page = f", page {citation['page']}" if citation.get("page") else ""
            lines.append(f"- [{citation['citation']}] {citation['document_title']}{page}: \"{citation['excerpt']}\" "
                         f"(cited by {', '.join(citation['cited_by'])})")
    if panel.error:
        lines += ["", f"_The panel ended early: {panel.error}_"]
    return "\n".join(lines).strip() + "\n"


def _has(panel: Panel, relation: str) -> bool:
    try:
        getattr(panel, relation)
        return True
    except Exception:  # RelatedObjectDoesNotExist
        return False


LATIN = {"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u203a": ">",
         "\u2026": "...", "\u2265": ">=", "\u2264": "<=", "\u00d7": "x", "\u2022": "-"}


def _latin1(text: str) -> str:
    """The PDF's built-in fonts speak Latin-1; spell other characters plainly."""
    text = "".join(LATIN.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("latin-1", "replace").decode("latin-1")


CHART_HEADINGS = {"stances": "Stances per round", "delphi": "Estimates per round"}
MM_PER_PX = 0.28  # a chart's SVG pixels on the page: the gauge (260 px) and a matrix of 5 fit side by side
PAGE_WIDTH_MM = 190
CHART_GAP_MM = 4


def report_pdf(panel: Panel) -> bytes:
    """The Markdown report laid out in a PDF, with the report's charts (the same SVGs as the
    page, in the tenant's colours): gauge and matrix under Consensus, stances and estimates
    before the transcript."""
    from fpdf import FPDF

    branding = current_tenant().configuration.branding
    charts = report_charts(panel_report_data(panel=panel), text=_latin1,
                           palette=Palette(primary=branding.primary_color, accent=branding.accent_color))
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for line in report_markdown(panel).splitlines():
        text = _latin1(line.replace("**", ""))
        if line.startswith("## Transcript"):
            for name in ("stances", "delphi"):
                if name in charts:
                    _charts(pdf, [charts[name]], heading=CHART_HEADINGS[name])
        if line.startswith("# "):
            pdf.set_font("Helvetica", "B", 15)
            pdf.multi_cell(0, 8, text[2:], new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("## "):
            _heading(pdf, text[3:])
            if line.startswith("## Consensus"):
                _charts(pdf, [charts[name] for name in ("gauge", "matrix") if name in charts])
        elif line.startswith("### "):
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, text[4:], new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("|"):
            if "matrix" not in charts:  # the table is the matrix chart's data
                pdf.set_font("Courier", size=7)
                pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
        elif not line.strip():
            pdf.ln(2)
        else:
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _charts(pdf, svgs: list[str], heading: str = "") -> None:
    """Draw charts side by side when they fit across the page, else one under another (fpdf2
    renders an SVG as vector paths); a chart that would not fit the page starts a new one,
    with its heading."""
    if not svgs:
        return
    sized = [(svg, *_size(svg)) for svg in svgs]
    if len(sized) > 1 and sum(width for _, width, _ in sized) + CHART_GAP_MM * (len(sized) - 1) > PAGE_WIDTH_MM:
        for svg in svgs:
            _charts(pdf, [svg], heading)
            heading = ""
        return
    height = max(height for _, _, height in sized)
    if pdf.get_y() + height + (12 if heading else 0) > pdf.page_break_trigger:
        pdf.add_page()
    if heading:
        _heading(pdf, heading)
    x, top = pdf.l_margin, pdf.get_y()
    for svg, width, _ in sized:
        svg = re.sub(r"<title>.*?</title>", "", svg, count=1, flags=re.S)  # fpdf2 does not draw it, and warns
        pdf.image(io.BytesIO(svg.encode()), x=x, y=top, w=width)
        x += width + CHART_GAP_MM
    pdf.set_y(top + height + 2)


def _size(svg: str) -> tuple[float, float]:
    """A chart's width and height on the page, in mm."""
    width_px = float(re.search(r'width="([\d.]+)"', svg).group(1))
    height_px = float(re.search(r'height="([\d.]+)"', svg).group(1))
    width = min(PAGE_WIDTH_MM, width_px * MM_PER_PX)
    return width, height_px * width / width_px
