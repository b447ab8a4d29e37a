"""Small real files of every supported type, made in the test (no binary fixtures)."""

import functools
import io
import struct
import zipfile
import zlib


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


# --- Hostile files, made small in the test: what they expand to is never on disk ------


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1; object 1 is the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, flate: bool = False) -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), b" /Filter /FlateDecode" if flate else b"", data)


FONT = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"


def _pages_pdf(page_count: int, content: bytes, *, declared_count: int | None = None) -> bytes:
    """`page_count` pages that all draw one content stream (object 4, given ready to embed)."""
    kids = b" ".join(b"%d 0 R" % (5 + number) for number in range(page_count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 3 0 R /Contents 4 0 R >>"
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                 b"<< /Type /Pages /Count %d /Kids [%s] >>" % (declared_count or page_count, kids),
                 FONT, content] + [page] * page_count)


def make_many_pages_pdf(page_count: int, *, declared_count: int | None = None) -> bytes:
    """A PDF of `page_count` pages saying "Page" (10,000 pages: about 1.4 MB); the catalog may
    declare another count."""
    return _pages_pdf(page_count, _stream(b"BT /F1 12 Tf 72 720 Td (Page) Tj ET"), declared_count=declared_count)


def make_nul_text_pdf() -> bytes:
    """A PDF whose text has NUL characters in it (which Postgres refuses in text)."""
    return _pages_pdf(1, _stream(b"BT /F1 12 Tf 72 720 Td (Zebra\\000fish assays\\000) Tj ET"))


def make_slow_pdf(page_count: int = 2000, operators: int = 200_000) -> bytes:
    """Pages whose one shared content stream holds `operators` empty text objects: small on
    disk, each page a long parse (2,000 pages: tens of minutes)."""
    return _pages_pdf(page_count, _stream(zlib.compress(b"BT ET\n" * operators, 9), flate=True))


MIB = 1024 * 1024


@functools.cache
def _spaces_deflated(mebibytes: int, raw: bool) -> bytes:
    """`mebibytes` MiB of spaces, deflated (zlib-wrapped unless `raw`) with its true checksum:
    one compressed MiB repeated (a full flush resets the compressor's state)."""
    mebibyte = b" " * MIB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    first = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    if raw:
        return first + repeated * (mebibytes - 1) + end
    checksum = 1
    for _ in range(mebibytes):
        checksum = zlib.adler32(mebibyte, checksum)
    return first + repeated * (mebibytes - 1) + end[:-4] + checksum.to_bytes(4, "big")


@functools.cache
def make_flate_bomb_pdf(mebibytes: int = 2048) -> bytes:
    """A one-page PDF whose content stream inflates to `mebibytes` MiB (2 GiB: a 2 MB file)."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s /Contents 3 0 R >>" % FONT
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>",
                 _stream(_spaces_deflated(mebibytes, raw=False), flate=True), page])


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive of already deflated members: (name, deflated, crc32, size)."""
    out, directory = bytearray(), bytearray()
    for name, deflated, crc, size in members:
        encoded = name.encode()
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(deflated), size,
                                 len(encoded), 0, 0, 0, 0, 0, len(out)) + encoded
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), size, len(encoded), 0)
        out += encoded + deflated
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _deflated_member(name: str, data: bytes) -> tuple[str, bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


@functools.cache
def make_zip_bomb_docx(mebibytes: int = 1024) -> bytes:
    """A .docx whose word/document.xml unzips to `mebibytes` MiB (1 GiB: a 1 MB file)."""
    checksum = 0
    for _ in range(mebibytes):
        checksum = zlib.crc32(b" " * MIB, checksum)
    return _zip([_deflated_member("[Content_Types].xml", CONTENT_TYPES),
                 ("word/document.xml", _spaces_deflated(mebibytes, raw=True), checksum, mebibytes * MIB)])


@functools.cache
def make_huge_paragraph_docx(mebibytes: int = 48) -> bytes:
    """A .docx whose one paragraph is `mebibytes` MiB of emoji (12 million characters), under
    the 50 MB expansion limit: a 100 KB file that takes several hundred MB to read and hand back."""
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    text = "\N{GRINNING FACE}".encode() * (mebibytes * MIB // 4)
    xml = b"<w:document %s><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>" % (ns, text)
    return _zip([_deflated_member("[Content_Types].xml", CONTENT_TYPES), _deflated_member("word/document.xml", xml)])


def make_entity_docx() -> bytes:
    """A .docx whose XML declares entities (the "billion laughs" shape)."""
    xml = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           b"<w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>")
    return _zip([_deflated_member("[Content_Types].xml", CONTENT_TYPES), _deflated_member("word/document.xml", xml)])
