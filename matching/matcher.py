"""Score a document against every indicator and decide: supports, review or none.

Three channels meet in one calibrated score per indicator: dense similarity (sentence-transformers),
curated terms of the indicator's topic (lexical), and the document's form (a policy document for the
Kebijakan Internal indicators, a file name that cites an indicator). A logistic fusion with named weights
from the profile data file turns them into a probability-like score in [0, 1].
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np

from matching.chunking import Chunk, ChunkingPolicy
from matching.embedder import Embedder
from matching.lexical import ProfileBM25, TermIndex
from matching.profiles import IndicatorKind, ProfileError, ProfileSet
from matching.structure import DocumentStructure

PASSAGE_CHARS = 400  # enough of a chunk for a reviewer to recognise the evidence
FINGERPRINT_CHARS = 16
# The features of the fusion, in order; the profile file names a weight for each.
FEATURES = (
    "bias", "terms", "terms_share", "title_terms", "bm25_relative", "dense_relative", "dense",
    "policy_fit", "practice_in_policy", "file_name", "length",
)
LENGTH_UNIT_WORDS = 100  # the length feature is log(1 + words / unit): long texts mention more in passing


class Decision(StrEnum):
    SUPPORTS = "supports"
    REVIEW = "review"
    NONE = "none"


@dataclass(frozen=True)
class Thresholds:
    """Named cut-offs on the fused score; configurable per deployment."""

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
    """Everything about the indicators that a match needs, computed once per process and model."""

    def __init__(self, profile_set: ProfileSet, embedder: Embedder) -> None:
        self.profiles = list(profile_set.profiles)
        self.indicators = np.array([profile.indicator for profile in self.profiles])
        texts = [text for profile in self.profiles for text in profile.texts]
        owner = np.array([profile.indicator for profile in self.profiles for _ in profile.texts])
        self.text_columns = [owner == number for number in self.indicators]  # each indicator's profile texts
        self.vectors = embedder.encode(texts)
        self.terms = TermIndex(self.profiles)
        self.bm25 = ProfileBM25(self.profiles)
        self.is_policy = np.array([profile.kind is IndicatorKind.POLICY for profile in self.profiles])
        self.is_practice = np.array([profile.kind is IndicatorKind.PRACTICE for profile in self.profiles])
        missing = [name for name in FEATURES if name not in profile_set.weights]
        if missing:
            raise ProfileError(f"the profile file's fusion weights lack {missing}")
        self.weights = np.array([profile_set.weights[name] for name in FEATURES])


def matching_fingerprint(
    model: str, profile_set: ProfileSet, thresholds: Thresholds, policy: ChunkingPolicy, top_k: int
) -> str:
    """Changes whenever a stored match could change: model, profiles, weights, thresholds, chunking, top K."""
    payload = {
        "model": model,
        "profiles": [asdict(profile) for profile in profile_set.profiles],
        "markers": profile_set.policy_markers,
        "weights": profile_set.weights,
        "thresholds": asdict(thresholds),
        "chunking": policy.key,
        "top_k": top_k,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:FINGERPRINT_CHARS]


def features(
    chunks: Sequence[Chunk], chunk_vectors: np.ndarray, structure: DocumentStructure, index: IndicatorIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Indicators × FEATURES, and for each indicator the chunk that best shows it."""
    similarity = chunk_vectors @ index.vectors.T  # chunks × profile texts
    per_indicator = np.column_stack([similarity[:, columns].max(axis=1) for columns in index.text_columns])
    dense, dense_chunk = per_indicator.max(axis=0), per_indicator.argmax(axis=0)
    hits = index.terms.hits(chunks, structure.title)
    bm25 = index.bm25.scores(" ".join(chunk.text for chunk in chunks))
    policy_doc = float(structure.is_policy)
    table = np.column_stack(
        [
            np.ones(len(index.indicators)),
            np.log1p(hits.body),
            hits.body / (hits.body.max() or 1.0),
            hits.title,
            standardise(bm25),
            standardise(dense),
            dense,
            np.where(index.is_policy, 2 * policy_doc - 1, 0.0),
            index.is_practice * policy_doc,
            (index.indicators == structure.filename_indicator).astype(float),
            np.full(len(index.indicators), np.log1p(sum(len(c.text.split()) for c in chunks) / LENGTH_UNIT_WORDS)),
        ]
    )
    best_chunk = np.where(hits.best_chunk >= 0, hits.best_chunk, dense_chunk)
    return table, best_chunk


def standardise(values: np.ndarray) -> np.ndarray:
    """How far each indicator stands out from the others for this document (a z-score)."""
    return (values - values.mean()) / (values.std() or 1.0)


def fuse(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The logistic fusion: one score in [0, 1] per indicator."""
    return 1.0 / (1.0 + np.exp(-(table @ weights)))


def match_chunks(
    chunks: Sequence[Chunk],
    chunk_vectors: np.ndarray,
    structure: DocumentStructure,
    index: IndicatorIndex,
    thresholds: Thresholds,
    top_k: int,
) -> list[Match]:
    """The best top_k indicators, best first; each with the page and passage that earned its score."""
    if not chunks:
        return []
    table, best_chunk = features(chunks, chunk_vectors, structure, index)
    scores = fuse(table, index.weights)
    order = sorted(range(len(scores)), key=lambda row: (-scores[row], index.indicators[row]))[:top_k]
    return [
        Match(
            indicator=int(index.indicators[row]),
            score=round(float(scores[row]), 4),
            decision=thresholds.decide(float(scores[row])),
            page=chunks[best_chunk[row]].page,
            passage=chunks[best_chunk[row]].text[:PASSAGE_CHARS],
        )
        for row in order
    ]
