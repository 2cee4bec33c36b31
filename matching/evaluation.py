"""Measure the matcher on labelled documents: top-1, top-3, supports precision/recall/F1, negatives rejected.

A dataset is a JSONL of labelled texts (the dev-set format: id, text, indicators) or a folder of files with a
labels.json ({"file name": {"indicators": [numbers]}}) read through extraction. Variants of the fusion
(dense-only, lexical-only) are measured in the same run from the same embeddings.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from catalog import Framework
from extractors import ExtractionLimits, extract_path
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from matching.chunking import Chunk
from matching.engine import Matcher
from matching.matcher import FEATURES, Decision, decide, features, fuse

LABELS_FILE = "labels.json"
TOP_K_WIDE = 3
FULL = "full"
# Baselines rank by one raw channel and claim their top indicator (no calibrated decision of their own):
# dense similarity alone, and BM25 with Indonesian stemming on the indicators' own words alone.
BASELINES: dict[str, str] = {"dense-only": "dense_relative", "lexical-only": "bm25_relative"}


@dataclass(frozen=True)
class LabelledDocument:
    id: str
    filename: str
    document: Document
    indicators: frozenset[int]


@dataclass
class Scores:
    """Counts behind the figures, per variant."""

    positives: int = 0
    top1: int = 0
    top3: int = 0
    negatives: int = 0
    negatives_rejected: int = 0
    predicted: int = 0
    gold: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        precision = self.correct / self.predicted if self.predicted else 0.0
        recall = self.correct / self.gold if self.gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "top1": _share(self.top1, self.positives),
            "top3": _share(self.top3, self.positives),
            "supports_precision": round(precision, 3),
            "supports_recall": round(recall, 3),
            "supports_f1": round(f1, 3),
            "negatives_rejected": _share(self.negatives_rejected, self.negatives),
        }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


class DatasetError(ValueError):
    """A labelled dataset that cannot be measured; the message names the file, the line or entry, and the form."""


JSONL_FORM = 'one JSON object per line: {"id": "...", "text": "...", "indicators": [numbers]}'
LABELS_FORM = f'{LABELS_FILE}, a JSON object: {{"file name": {{"indicators": [numbers]}}}}'


def load_dataset(path: Path, limits: ExtractionLimits, framework: Framework) -> list[LabelledDocument]:
    """A JSONL file of labelled texts, or a folder of files with their labels (run through extraction)."""
    known = {indicator.number for indicator in framework.indicators}
    if path.is_dir():
        labels = _json(path / LABELS_FILE, LABELS_FORM)
        if not isinstance(labels, dict):
            raise DatasetError(f"{path / LABELS_FILE}: expected {LABELS_FORM}")
        folder = []
        for name, entry in sorted(labels.items()):
            where = f"{path / LABELS_FILE}: entry {name!r}"
            indicators = _indicators(entry, known, where, LABELS_FORM)
            if not (path / name).resolve().is_relative_to(path.resolve()) or not (path / name).is_file():
                raise DatasetError(f"{where}: no such file in {path}")
            folder.append(LabelledDocument(name, name, extract_path(path / name, limits=limits), indicators))
        return folder
    dataset = []
    for number, line in enumerate(_text(path, JSONL_FORM).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{where}: not JSON ({error}); expected {JSONL_FORM}") from None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("text"), str):
            raise DatasetError(f"{where}: expected {JSONL_FORM}")
        dataset.append(LabelledDocument(
            id=item["id"],
            filename="",  # a labelled text has no upload name; none is invented
            document=Document(Status.OK, kind="text", pages=[_page(item["text"])]),
            indicators=_indicators(item, known, where, JSONL_FORM),
        ))  # fmt: skip
    return dataset


def _text(path: Path, form: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: a folder of files needs {form}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text; expected {form}") from None


def _json(path: Path, form: str) -> object:
    try:
        return json.loads(_text(path, form))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}: not JSON ({error}); expected {form}") from None


def _indicators(entry: object, known: set[int], where: str, form: str) -> frozenset[int]:
    numbers = entry.get("indicators") if isinstance(entry, dict) else None
    if not isinstance(numbers, list) or not all(type(number) is int for number in numbers):  # true is no 1
        raise DatasetError(f"{where}: expected {form}")
    if unknown := sorted(set(numbers) - known):
        raise DatasetError(f"{where}: the framework has no indicator {', '.join(map(str, unknown))}")
    return frozenset(numbers)


def _page(text: str) -> Page:
    blocks = [Block(BlockKind.PARAGRAPH, paragraph) for paragraph in text.split("\n") if paragraph.strip()]
    return Page(1, blocks, TextSource.DOCUMENT)


def canonical(indicators: Iterable[int], framework: Framework) -> set[int]:
    """Indicators with each group folded into its lowest member (45–47 count as one)."""
    return {min(framework.group_of(number)) for number in indicators}


class EmbeddingCache:
    """Chunk vectors of evaluation texts kept between runs, by text and model (the state store's table)."""

    def __init__(self, state, model: str, chunking: str) -> None:
        self.state, self.model, self.chunking = state, model, chunking

    def get_or_embed(self, matcher: Matcher, document: Document) -> tuple[list[Chunk], np.ndarray]:
        digest = hashlib.sha256(document.text.encode()).hexdigest()
        cached = self.state.embedding(digest, self.model, self.chunking) if self.state else None
        if cached is not None:
            pairs, vectors = cached
            return [Chunk(page, text) for page, text in pairs], vectors
        chunks, vectors = matcher.embed(document)
        if self.state:
            self.state.record_embedding(digest, self.model, self.chunking, [(c.page, c.text) for c in chunks], vectors)
        return chunks, vectors


def evaluate(
    dataset: Sequence[LabelledDocument],
    matcher: Matcher,
    framework: Framework,
    cache: EmbeddingCache,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Scores]:
    """Every variant's counts over the dataset; unreadable documents count as misses."""
    results = {name: Scores() for name in (FULL, *BASELINES)}
    for number, item in enumerate(dataset, start=1):
        gold = canonical(item.indicators, framework)
        table = structure = None
        if item.document.ok:
            chunks, vectors = cache.get_or_embed(matcher, item.document)
            if chunks:
                structure = matcher.structure(chunks, item.filename)
                table, _ = features(chunks, vectors, structure, matcher.index)
        for name, scores in results.items():
            ranked: list[int] = []
            supported: set[int] = set()
            if table is not None:
                scored = fuse(table, matcher.index.weights) if name == FULL else table[:, FEATURES.index(BASELINES[name])]
                order = np.argsort(-scored, kind="stable")
                ranked = [int(matcher.index.indicators[row]) for row in order]
                if name == FULL:
                    rulings = decide(scored, table, structure, matcher.index, matcher.thresholds)
                    claimed = [row for row, ruling in enumerate(rulings) if ruling.decision is Decision.SUPPORTS]
                else:
                    claimed = order[:1]
                supported = {int(matcher.index.indicators[row]) for row in claimed}
            _count(scores, item.id, gold, _fold_ranking(ranked, framework), canonical(supported, framework))
        if progress:
            progress(f"[{number}/{len(dataset)}] {item.id}")
    return results


def _fold_ranking(ranked: list[int], framework: Framework) -> list[int]:
    folded: list[int] = []
    for number in ranked:
        head = min(framework.group_of(number))
        if head not in folded:
            folded.append(head)
    return folded


def _count(scores: Scores, item_id: str, gold: set[int], ranking: list[int], supported: set[int]) -> None:
    scores.predicted += len(supported)
    scores.gold += len(gold)
    scores.correct += len(supported & gold)
    if not gold:
        scores.negatives += 1
        scores.negatives_rejected += not supported
        if supported:
            scores.misses.append(f"{item_id}: negative, supports {sorted(supported)}")
        return
    scores.positives += 1
    scores.top1 += bool(ranking) and ranking[0] in gold
    scores.top3 += bool(set(ranking[:TOP_K_WIDE]) & gold)
    if not ranking or ranking[0] not in gold:
        scores.misses.append(f"{item_id}: gold {sorted(gold)}, top {ranking[:TOP_K_WIDE]}, supports {sorted(supported)}")
    elif unlabelled := supported - gold:  # right first, yet claims more: what precision loses
        scores.misses.append(f"{item_id}: gold {sorted(gold)}, supports {sorted(supported)}, unlabelled {sorted(unlabelled)}")


L2_PENALTY = 0.01
FIT_STEPS = 3000
FIT_LEARNING_RATE = 0.5


def fit_weights(
    dataset: Sequence[LabelledDocument], matcher: Matcher, framework: Framework, cache: EmbeddingCache
) -> dict[str, float]:
    """Logistic regression of 'indicator is labelled' on the fusion features, pooled over documents.

    A feature that never varies in the dataset (a file name citing an indicator, in a set of bare texts) keeps
    the weight the profile file gives it: the data cannot say anything about it.
    """
    rows, targets = [], []
    for item in dataset:
        if not item.document.ok:
            continue
        chunks, vectors = cache.get_or_embed(matcher, item.document)
        if not chunks:
            continue
        table, _ = features(chunks, vectors, matcher.structure(chunks, item.filename), matcher.index)
        gold = {member for number in item.indicators for member in framework.group_of(number)}
        rows.append(table)
        targets.append(np.isin(matcher.index.indicators, list(gold)).astype(float))
    x, y = np.vstack(rows), np.concatenate(targets)
    penalised = np.arange(len(FEATURES)) != FEATURES.index("bias")  # the bias is learnt, never fixed or shrunk
    scale = x.std(axis=0)
    fixed = (scale == 0) & penalised
    scale[scale == 0] = 1.0
    z = x / scale
    weights = np.where(fixed, matcher.index.weights, 0.0)
    for _ in range(FIT_STEPS):
        predicted = 1.0 / (1.0 + np.exp(-(z @ weights)))
        gradient = z.T @ (predicted - y) / len(y) + L2_PENALTY * weights * penalised
        weights -= FIT_LEARNING_RATE * np.where(fixed, 0.0, gradient)
    return {name: round(float(weight / scale[i]), 4) for i, (name, weight) in enumerate(zip(FEATURES, weights))}
