"""Reading an untrusted file without risking the process that asked.

A PDF, a .docx or an HTML page is parsed in a child process (`python -m rag.extraction`)
whose address space and CPU time are capped (setrlimit) and which is killed after
`Limits.seconds`: a file built to exhaust memory or time fails that one document with a
reason, and the Celery worker goes on with the next task. The child gets the file on stdin,
no environment secrets and no open descriptors, and answers one JSON object on stdout.
Plain text needs none of this: decoding it is linear and bounded by the upload size.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from rag.extraction.file_types import FILE_TYPES, extract_text
from rag.extraction.formats import ExtractedText, ExtractionError, Limits

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def extract_upload(data: bytes, extension: str, limits: Limits | None = None) -> ExtractedText:
    """The text of an uploaded file, read within `limits` (settings by default)."""
    limits = limits or Limits.from_settings()
    if not FILE_TYPES[extension].isolated:
        return extract_text(data, extension, limits)
    command = [sys.executable, "-m", "rag.extraction", extension, json.dumps(asdict(limits))]
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    try:
        finished = subprocess.run(command, input=data, capture_output=True, timeout=limits.seconds,
                                  cwd=PROJECT_ROOT, env=environment, check=False)
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise ExtractionError(f"Reading the file took longer than {limits.seconds:g} s, so it was stopped (a file "
                              "built to be slow to read?). Try a simpler export of the document.") from exc
    if finished.returncode != 0:
        logger.warning("extraction of a .%s file ended with status %s: %s", extension, finished.returncode,
                       finished.stderr[-2000:].decode(errors="replace"))
        raise ExtractionError(_ended_reason(finished.returncode, limits))
    try:
        result = json.loads(finished.stdout)
    except ValueError as exc:
        raise ExtractionError("The reader's answer on this file could not be understood; it could not be read.") from exc
    if "error" in result:
        raise ExtractionError(result["error"])
    return ExtractedText(result["text"], result["page_starts"])


def _ended_reason(returncode: int, limits: Limits) -> str:
    if returncode == -signal.SIGXCPU:
        return (f"Reading the file used more than {limits.seconds:g} s of processor time, so it was stopped (a file "
                "built to be slow to read?). Try a simpler export of the document.")
    if returncode == -signal.SIGKILL:
        return "Reading the file was stopped by the system (out of memory?). Try a simpler export of the document."
    return f"The reader stopped unexpectedly on this file (exit status {returncode}); it could not be read."


def memory_reason(limits: Limits) -> str:
    return (f"Reading the file needed more than {limits.memory_mb} MB of memory, so it was stopped (a file built "
            "to exhaust the reader?). Try a simpler export of the document.")
