"""Readable text out of an uploaded file, by type: .txt, .md, .html, .pdf, .docx.

Each extractor returns the text with headings as Markdown `#` lines (so chunking can
respect them) and, for PDFs, where each page starts. A file that cannot be read raises
ExtractionError with a reason a user understands.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree

from config.errors import DomainError


class ExtractionError(Exception):
    """The file is of a supported type but could not be read (corrupt, empty, no text)."""


class UnsupportedFileType(DomainError):
    code = "unsupported_file_type"
    status_code = 415


@dataclass
class ExtractedText:
    text: str
    page_starts: list[int] = field(default_factory=list)  # char offset where page i+1 starts

    @property
    def page_count(self) -> int | None:
        return len(self.page_starts) or None

    def page_at(self, offset: int) -> int | None:
        page = None
        for number, start in enumerate(self.page_starts, start=1):
            if start > offset:
                break
            page = number
        return page


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ExtractionError("The file contains binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ExtractionError("The file is not readable text (not UTF-8 or Windows-1252).") from exc


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = re.sub(r"[ \u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def extract_plain(data: bytes) -> ExtractedText:
    return ExtractedText(_normalise(_decode(data)))


def extract_html(data: bytes) -> ExtractedText:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head", "svg", "iframe", "nav", "footer"]):
        hidden.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for block in soup.find_all(["p", "li", "tr", "div", "section", "article", "br", "blockquote", "pre"]):
        block.insert_after("\n\n")
    return ExtractedText(_normalise(soup.get_text()))


def extract_pdf(data: bytes) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise ExtractionError("The file is not a PDF (it does not start with %PDF).")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("The PDF is encrypted; upload an unprotected copy.")
        pages = [_normalise(page.extract_text() or "") for page in reader.pages]
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"The PDF could not be read: {exc}") from exc
    if not any(pages):
        raise ExtractionError("The PDF has no text layer (scanned pages?); OCR is not supported.")
    text, starts = "", []
    for page_text in pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        text += page_text
    return ExtractedText(text, starts)


WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extract_docx(data: bytes) -> ExtractedText:
    """Paragraphs and headings from word/document.xml (no extra dependency needed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("word/document.xml")
        root = ElementTree.fromstring(xml)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ExtractionError(f"The .docx file could not be read: {exc}") from exc
    blocks = []
    for paragraph in root.iter(f"{WORD_NS}p"):
        text = "".join(node.text or "" for node in paragraph.iter(f"{WORD_NS}t")).strip()
        if not text:
            continue
        style = paragraph.find(f"{WORD_NS}pPr/{WORD_NS}pStyle")
        level = re.match(r"Heading(\d)", style.get(f"{WORD_NS}val", "")) if style is not None else None
        blocks.append(f"{'#' * int(level.group(1))} {text}" if level else text)
    return ExtractedText(_normalise("\n\n".join(blocks)))


# extension -> (mime type, extractor)
FILE_TYPES = {
    "txt": ("text/plain", extract_plain),
    "md": ("text/markdown", extract_plain),
    "markdown": ("text/markdown", extract_plain),
    "html": ("text/html", extract_html),
    "htm": ("text/html", extract_html),
    "pdf": ("application/pdf", extract_pdf),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", extract_docx),
}


def file_type(filename: str) -> tuple[str, str]:
    """(extension, mime type) of a supported upload, or UnsupportedFileType."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FILE_TYPES:
        raise UnsupportedFileType(
            f"{filename!r} is not a supported document; upload one of: "
            + ", ".join(f".{e}" for e in FILE_TYPES) + ".",
            details={"supported": [f".{e}" for e in FILE_TYPES]},
        )
    return extension, FILE_TYPES[extension][0]


def extract_text(data: bytes, extension: str) -> ExtractedText:
    extracted = FILE_TYPES[extension][1](data)
    if not extracted.text.strip():
        raise ExtractionError("The document contains no readable text.")
    return extracted
