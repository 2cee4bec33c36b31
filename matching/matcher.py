"""Score a document against every indicator and decide: supports, review or none."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np

from matching.chunking import Chunk, ChunkingPolicy
from matching.embedder import Embedder
from matching.profiles import IndicatorProfile

PASSAGE_CHARS = 400  # enough of a chunk for a reviewer to recognise the evidence
FINGERPRINT_CHARS = 16


class Decision(StrEnum):
    SUPPORTS = "supports"
    REVIEW = "review"
    NONE = "none"


@dataclass(frozen=True)
class Thresholds:
    """Named cut-offs on the match score; configurable because every model scores on its own scale."""

    supports: float
    review: float

    def __post_init__(self) -> None:
        if self.review > self.supports:
            raise ValueError("the review threshold must not exceed the supports threshold")

    def decide(self, score: float) -> Decision:
        if score >= self.supports:
            return Decision.SUPPORTS
        if score >= self.review:
            return Decision.REVIEW
        return Decision.NONE


@dataclass(frozen=True)
class Match:
    indicator: int
    score: float
    decision: Decision
    page: int | None
    passage: str

    def to_dict(self) -> dict:
        return asdict(self)


class IndicatorIndex:
    """Profile vectors of all indicators, embedded once per process and model."""

    def __init__(self, profiles: Sequence[IndicatorProfile], embedder: Embedder) -> None:
        self.profiles = list(profiles)
        texts = [text for profile in self.profiles for text in profile.texts]
        self.owner = np.array([profile.indicator for profile in self.profiles for _ in profile.texts])
        self.indicators = [profile.indicator for profile in self.profiles]
        self.vectors = embedder.encode(texts)


def matching_fingerprint(
    model: str, profiles: Sequence[IndicatorProfile], thresholds: Thresholds, policy: ChunkingPolicy, top_k: int
) -> str:
    """Changes whenever a stored match could change: model, profiles, thresholds, chunking, top K."""
    payload = {
        "model": model,
        "profiles": [asdict(profile) for profile in profiles],
        "thresholds": asdict(thresholds),
        "chunking": policy.key,
        "top_k": top_k,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:FINGERPRINT_CHARS]


def match_chunks(
    chunks: Sequence[Chunk], chunk_vectors: np.ndarray, index: IndicatorIndex, thresholds: Thresholds, top_k: int
) -> list[Match]:
    """The best top_k indicators, best first; each with the chunk that earned its score."""
    if not chunks:
        return []
    similarity = chunk_vectors @ index.vectors.T  # chunks × profile texts
    matches = []
    for indicator in index.indicators:
        columns = similarity[:, index.owner == indicator]
        chunk_no, _ = np.unravel_index(int(np.argmax(columns)), columns.shape)
        score = float(columns[chunk_no].max())
        best = chunks[int(chunk_no)]
        matches.append(
            Match(indicator, round(score, 4), thresholds.decide(score), best.page, best.text[:PASSAGE_CHARS])
        )
    matches.sort(key=lambda match: (-match.score, match.indicator))
    return matches[:top_k]
