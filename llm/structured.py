"""Reading a structured (JSON) answer out of a model's reply."""

from __future__ import annotations

import json
import re

FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def extract_json_object(text: str) -> dict:
    """The JSON object in a model's reply: in a code fence, bare, or inside prose."""
    for candidate in [m.group(1) for m in FENCE.finditer(text)] + _balanced_objects(text):
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("no JSON object found in the reply")


def _balanced_objects(text: str) -> list[str]:
    found, depth, start, in_string, escaped = [], 0, None, False, False
    for index, char in enumerate(text):
        if in_string:
            escaped = (char == "\\") and not escaped
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start : index + 1])
    return sorted(found, key=len, reverse=True)
