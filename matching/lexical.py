"""The lexical channel: curated terms of each indicator's topic found in the document, weighted by rarity."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matching.chunking import Chunk
from matching.profiles import IndicatorProfile
from matching.text import phrase_pattern, terms


@dataclass(frozen=True)
class TermHits:
    body: np.ndarray  # per indicator: Σ over its terms of idf × log(1 + occurrences)
    best_chunk: np.ndarray  # per indicator: the chunk holding most of its weight, -1 if none


class TermIndex:
    """All curated terms compiled once; a term shared by several topics counts for less (idf over topics)."""

    def __init__(
        self,
        profiles: Sequence[IndicatorProfile],
        vocabulary: Callable[[IndicatorProfile], tuple[str, ...]] = lambda profile: profile.terms,
    ) -> None:
        """vocabulary: the phrases of a profile this index looks for (its terms; a budget's activity names too)."""
        self.terms = sorted({term for profile in profiles for term in vocabulary(profile)})
        self.patterns = [phrase_pattern(term) for term in self.terms]
        column = {term: number for number, term in enumerate(self.terms)}
        topics: dict[str, set[str]] = {}
        for profile in profiles:
            topics.setdefault(profile.topic, set()).update(vocabulary(profile))
        topic_count = np.array([sum(term in held for held in topics.values()) for term in self.terms])
        membership = np.zeros((len(profiles), len(self.terms)))
        for row, profile in enumerate(profiles):
            membership[row, [column[term] for term in vocabulary(profile)]] = 1.0
        self.weighted = membership * np.log1p(len(topics) / topic_count)  # indicators × terms

    def count(self, text: str) -> np.ndarray:
        lowered = text.lower()
        return np.array([len(pattern.findall(lowered)) for pattern in self.patterns], dtype=float)

    def hits(self, chunks: Sequence[Chunk]) -> TermHits:
        per_chunk = np.array([self.count(chunk.text) for chunk in chunks]) if chunks else np.zeros((0, len(self.terms)))
        body = self.weighted @ np.log1p(per_chunk.sum(axis=0))
        chunk_weight = per_chunk @ self.weighted.T  # chunks × indicators
        best = np.where(chunk_weight.max(axis=0, initial=0) > 0, chunk_weight.argmax(axis=0) if len(chunks) else -1, -1)
        return TermHits(body=body, best_chunk=best)

    def first_place(self, text: str, row: int) -> int | None:
        """Where in the text the first of an indicator's terms stands (text and its lower case align), if any."""
        lowered = text.lower()
        found = [
            match.start()
            for weight, pattern in zip(self.weighted[row], self.patterns)
            if weight and (match := pattern.search(lowered))
        ]
        return min(found) if found and len(lowered) == len(text) else None

    def presence(self, text: str, of: np.ndarray | None = None) -> np.ndarray:
        """Per indicator: Σ of idf over its terms present in a text (a title, a subject, headings). of: the indicators
        whose terms are looked for (the others read 0), to spare a whole document the search for every term."""
        lowered = text.lower()
        wanted = self.weighted[of].any(axis=0) if of is not None else np.ones(len(self.terms), dtype=bool)
        present = [bool(want) and pattern.search(lowered) is not None for want, pattern in zip(wanted, self.patterns)]
        return self.weighted @ np.array(present, dtype=float)


BM25_K1 = 1.2
BM25_B = 0.75


class ProfileBM25:
    """BM25 of each indicator's own words (name, description, evidence, terms) against the document's words.

    The document is the query: its stemmed words, each counted once with a log weight for repetition, so a
    long document is not favoured merely for its length.
    """

    def __init__(self, profiles: Sequence[IndicatorProfile], generic: frozenset[str] = frozenset()) -> None:
        self.generic = generic  # the framework's words in every indicator, from the profile file
        bags = [Counter(terms(" ".join((*profile.texts, *profile.terms)), generic)) for profile in profiles]
        self.vocabulary = {word: column for column, word in enumerate(sorted({w for bag in bags for w in bag}))}
        frequency = np.zeros((len(bags), len(self.vocabulary)))
        for row, bag in enumerate(bags):
            for word, count in bag.items():
                frequency[row, self.vocabulary[word]] = count
        lengths = frequency.sum(axis=1, keepdims=True)
        document_frequency = (frequency > 0).sum(axis=0)
        idf = np.log1p((len(bags) - document_frequency + 0.5) / (document_frequency + 0.5))
        saturation = frequency * (BM25_K1 + 1) / (frequency + BM25_K1 * (1 - BM25_B + BM25_B * lengths / lengths.mean()))
        self.weights = saturation * idf  # indicators × vocabulary

    def scores(self, text: str) -> np.ndarray:
        query = np.zeros(len(self.vocabulary))
        for word, count in Counter(terms(text, self.generic)).items():
            column = self.vocabulary.get(word)
            if column is not None:
                query[column] = np.log1p(count)
        return self.weights @ query
