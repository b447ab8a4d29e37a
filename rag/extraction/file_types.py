"""The supported file types: their extension, what their content must look like, how their
text is read, and whether reading it needs an isolated process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config.errors import DomainError
from rag.extraction.formats import (
    ExtractedText,
    ExtractionError,
    Limits,
    extract_docx,
    extract_html,
    extract_pdf,
    extract_plain,
)
from rag.extraction.sniffing import sniff


class UnsupportedFileType(DomainError):
    code = "unsupported_file_type"
    status_code = 415


class FileTypeMismatch(DomainError):
    code = "file_type_mismatch"
    status_code = 400


@dataclass(frozen=True)
class FileType:
    mime_type: str
    extract: Callable[[bytes, Limits], ExtractedText]
    contents: frozenset[str]  # the sniffing.Content kinds its bytes may look like
    isolated: bool  # parsed in a child process with bounded memory and time (a structure an attacker shapes)


PLAIN = FileType("text/plain", extract_plain, frozenset({"text"}), isolated=False)
MARKDOWN = FileType("text/markdown", extract_plain, frozenset({"text"}), isolated=False)
HTML = FileType("text/html", extract_html, frozenset({"html", "text"}), isolated=True)
FILE_TYPES = {
    "txt": PLAIN,
    "md": MARKDOWN,
    "markdown": MARKDOWN,
    "html": HTML,
    "htm": HTML,
    "pdf": FileType("application/pdf", extract_pdf, frozenset({"pdf"}), isolated=True),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", extract_docx,
                     frozenset({"docx"}), isolated=True),
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
    return extension, FILE_TYPES[extension].mime_type


def content_check(*, filename: str, extension: str, data: bytes) -> None:
    """Refuse a file whose content is not what its extension says (FileTypeMismatch)."""
    content = sniff(data)
    if content.kind not in FILE_TYPES[extension].contents:
        raise FileTypeMismatch(
            f"{filename!r} is named .{extension} but its content looks like {content.description}; "
            "upload it with the extension that matches what it is.",
            details={"extension": f".{extension}", "looks_like": content.kind},
        )


def extract_text(data: bytes, extension: str, limits: Limits | None = None) -> ExtractedText:
    """The text of a file, read in this process (rag.extraction.isolation reads untrusted ones)."""
    extracted = FILE_TYPES[extension].extract(data, limits or Limits.from_settings())
    if not extracted.text.strip():
        raise ExtractionError("The document contains no readable text.")
    return extracted
