"""The lexical channel: curated terms of each indicator's topic found in the document, weighted by rarity."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.chunking import Chunk
from matching.profiles import IndicatorProfile
from matching.text import phrase_pattern


@dataclass(frozen=True)
class TermHits:
    body: np.ndarray  # per indicator: Σ over its terms of idf × log(1 + occurrences)
    title: np.ndarray  # per indicator: Σ over its terms present in the title of idf
    best_chunk: np.ndarray  # per indicator: the chunk holding most of its weight, -1 if none


class TermIndex:
    """All curated terms compiled once; a term shared by several topics counts for less (idf over topics)."""

    def __init__(self, profiles: Sequence[IndicatorProfile]) -> None:
        self.terms = sorted({term for profile in profiles for term in profile.terms})
        self.patterns = [phrase_pattern(term) for term in self.terms]
        column = {term: number for number, term in enumerate(self.terms)}
        topics: dict[str, set[str]] = {}
        for profile in profiles:
            topics.setdefault(profile.topic, set()).update(profile.terms)
        topic_count = np.array([sum(term in held for held in topics.values()) for term in self.terms])
        self.idf = np.log1p(len(topics) / topic_count)
        self.membership = np.zeros((len(profiles), len(self.terms)))
        for row, profile in enumerate(profiles):
            self.membership[row, [column[term] for term in profile.terms]] = 1.0

    def count(self, text: str) -> np.ndarray:
        lowered = text.lower()
        return np.array([len(pattern.findall(lowered)) for pattern in self.patterns], dtype=float)

    def hits(self, chunks: Sequence[Chunk], title: str) -> TermHits:
        per_chunk = np.array([self.count(chunk.text) for chunk in chunks]) if chunks else np.zeros((0, len(self.terms)))
        weighted = self.membership * self.idf  # indicators × terms
        body = weighted @ np.log1p(per_chunk.sum(axis=0))
        title_present = (self.count(title) > 0).astype(float)
        chunk_weight = per_chunk @ weighted.T  # chunks × indicators
        best = np.where(chunk_weight.max(axis=0, initial=0) > 0, chunk_weight.argmax(axis=0) if len(chunks) else -1, -1)
        return TermHits(body=body, title=weighted @ title_present, best_chunk=best)

