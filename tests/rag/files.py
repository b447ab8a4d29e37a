"""Small real files of every supported type, made in the test (no binary fixtures)."""

import io
import zipfile


def make_pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def make_docx(paragraphs: list[tuple[str, str | None]]) -> bytes:
    """paragraphs: (text, style) with style like "Heading1" or None."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = ""
    for text, style in paragraphs:
        properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body += f"<w:p>{properties}<w:r><w:t>{text}</w:t></w:r></w:p>"
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>{body}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


HTML = b"""<!doctype html><html><head><title>t</title><style>.x{color:red}</style>
<script>alert('never index me')</script></head><body><nav>Home | About</nav>
<h1>Biosimilar tenders</h1><p>Hospital tenders in the Nordics award contracts on price after interchangeability is accepted.</p>
<h2>Uptake</h2><p>Switching programmes drive uptake when clinicians are involved early.</p>
<footer>Copyright</footer></body></html>"""
