"""The child process of rag.extraction.isolation: `python -m rag.extraction <extension>
<limits as JSON>` reads the file on stdin and writes {"text", "page_starts"} or {"error"}."""

import json
import math
import resource
import sys

from rag.extraction.file_types import extract_text
from rag.extraction.formats import MB, ExtractionError, Limits
from rag.extraction.isolation import memory_reason


def main(extension: str, limits: Limits) -> dict:
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU, should the parent's timeout not fire
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    try:
        extracted = extract_text(data, extension, limits)
        return {"text": extracted.text, "page_starts": extracted.page_starts}
    except ExtractionError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": memory_reason(limits)}
    except Exception as exc:  # noqa: BLE001 - a parser meeting a hostile file can raise anything
        return {"error": f"The file could not be read ({type(exc).__name__}: {exc})."}


if __name__ == "__main__":
    result = main(sys.argv[1], Limits(**json.loads(sys.argv[2])))
    sys.stdout.buffer.write(json.dumps(result).encode())
