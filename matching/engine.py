"""One object that matches documents the way settings say: chunking, model, profiles, fusion, thresholds, top K."""
from __future__ import annotations

from functools import cached_property

import numpy as np

from catalog import Framework
from extractors.document import Document
from matching.chunking import Chunk, ChunkingPolicy, chunk_document, joined_text
from matching.embedder import Embedder, load_embedder, model_key
from matching.matcher import IndicatorIndex, Match, Thresholds, match_chunks, matching_fingerprint
from matching.profiles import ProfileSet, load_profiles
from matching.structure import DocumentStructure, read_structure
from settings import Settings


class Matcher:
    """Built from settings and a framework; the model loads on first use, so cache hits cost no model."""

    def __init__(self, settings: Settings, framework: Framework, top_k: int | None = None, region: str = "") -> None:
        """`region`: the government whose evidence this is (the SKPD registry's), so that a policy another one enacted
        counts for nothing; empty (evaluation on documents of many governments) leaves that rule off."""
        self.region = region
        self.model_name = settings.model
        self.model_prompt = settings.model_prompt
        self.model_key = model_key(settings.model, settings.model_prompt)  # what stored embeddings are kept under
        self.batch_size = settings.embed_batch_size
        self.top_k = top_k or settings.top_k
        self.thresholds = Thresholds(
            supports=settings.supports_threshold,
            review=settings.review_threshold,
            best_supports=settings.best_supports_threshold,
            announced_supports=settings.announced_supports_threshold,
        )
        self.chunking = ChunkingPolicy(
            words=settings.chunk_words,
            overlap_words=settings.chunk_overlap_words,
            max_chunks=settings.max_chunks_per_document,
        )
        self.profiles: ProfileSet = load_profiles(settings.profiles_file, framework)
        self.indicator_numbers = range(1, len(framework.indicators) + 1)
        self.fingerprint = matching_fingerprint(
            self.model_key, self.profiles, self.thresholds, self.chunking, self.top_k, region=region
        )

    @cached_property
    def embedder(self) -> Embedder:
        return load_embedder(self.model_name, self.model_prompt, self.batch_size)

    @cached_property
    def index(self) -> IndicatorIndex:
        return IndicatorIndex(self.profiles, self.embedder)

    def embed(self, document: Document) -> tuple[list[Chunk], np.ndarray]:
        chunks = chunk_document(document, self.chunking)
        return chunks, self.embedder.encode([chunk.text for chunk in chunks])

    def structure(self, chunks: list[Chunk], filename: str) -> DocumentStructure:
        """Read from the chunks, so a rematch from stored embeddings needs no stored text."""
        text = joined_text(chunks, self.chunking)
        return read_structure(text, filename, self.profiles.structure_markers, self.indicator_numbers, self.region)

    def match(self, chunks: list[Chunk], vectors: np.ndarray, filename: str = "") -> list[Match]:
        return match_chunks(chunks, vectors, self.structure(chunks, filename), self.index, self.thresholds, self.top_k)
