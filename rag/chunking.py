"""Chunking that respects headings and paragraphs, with overlap, within a token budget.

A chunk is always one contiguous slice of the extracted text (`text[char_start:char_end]`),
so its span can be shown and checked. It never crosses a heading; it carries the heading
path it sits under. Overlap repeats the last sentences of the previous chunk of the same
section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.extraction import ExtractedText

TOKEN = re.compile(r"\w+|[^\w\s]")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def count_tokens(text: str) -> int:
    """Word pieces and punctuation: close to a BERT tokenizer's count for English prose."""
    return len(TOKEN.findall(text))


@dataclass(frozen=True)
class ChunkSpec:
    ordinal: int
    text: str
    heading: str
    char_start: int
    char_end: int
    page: int | None
    token_count: int

    @property
    def text_for_embedding(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a run of words of a giant sentence); `last` if it ends its paragraph."""

    start: int
    end: int
    tokens: int
    last: bool


def _blocks(text: str):
    """(start, end) of every paragraph-like block, separated by blank lines."""
    for match in re.finditer(r"[^\n](?:.|\n(?!\n))*", text):
        yield match.start(), match.end()


def _units(text: str, start: int, end: int, max_tokens: int) -> list[_Unit]:
    block = text[start:end]
    units: list[_Unit] = []
    offset = 0
    for piece in SENTENCE_END.split(block):
        if not piece:
            continue
        piece_start = block.index(piece, offset)
        offset = piece_start + len(piece)
        absolute = start + piece_start
        piece_tokens = count_tokens(piece)
        if piece_tokens <= max_tokens:
            units.append(_Unit(absolute, absolute + len(piece), piece_tokens, False))
            continue
        words = list(re.finditer(r"\S+", piece))  # a giant sentence: cut into runs of words
        step = max(1, max_tokens // 2)
        for index in range(0, len(words), step):
            run = words[index : index + step]
            units.append(_Unit(absolute + run[0].start(), absolute + run[-1].end(),
                               count_tokens(piece[run[0].start():run[-1].end()]), False))
    if units:
        units[-1] = _Unit(units[-1].start, units[-1].end, units[-1].tokens, True)
    return units


def chunk_text(extracted: ExtractedText, *, max_tokens: int = 200, overlap_tokens: int = 40) -> list[ChunkSpec]:
    text = extracted.text
    chunks: list[ChunkSpec] = []
    headings: list[str] = []
    section: list[_Unit] = []

    def emit(units: list[_Unit]):
        start, end = units[0].start, units[-1].end
        body = text[start:end]
        chunks.append(ChunkSpec(ordinal=len(chunks), text=body, heading=" › ".join(headings), char_start=start,
                                char_end=end, page=extracted.page_at(start), token_count=count_tokens(body)))

    def flush_section():
        current: list[_Unit] = []
        for unit in section:
            if current and sum(u.tokens for u in current) + unit.tokens > max_tokens:
                cut = _paragraph_cut(current, max_tokens)
                emit(current[:cut])
                current = _overlap(current[:cut], overlap_tokens) + current[cut:]
                while current and sum(u.tokens for u in current) + unit.tokens > max_tokens:
                    current = current[1:]  # the overlap must leave room for what comes next
            current.append(unit)
        if current:
            emit(current)
        section.clear()

    for start, end in _blocks(text):
        heading = HEADING.match(text[start:end])
        if heading and "\n" not in text[start:end]:
            flush_section()
            level = len(heading.group(1))
            headings[:] = headings[: level - 1] + [heading.group(2).strip()]
            continue
        section.extend(_units(text, start, end, max_tokens))
    flush_section()
    return chunks


def _paragraph_cut(units: list[_Unit], max_tokens: int) -> int:
    """Where to end a full chunk: after its last paragraph end, if that keeps it at least half full."""
    total = 0
    best = len(units)
    for index, unit in enumerate(units):
        total += unit.tokens
        if unit.last and total >= max_tokens // 2:
            best = index + 1
    return best


def _overlap(units: list[_Unit], overlap_tokens: int) -> list[_Unit]:
    """The trailing sentences of a chunk that fit in the overlap budget."""
    kept: list[_Unit] = []
    budget = overlap_tokens
    for unit in reversed(units):
        if unit.tokens > budget:
            break
        kept.insert(0, unit)
        budget -= unit.tokens
    return kept
