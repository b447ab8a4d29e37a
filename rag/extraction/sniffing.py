"""What a file's bytes look like, whatever its name says: checked at upload, cheaply (magic
bytes, names inside a ZIP archive, whether it decodes as text), without parsing it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.extraction.formats import ExtractionError, decode_text


@dataclass(frozen=True)
class Content:
    kind: str  # "pdf", "docx", "html", "text", "png", ...
    description: str  # for people: "a PDF document"


# Leading bytes of formats people upload by mistake (or on purpose) under another name.
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", Content("png", "a PNG image")),
    (b"\xff\xd8\xff", Content("jpeg", "a JPEG image")),
    (b"GIF87a", Content("gif", "a GIF image")),
    (b"GIF89a", Content("gif", "a GIF image")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Content("ole", "an old Office document (.doc, .xls or .ppt)")),
    (b"{\\rtf", Content("rtf", "an RTF document")),
    (b"%!PS", Content("postscript", "a PostScript file")),
    (b"\x1f\x8b", Content("gzip", "a gzip archive")),
    (b"\xfd7zXZ\x00", Content("xz", "an xz archive")),
    (b"7z\xbc\xaf\x27\x1c", Content("7z", "a 7-Zip archive")),
    (b"Rar!\x1a\x07", Content("rar", "a RAR archive")),
    (b"\x7fELF", Content("executable", "a program (ELF executable)")),
    (b"\xff\xfe", Content("utf16", "UTF-16 text (save it as UTF-8)")),
    (b"\xfe\xff", Content("utf16", "UTF-16 text (save it as UTF-8)")),
]

# ZIP-based formats, told apart by a member name (stored uncompressed in the archive).
ZIP_MEMBERS = [
    (b"word/document.xml", Content("docx", "a Word document (.docx)")),
    (b"xl/workbook", Content("xlsx", "an Excel workbook (.xlsx)")),
    (b"ppt/presentation", Content("pptx", "a PowerPoint presentation (.pptx)")),
    (b"mimetypeapplication/vnd.oasis.opendocument", Content("odf", "an OpenDocument file (.odt, .ods or .odp)")),
    (b"mimetypeapplication/epub+zip", Content("epub", "an EPUB e-book")),
]
ZIP = Content("zip", "a ZIP archive")
PDF = Content("pdf", "a PDF document")
HTML = Content("html", "an HTML page")
TEXT = Content("text", "plain text")
BINARY = Content("binary", "binary data of an unknown kind")

HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def sniff(data: bytes) -> Content:
    """What `data` looks like: the first signature that matches, else text or binary."""
    if b"%PDF-" in data[:1024]:  # readers accept a PDF header anywhere in the first 1 KB
        return PDF
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return next((content for member, content in ZIP_MEMBERS if member in data), ZIP)
    for signature, content in SIGNATURES:
        if data.startswith(signature):
            return content
    try:
        text = decode_text(data)
    except ExtractionError:
        return BINARY
    return HTML if HTML_START.match(text[:4096]) else TEXT
