"""The labelled questions that measure expert ranking, and the measures.

questions.yaml holds every labelled question with the experts a senior professional would
want on its panel (most important first) and its split: `train` (70%, the only questions
weights may be fitted on) or `test` (30%, reported). The split was drawn once, stratified by
the domain of each question's first expert, and is kept in the file so it never moves.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import yaml

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"


def questions_load(split: str | None = None) -> list[dict]:
    """The labelled questions (of one split, if given)."""
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    return [q for q in questions if split is None or q["split"] == split]


def precision_at_5(ranked: list[str], expected: list[str]) -> float:
    return len(set(ranked[:5]) & set(expected)) / 5


def ndcg_at_5(ranked: list[str], expected: list[str]) -> float:
    """Binary relevance: an expected expert at rank i gains 1 / log2(i + 1)."""
    wanted = set(expected)
    dcg = sum(1 / math.log2(i + 2) for i, slug in enumerate(ranked[:5]) if slug in wanted)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), 5)))
    return dcg / ideal if ideal else 0.0


def hubness(rankings: list[list[str]]) -> tuple[float, str | None]:
    """The largest share of the questions in which one expert is in the top 5, and who."""
    if not rankings:
        return 0.0, None
    counts = Counter(slug for ranked in rankings for slug in set(ranked[:5]))
    slug, count = counts.most_common(1)[0] if counts else (None, 0)
    return count / len(rankings), slug
