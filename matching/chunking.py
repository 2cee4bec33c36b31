"""Cut a document into overlapping word windows that never cross a page, so every match can cite its page."""
from __future__ import annotations

from dataclasses import dataclass

from extractors.document import Document


@dataclass(frozen=True)
class Chunk:
    page: int
    text: str


@dataclass(frozen=True)
class ChunkingPolicy:
    words: int
    overlap_words: int
    max_chunks: int

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_words < self.words:
            raise ValueError("chunk overlap must be smaller than the chunk size")

    @property
    def key(self) -> str:
        """Identifies the chunking in the embedding cache: other chunks, other vectors."""
        return f"w{self.words}-o{self.overlap_words}-m{self.max_chunks}"


def chunk_document(document: Document, policy: ChunkingPolicy) -> list[Chunk]:
    """Word windows per page, in reading order, at most policy.max_chunks (the start matters most)."""
    step = policy.words - policy.overlap_words
    chunks: list[Chunk] = []
    for page in document.pages:
        words = page.text.split()
        for start in range(0, max(len(words) - policy.overlap_words, 1), step):
            window = words[start : start + policy.words]
            if not window:
                break
            chunks.append(Chunk(page=page.number, text=" ".join(window)))
            if len(chunks) >= policy.max_chunks:
                return chunks
    return chunks


def joined_text(chunks: list[Chunk], policy: ChunkingPolicy) -> str:
    """The document's words, each once, from its overlapping chunks: a rematch reads the document's form (how often
    it names SPBE, its headings) from stored chunks, with no stored text."""
    parts: list[str] = []
    for previous, chunk in zip([None, *chunks], chunks):
        words = chunk.text.split()
        continued = previous is not None and previous.page == chunk.page
        parts.append(" ".join(words[policy.overlap_words :] if continued else words))
    return " ".join(part for part in parts if part)
