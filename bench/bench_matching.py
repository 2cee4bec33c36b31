"""Matching benchmark: embedding throughput against the raw model on the same chunks, and the cost of a
rematch after a profile change relative to a cold run (real S3 server, SQLite state, the configured model).

    .venv/bin/python bench/bench_matching.py [--documents N] [--words W]

Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from fpdf import FPDF

from catalog import load_framework
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from flows.pipeline import Pipeline
from matching.engine import Matcher
from settings import Settings
from spbe_evidence.samples import load_samples
from storage import layout
from storage.local_server import LocalS3Server

BENCH_KEY = "bench-key"
BENCH_SECRET = "bench-secret-key"
WORDS_PER_PAGE = 400
YEAR = 2026
SEED = 7


def synthetic_text(words: int, rng: random.Random) -> str:
    """Indonesian-looking text made of the demo samples' sentences, shuffled."""
    sentences = [p for sample in load_samples() for page in sample.pages for p in page]
    out: list[str] = []
    while len(out) < words:
        out.extend(rng.choice(sentences).split())
    return " ".join(out[:words])


def as_document(text: str) -> Document:
    words = text.split()
    pages = [
        Page(n + 1, [Block(BlockKind.PARAGRAPH, " ".join(words[i : i + WORDS_PER_PAGE]))], TextSource.TEXT_LAYER)
        for n, i in enumerate(range(0, len(words), WORDS_PER_PAGE))
    ]
    return Document(Status.OK, kind="pdf", pages=pages)


def throughput(matcher: Matcher, documents: list[Document]) -> None:
    chunks = [chunk for document in documents for chunk in matcher.embed(document)[0]]  # also warms the model
    texts = [chunk.text for chunk in chunks]
    tokenizer = matcher.embedder.model.tokenizer
    tokens = sum(min(len(tokenizer(text)["input_ids"]), matcher.embedder.model.max_seq_length) for text in texts)
    started = time.perf_counter()
    matcher.embedder.model.encode(
        texts, prompt=matcher.embedder.prompt, batch_size=matcher.batch_size, normalize_embeddings=True
    )
    raw = time.perf_counter() - started
    started = time.perf_counter()
    for document in documents:
        matcher.embed(document)
    ours = time.perf_counter() - started
    print(f"chunks {len(texts)}, tokens {tokens} (model {matcher.model_key})")
    print(f"raw model.encode:     {len(texts) / raw:8.1f} chunks/s {tokens / raw:9.0f} tokens/s")
    print(f"Matcher.embed:        {len(texts) / ours:8.1f} chunks/s {tokens / ours:9.0f} tokens/s "
          f"({raw / ours:.0%} of raw)")


def rematch(documents: list[str], settings: Settings, work: Path) -> None:
    pipeline = Pipeline(settings)
    pipeline.store.ensure_bucket()
    for number, text in enumerate(documents):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, text)
        pipeline.store.put_bytes(layout.submission_key(YEAR, "bappeda", f"dok-{number}.pdf"), bytes(pdf.output()))

    def run(pipe: Pipeline, run_id: str) -> float:
        started = time.perf_counter()
        for obj in pipe.discover(YEAR).objects:
            pipe.process(obj, run_id)
        return time.perf_counter() - started

    pipeline.matcher.index  # the model load is a per-process cost, not a run's
    cold = run(pipeline, "cold")
    profiles = json.loads(settings.profiles_file.read_text(encoding="utf-8"))
    profiles["topics"]["peta_rencana"]["terms"].append("rencana strategis spbe")
    edited = work / "profiles.json"
    edited.write_text(json.dumps(profiles, ensure_ascii=False))
    changed = Pipeline(settings.model_copy(update={"profiles_file": edited}))
    changed.matcher.index
    again = run(changed, "rematch")
    print(f"cold run ({len(documents)} documents: download, extract, embed, match): {cold:6.2f} s")
    print(f"rematch after a profile change (stored embeddings):           {again:6.2f} s "
          f"({again / cold:.1%} of cold)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--words", type=int, default=1500)
    args = parser.parse_args()
    rng = random.Random(SEED)
    texts = [synthetic_text(args.words, rng) for _ in range(args.documents)]
    base = Settings(_env_file=None)
    throughput(Matcher(base, load_framework(base.framework_file)), [as_document(text) for text in texts])
    work = Path(tempfile.mkdtemp(prefix="bench-matching-"))
    try:
        with LocalS3Server(work / "s3", BENCH_KEY, BENCH_SECRET) as server:
            settings = base.model_copy(update={
                "s3_endpoint": server.endpoint, "s3_access_key": BENCH_KEY, "s3_secret_key": BENCH_SECRET,
                "data_dir": work / "var", "database_url": f"sqlite:///{work / 'state.db'}",
            })  # fmt: skip
            rematch(texts, settings, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
