"""Consensus computed from the contributions, never guessed from wording.

For every pair of members, agreement is a weighted mix of
- semantic similarity of their final positions (embeddings, rescaled: cosine 0.2 -> 0, 0.9 -> 1),
- stance agreement (same stance 1, neutral vs a side 0.5, opposite sides 0),
- estimate agreement when both gave one (1 - |difference|),
and the panel score is the confidence-weighted mean over pairs (weight = c_i x c_j).
Dissenters are members whose agreement with the rest is well below the panel's, or who
hold the minority stance with conviction; their reasons are their own key points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llm.embeddings import get_embedder

WEIGHTS = {"semantic": 0.4, "stance": 0.4, "estimate": 0.2}
LEVELS = ((0.80, "high"), (0.50, "medium"), (0.0, "low"))
STANCE_AGREEMENT = {
    ("support", "support"): 1.0, ("oppose", "oppose"): 1.0, ("neutral", "neutral"): 1.0,
    ("support", "neutral"): 0.5, ("oppose", "neutral"): 0.5, ("support", "oppose"): 0.0,
}
DISSENT_GAP = 0.15
POINT_SIMILARITY = 0.72


@dataclass
class Position:
    member_id: int
    name: str
    role: str
    stance: str
    position: str
    confidence: float
    estimate: float | None
    key_points: list[str]


def position_text(position) -> str:
    """What a member's position is compared by: its one-line position, else its key points."""
    return position.position or " ".join(position.key_points)


def level_for(score: float) -> str:
    return next(label for floor, label in LEVELS if score >= floor)


def _stance_agreement(a: str, b: str) -> float:
    return STANCE_AGREEMENT.get((a, b), STANCE_AGREEMENT.get((b, a), 0.5))


def stance_weights(positions: list[Position]) -> dict[str, float]:
    """Each stance's confidence-weighted support."""
    weights: dict[str, float] = {}
    for p in positions:
        weights[p.stance] = weights.get(p.stance, 0.0) + max(p.confidence, 0.05)
    return weights


def majority_stance(positions: list[Position]) -> str:
    """The stance with the most confidence-weighted support (no embeddings needed)."""
    weights = stance_weights(positions)
    return max(sorted(weights), key=lambda s: weights[s]) if weights else "neutral"


def compute_consensus(positions: list[Position], *, threshold: float, embedder=None) -> dict:
    if len(positions) < 2:
        only = positions[0].stance if positions else "neutral"
        return {"score": 1.0 if positions else 0.0, "level": "high" if positions else "low", "threshold": threshold,
                "reached": bool(positions), "majority_stance": only, "agreement_points": [], "dissent": [],
                "matrix": {"labels": [p.name for p in positions], "values": [[1.0]] if positions else []},
                "method": {"weights": WEIGHTS, "pairs": 0}}
    embedder = embedder or get_embedder()
    vectors = embedder.embed([position_text(p) for p in positions])
    cosine = vectors @ vectors.T
    semantic = np.clip((cosine - 0.2) / 0.7, 0.0, 1.0)
    n = len(positions)
    matrix = np.eye(n)
    weighted_sum = weight_total = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            a, b = positions[i], positions[j]
            parts = {"semantic": float(semantic[i, j]), "stance": _stance_agreement(a.stance, b.stance)}
            if a.estimate is not None and b.estimate is not None:
                parts["estimate"] = 1.0 - abs(a.estimate - b.estimate)
            total_weight = sum(WEIGHTS[k] for k in parts)
            agreement = sum(WEIGHTS[k] * v for k, v in parts.items()) / total_weight
            matrix[i, j] = matrix[j, i] = agreement
            pair_weight = max(a.confidence, 0.05) * max(b.confidence, 0.05)
            weighted_sum += pair_weight * agreement
            weight_total += pair_weight
    score = round(weighted_sum / weight_total, 4)

    stance_weight = stance_weights(positions)
    majority = majority_stance(positions)

    dissent = []
    for i, p in enumerate(positions):
        with_others = (matrix[i].sum() - 1.0) / (n - 1)
        minority = p.stance != majority and p.confidence >= 0.5
        if with_others < score - DISSENT_GAP or minority:
            dissent.append({
                "member_id": p.member_id, "name": p.name, "role": p.role, "stance": p.stance,
                "position": p.position, "confidence": p.confidence, "agreement_with_panel": round(float(with_others), 3),
                "reasons": p.key_points[:3] or [p.position],
            })

    return {
        "score": score, "level": level_for(score), "threshold": threshold, "reached": score >= threshold,
        "majority_stance": majority, "agreement_points": agreement_points(positions, embedder),
        "dissent": dissent,
        "matrix": {"labels": [p.name for p in positions], "values": [[round(float(v), 3) for v in row] for row in matrix]},
        "method": {"weights": WEIGHTS, "pairs": n * (n - 1) // 2, "stance_weight": stance_weight},
    }


def agreement_points(positions: list[Position], embedder=None) -> list[dict]:
    """Key points that at least half the members make, grouped by meaning."""
    points = [(p.name, point) for p in positions for point in p.key_points if point.strip()]
    if not points:
        return []
    embedder = embedder or get_embedder()
    vectors = embedder.embed([text for _, text in points])
    clusters: list[dict] = []
    for (name, text), vector in zip(points, vectors):
        for cluster in clusters:
            if float(cluster["vector"] @ vector) >= POINT_SIMILARITY:
                cluster["members"].add(name)
                break
        else:
            clusters.append({"text": text, "vector": vector, "members": {name}})
    needed = max(2, (len(positions) + 1) // 2)
    shared = [c for c in clusters if len(c["members"]) >= needed]
    shared.sort(key=lambda c: (-len(c["members"]), c["text"]))
    return [{"point": c["text"], "supporters": sorted(c["members"])} for c in shared[:6]]


def themes(key_points: list[tuple[str, str]], limit: int = 3, embedder=None) -> list[dict]:
    """The most shared themes of a round (open panels show them to the next round)."""
    if not key_points:
        return []
    vectors = (embedder or get_embedder()).embed([text for _, text in key_points])
    clusters: list[dict] = []
    for (name, text), vector in zip(key_points, vectors):
        for cluster in clusters:
            if float(cluster["vector"] @ vector) >= POINT_SIMILARITY - 0.1:
                cluster["members"].add(name)
                break
        else:
            clusters.append({"text": text, "vector": vector, "members": {name}})
    clusters.sort(key=lambda c: (-len(c["members"]), c["text"]))
    return [{"theme": c["text"], "raised_by": sorted(c["members"])} for c in clusters[:limit]]
