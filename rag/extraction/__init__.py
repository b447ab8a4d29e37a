"""Readable text out of an uploaded file, and the checks an untrusted file passes first.

- file_types: the supported extensions, what their content must look like, their extractor
- sniffing: what a file's bytes look like, whatever its name says (checked at upload)
- formats: one extractor per format, each bounded by Limits (pages, characters, expansion)
- isolation: extraction in a child process with bounded memory and time (at ingestion)
"""

from rag.extraction.file_types import (
    FILE_TYPES,
    FileType,
    FileTypeMismatch,
    UnsupportedFileType,
    content_check,
    extract_text,
    file_type,
)
from rag.extraction.formats import ExtractedText, ExtractionError, Limits
from rag.extraction.isolation import extract_upload

__all__ = [
    "FILE_TYPES", "ExtractedText", "ExtractionError", "FileType", "FileTypeMismatch", "Limits",
    "UnsupportedFileType", "content_check", "extract_text", "extract_upload", "file_type",
]
