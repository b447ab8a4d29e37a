"""One extractor per format: .txt/.md, .html, .pdf, .docx.

Each returns the text with headings as Markdown `#` lines (so chunking can respect them)
and, for PDFs, where each page starts. Every extractor is bounded by `Limits`: how many
pages, how many characters, how far one compressed part may expand. A file that cannot be
read, or goes past a limit, raises ExtractionError with a reason a user understands.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from xml.etree import ElementTree

MB = 1024 * 1024


class ExtractionError(Exception):
    """The file is of a supported type but could not be read (corrupt, empty, no text, too big)."""


@dataclass(frozen=True)
class Limits:
    """How much of an untrusted file is read (settings.RAG_MAX_* and RAG_EXTRACTION_*)."""

    max_pages: int
    max_characters: int
    max_expanded_mb: int  # what one compressed part (a PDF stream, a .docx's text) may expand to
    memory_mb: int  # address space of the process that parses the file (rag.extraction.isolation)
    seconds: float  # wall-clock and CPU time of that process

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(max_pages=settings.RAG_MAX_PAGES, max_characters=settings.RAG_MAX_CHARACTERS,
                   max_expanded_mb=settings.RAG_MAX_EXPANDED_MB, memory_mb=settings.RAG_EXTRACTION_MEMORY_MB,
                   seconds=settings.RAG_EXTRACTION_SECONDS)

    def too_long(self) -> ExtractionError:
        return ExtractionError(f"The document has more than {self.max_characters:,} characters of text, the most "
                               "that is read from one file; split it into smaller files and upload those.")


@dataclass
class ExtractedText:
    text: str
    page_starts: list[int] = field(default_factory=list)  # char offset where page i+1 starts

    @property
    def page_count(self) -> int | None:
        return len(self.page_starts) or None

    def page_at(self, offset: int) -> int | None:
        return bisect_right(self.page_starts, offset) or None


def decode_text(data: bytes) -> str:
    """The text of a file that must be text: UTF-8 (with or without BOM) or Windows-1252,
    and no NUL byte anywhere (binary data; Postgres refuses NUL in text, too)."""
    if b"\x00" in data:
        raise ExtractionError("The file contains binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ExtractionError("The file is not readable text (not UTF-8 or Windows-1252).") from exc


def _normalise(text: str) -> str:
    # NUL and lone surrogates (a PDF font can map glyphs to them) cannot be stored in Postgres.
    text = re.sub("[\x00\ud800-\udfff]", "", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = re.sub(r"[ \u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def extract_plain(data: bytes, limits: Limits) -> ExtractedText:
    text = decode_text(data)
    if len(text) > limits.max_characters:
        raise limits.too_long()
    return ExtractedText(_normalise(text))


def extract_html(data: bytes, limits: Limits) -> ExtractedText:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head", "svg", "iframe", "nav", "footer"]):
        hidden.decompose()
    # Edited in place, appending inside: bs4's replace_with and insert_after look the element up
    # among its siblings, which made a page of 20,000 paragraphs take minutes.
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            text = heading.get_text(" ", strip=True)
            heading.clear()
            heading.append(f"\n\n{'#' * level} {text}\n\n")
    for block in soup.find_all(["p", "li", "tr", "div", "section", "article", "br", "blockquote", "pre"]):
        block.append("\n\n")
    text = _normalise(soup.get_text())
    if len(text) > limits.max_characters:
        raise limits.too_long()
    return ExtractedText(text)


def _pdf_configuration(limits: Limits) -> dict:
    """pypdf's own safety limits, tightened to ours; never run an external decoder on an
    untrusted file (jbig2dec)."""
    expanded = limits.max_expanded_mb * MB
    return {
        "zlib_maximum_output_length": expanded, "lzw_maximum_output_length": expanded,
        "run_length_maximum_output_length": expanded, "brotli_maximum_output_length": expanded,
        "jbig2_maximum_output_length": expanded, "array_based_stream_maximum_output_length": expanded,
        "image_maximum_buffer_size": expanded, "jbig2dec_binary": None,
    }


def _declared_page_count(reader) -> int:
    """The page count the file states (/Root /Pages /Count): read without walking the page tree."""
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - a damaged catalog: the page tree walk counts the pages instead
        return 0


def extract_pdf(data: bytes, limits: Limits) -> ExtractedText:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    if b"%PDF-" not in data[:1024]:
        raise ExtractionError("The file is not a PDF (it does not start with %PDF).")

    def check_pages(count: int) -> None:
        if count > limits.max_pages:
            raise ExtractionError(f"The PDF has {count:,} pages; at most {limits.max_pages:,} pages are read. "
                                  "Split it into smaller files and upload those.")

    pages, characters = [], 0
    try:
        with apply_configuration(**_pdf_configuration(limits)):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise ExtractionError("The PDF is encrypted; upload an unprotected copy.")
            check_pages(_declared_page_count(reader))
            check_pages(len(reader.pages))  # the real count, should the declared one lie
            for page in reader.pages:
                pages.append(_normalise(page.extract_text() or ""))
                characters += len(pages[-1])
                if characters > limits.max_characters:
                    raise limits.too_long()
    except ExtractionError:
        raise
    except LimitReachedError as exc:
        if "decompress" in str(exc).lower():
            raise ExtractionError(
                f"Part of the PDF expands to more than {limits.max_expanded_mb} MB when decompressed (a "
                "decompression bomb?), so it was not read.") from exc
        raise ExtractionError(f"The PDF goes past one of the reader's safety limits ({exc}); it was not read.") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError,
            zlib.error) as exc:
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


def _docx_xml(data: bytes, limits: Limits) -> bytes:
    """word/document.xml, read no further than the expansion limit (a zip bomb stops there)."""
    most = limits.max_expanded_mb * MB
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as member:
            xml = member.read(most + 1)
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ExtractionError(f"The .docx file could not be read: {exc}") from exc
    if len(xml) > most:
        raise ExtractionError(f"The .docx file's text expands to more than {limits.max_expanded_mb} MB when "
                              "unzipped (a decompression bomb?), so it was not read.")
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise ExtractionError("The .docx file declares XML entities, which Word never writes (an entity "
                              "expansion bomb?), so it was not read.")
    return xml


def extract_docx(data: bytes, limits: Limits) -> ExtractedText:
    """Paragraphs and headings from word/document.xml (no extra dependency needed)."""
    try:
        root = ElementTree.fromstring(_docx_xml(data, limits))
    except ElementTree.ParseError as exc:
        raise ExtractionError(f"The .docx file could not be read: {exc}") from exc
    blocks, characters = [], 0
    for paragraph in root.iter(f"{WORD_NS}p"):
        text = "".join(node.text or "" for node in paragraph.iter(f"{WORD_NS}t")).strip()
        if not text:
            continue
        style = paragraph.find(f"{WORD_NS}pPr/{WORD_NS}pStyle")
        level = re.match(r"Heading(\d)", style.get(f"{WORD_NS}val", "")) if style is not None else None
        blocks.append(f"{'#' * int(level.group(1))} {text}" if level else text)
        characters += len(text)
        if characters > limits.max_characters:
            raise limits.too_long()
    return ExtractedText(_normalise("\n\n".join(blocks)))
