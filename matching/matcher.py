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
from functools import cache
from pathlib import Path

import numpy as np

from matching.chunking import Chunk, ChunkingPolicy
from matching.embedder import Embedder
from matching.lexical import ProfileBM25, TermIndex
from matching.profiles import IndicatorKind, ProfileError, ProfileSet
from matching.structure import DocumentStructure
from matching.text import phrase_pattern

PASSAGE_CHARS = 400  # enough of a chunk for a reviewer to recognise the evidence
PASSAGE_LEAD_CHARS = 120  # of the words before the first term, so the passage reads as a sentence
FINGERPRINT_CHARS = 16
MATCHING_CODE = Path(__file__).parent  # the rules that decide a match are this package's code
# The features of the fusion, in order; the profile file names a weight for each.
FEATURES = (
    "bias",
    "terms",  # curated terms of the indicator's topic in the body, by rarity and repetition
    "terms_share",  # the same, relative to the document's best topic
    "title_terms",  # curated terms in the opening words
    "subject_terms",  # in the "tentang ..." clause, or a report's first words
    "heading_terms",  # in chapter, part and paragraph titles: a regulation on several subjects names each
    "bm25_relative",  # BM25 of the indicator's own words, standardised over the indicators
    "subject_bm25",  # the same on the subject alone
    "dense_relative",  # sentence-embedding similarity, standardised over the indicators
    "best_terms", "best_bm25", "best_dense",  # the indicator each channel puts first
    "policy_on_topic",  # a policy indicator, for an enacted policy, in proportion to its topic's evidence
    "policy_off_topic",  # a policy indicator, for an enacted policy, for the rest of its topic's share
    "policy_scope",  # an indicator of the scope an enacted policy regulates as a whole (SPBE), by its topic's share
    "policy_unenacted",  # a policy indicator for a document that is no enacted policy
    "practice_in_policy",  # a practice indicator that carries out a policy indicator's policy, for an enacted policy
    "file_name",  # the file name cites the indicator
)

class Decision(StrEnum):
    SUPPORTS = "supports"
    REVIEW = "review"
    NONE = "none"


class EvidenceRule(StrEnum):
    """A rule of the framework on the kind of document an indicator needs; one a document does not meet holds its
    decision at review, whatever its score, and the report says which."""

    ENACTED_POLICY = "enacted_policy"  # a Kebijakan Internal indicator: an enacted regulation, decree or circular
    ELECTRONIC_SERVICE = "electronic_service"  # an electronic-service indicator: a document that shows it electronic
    SPBE_EVIDENCE = "spbe_evidence"  # any indicator: not a regulation on an office's structure and duties (SOTK)
    CARRIED_OUT = "carried_out"  # a practice that carries out a Kebijakan Internal one's policy: no regulation
    SPBE_CONTEXT = "spbe_context"  # a generic topic (a team, risk, training): a document that names SPBE or ICT
    TOPIC_IN_CONTENT = "topic_in_content"  # any indicator: its topic named in what the document says, not only in
    # an office's name ("Dinas Tenaga Kerja dan Sertifikasi Kompetensi" heads a job-card SOP, no training)
    OWN_GOVERNMENT = "own_government"  # any indicator: a policy of this government, not a Perpres or another city's


class Ground(StrEnum):
    """Why a supports is one: its score, or the document's form, which the report's reader may want to check."""

    SCORE = "score"  # the fused score cleared the supports threshold
    FORM = "form"  # the lower threshold of the best indicator of a document about electronic government
    # the lower threshold of a Kebijakan Internal indicator its enacted policy's subject names, or of an indicator of
    # the scope a policy on a part of SPBE as a whole regulates that one of its chapter or part titles names
    POLICY_SUBJECT = "policy_subject"
    ANNOUNCED = "announced"  # the topic the document's title or subject fields announce
    PRACTICE_DOCUMENT = "practice_document"  # the document is the practice's own work (a system design for 15)
    # the document, no policy, is about a Kebijakan Internal topic its form or title points to: the topic carried out
    POLICY_CARRIED_OUT = "policy_carried_out"
    FUNDED = "funded"  # the activity a budget sheet funds


@dataclass(frozen=True)
class Thresholds:
    """Named cut-offs on the fused score; configurable per deployment.

    best_supports is the lower bar for an indicator the document's form points to: the best indicator of a document
    about electronic government (such a document is evidence for something, and its best indicator is right far
    more often than its score says: the fusion is fitted on documents that name their topic in their first words,
    real uploads seldom do), a Kebijakan Internal indicator whose topic an enacted policy's subject names, and an
    indicator of the scope a policy on a part of SPBE as a whole regulates whose topic a chapter or part title names.
    announced_supports is the lowest, for the topic a document on electronic government announces in its title, a
    practice's own work, and the practice of a Kebijakan Internal topic a document that is no policy points to (0 by
    default: such a document is that topic's evidence whatever its score; a deployment raises it to be stricter).
    """

    supports: float
    review: float
    best_supports: float
    announced_supports: float

    def __post_init__(self) -> None:
        if self.review > self.supports:
            raise ValueError("the review threshold must not exceed the supports threshold")
        if self.best_supports > self.supports:
            raise ValueError("the lower threshold (an indicator the form points to) must not exceed the supports one")
        if self.announced_supports > self.best_supports:
            raise ValueError("the threshold for an announced topic must not exceed the lower (best_supports) one")

    def decide(
        self,
        score: float,
        unmet_rule: EvidenceRule | None = None,
        pointed_to: Ground | None = None,
        funded: bool = False,
        announced: Ground | None = None,
    ) -> Ruling:
        """The decision on a score. unmet_rule: the document is not the kind of evidence the indicator needs, so
        it is at most for review, and the ruling names the rule when it alone stands between the score and
        supports. pointed_to: how the document's form points to the indicator (FORM, POLICY_SUBJECT), for review
        and supports from best_supports. funded: a budget sheet funds the indicator's activity, its evidence
        whatever the score. announced: how the document says it is the indicator's evidence (ANNOUNCED: its title
        or subject fields name the topic; PRACTICE_DOCUMENT: it is the practice's own work; POLICY_CARRIED_OUT: it is
        no policy, but on the topic of the Kebijakan Internal indicator whose policy this practice carries out), for
        review and supports from announced_supports."""
        if funded:
            bar, ground = 0.0, Ground.FUNDED
        elif announced:
            bar, ground = self.announced_supports, announced
        else:
            bar, ground = (self.best_supports, pointed_to) if pointed_to else (self.supports, Ground.SCORE)
        if score >= bar:
            if unmet_rule is not None:
                return Ruling(Decision.REVIEW, unmet_rule)
            return Ruling(Decision.SUPPORTS, ground=Ground.SCORE if score >= self.supports else ground)
        if score >= min(bar, self.review):
            return Ruling(Decision.REVIEW)
        return Ruling(Decision.NONE)


@dataclass(frozen=True)
class Ruling:
    """A decision, the evidence rule that held it back from supports, if one did, and the ground of a supports."""

    decision: Decision
    unmet_rule: EvidenceRule | None = None
    ground: Ground | None = None


@dataclass(frozen=True)
class Match:
    indicator: int
    score: float
    decision: Decision
    page: int | None
    passage: str
    unmet_rule: EvidenceRule | None = None  # the rule that alone keeps a review from supports
    ground: Ground | None = None  # why a supports is one: its score, or the form (announced, funded, ...)

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
        self.activity_index = TermIndex(self.profiles, lambda profile: profile.terms + profile.activity_terms)
        self.practice_documents = [  # per indicator: how many parts it needs, and each part's patterns (none: no rule)
            (document.at_least, [[phrase_pattern(word) for word in part] for part in document.parts])
            if (document := profile.practice_document) else (0, [])
            for profile in self.profiles
        ]
        self.bm25 = ProfileBM25(self.profiles, profile_set.generic_words)
        self.is_policy = np.array([profile.kind is IndicatorKind.POLICY for profile in self.profiles], dtype=float)
        self.is_service = np.array([profile.kind is IndicatorKind.SERVICE for profile in self.profiles])
        self.needs_spbe = np.array([profile.needs_spbe for profile in self.profiles])
        self.funds_activities = np.array([profile.funds_activities for profile in self.profiles])
        # per indicator, the Kebijakan Internal indicator whose policy it carries out (0: none); the enacted policy
        # itself is evidence for that policy indicator, not for the practice
        self.policy_indicators = np.array([profile.policy_indicator or 0 for profile in self.profiles])
        self.carries_out_policy = (self.policy_indicators > 0).astype(float)
        missing = [name for name in FEATURES if name not in profile_set.weights]
        if missing:
            raise ProfileError(f"the profile file's fusion weights lack {missing}")
        self.weights = np.array([profile_set.weights[name] for name in FEATURES])


@cache
def code_digest(folder: Path) -> str:
    """The SHA-256 of a package's Python sources: a release that changes a matching rule changes it, with nobody
    having to remember a version number, so an upgraded deployment rematches its stored documents."""
    digest = hashlib.sha256()
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def matching_fingerprint(
    model: str, profile_set: ProfileSet, thresholds: Thresholds, policy: ChunkingPolicy, top_k: int,
    rules: str | None = None, region: str = "",
) -> str:
    """Changes whenever a stored match could change: model, profiles, weights, thresholds, chunking, top K, the
    matching code's rules (`rules`, by default this release's `code_digest`) and the government whose evidence it is."""
    payload = {
        "region": region,
        "rules": rules if rules is not None else code_digest(MATCHING_CODE),
        "model": model,
        "profiles": [asdict(profile) for profile in profile_set.profiles],
        "markers": asdict(profile_set.structure_markers),
        "weights": profile_set.weights,
        "generic_words": sorted(profile_set.generic_words),
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
    hits = index.terms.hits(chunks)  # per chunk, for the passage: words in an overlap count twice, as when fitted
    terms_share = hits.body / (hits.body.max() or 1.0)
    bm25 = index.bm25.scores(" ".join(chunk.text for chunk in chunks))
    policy_document = float(structure.is_policy)
    table = np.column_stack(
        [
            np.ones(len(index.indicators)),
            np.log1p(hits.body),
            terms_share,
            index.terms.presence(structure.title),
            index.terms.presence(structure.subject),
            index.terms.presence(structure.headings),
            standardise(bm25),
            standardise(index.bm25.scores(structure.subject)),
            standardise(dense),
            is_best(terms_share),
            is_best(bm25),
            is_best(dense),
            index.is_policy * policy_document * terms_share,
            index.is_policy * policy_document * (1 - terms_share),
            np.isin(index.indicators, structure.scope_indicators) * terms_share,
            index.is_policy * (1 - policy_document),
            index.carries_out_policy * policy_document,
            named_by_filename(index, structure).astype(float),
        ]
    )
    best_chunk = np.where(hits.best_chunk >= 0, hits.best_chunk, dense_chunk)
    return table, best_chunk


def column(table: np.ndarray, feature: str) -> np.ndarray:
    """One feature of every indicator, by its name in FEATURES."""
    return table[:, FEATURES.index(feature)]


def named_by_filename(index: IndicatorIndex, structure: DocumentStructure) -> np.ndarray:
    """True for the indicator the file name cites ("35.screenshot LPSE.jpg"), if any."""
    return index.indicators == structure.filename_indicator


def is_best(values: np.ndarray) -> np.ndarray:
    """1 for the indicators a channel ranks first for this document (ties included), when it ranks any."""
    top = values.max()
    return ((values >= top) & (top > 0)).astype(float)


def standardise(values: np.ndarray) -> np.ndarray:
    """How far each indicator stands out from the others for this document (a z-score)."""
    return (values - values.mean()) / (values.std() or 1.0)


def fuse(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The logistic fusion: one score in [0, 1] per indicator."""
    return 1.0 / (1.0 + np.exp(-(table @ weights)))


def unmet_rules(failed: dict[EvidenceRule, np.ndarray]) -> list[EvidenceRule | None]:
    """For each indicator, the first of the rules on the kind of evidence it fails (`failed_rules`), if any: the one
    its report names."""
    return [next((rule for rule, fails in zip(failed, row) if fails), None) for row in zip(*failed.values())]


def failed_rules(structure: DocumentStructure, index: IndicatorIndex) -> dict[EvidenceRule, np.ndarray]:
    """Per rule on the kind of evidence, in the order a report names the first, the indicators this document fails
    it for. A Kebijakan Internal indicator needs an enacted regulation, decree or circular; an electronic-service
    indicator a document that shows the electronic service, or a file its uploader named for it (a screenshot's few
    words seldom say "aplikasi"). A practice indicator that carries out a Kebijakan Internal indicator's policy needs
    a document of the practice: an enacted regulation, circular or instruction (on its topic or another) is evidence
    for policy indicators only, unless it is a decree (forming a forum, appointing officers: an act) or holds an
    annex (the architecture itself). An indicator of a generic topic (a team, risk management, training) needs a
    document that names SPBE or ICT: the minutes of an inflation-control team are no Tim Koordinasi SPBE at work. An
    indicator whose topic the document names only in an office's name (its letterhead, a unit, an issuer) is not
    what the document is about. A regulation on an office's structure and duties lists ICT functions, but is
    evidence for no indicator; nor is a policy another government enacted (a Perpres, a Permen, another city's
    Perwal), which an assessor does not count for this one, however well it fits."""
    every = np.ones(len(index.indicators), dtype=bool)
    if structure.is_organisation:
        return {EvidenceRule.SPBE_EVIDENCE: every}
    if structure.issued_elsewhere:
        return {EvidenceRule.OWN_GOVERNMENT: every}
    named_for = named_by_filename(index, structure)
    needs_content = index.terms.presence(structure.office_names) > 0
    if needs_content.any():  # only then is the whole document searched, and for those indicators' terms alone
        needs_content &= index.terms.presence(structure.content, of=needs_content) == 0
    return {
        EvidenceRule.ENACTED_POLICY: index.is_policy.astype(bool) & (not structure.is_policy),
        EvidenceRule.ELECTRONIC_SERVICE: index.is_service & (not structure.is_electronic) & ~named_for,
        EvidenceRule.CARRIED_OUT: index.carries_out_policy.astype(bool) & structure.is_policy_only,
        EvidenceRule.SPBE_CONTEXT: index.needs_spbe & (not structure.names_spbe),
        EvidenceRule.TOPIC_IN_CONTENT: needs_content,
    }


def decide(
    scores: np.ndarray,
    table: np.ndarray,
    structure: DocumentStructure,
    index: IndicatorIndex,
    thresholds: Thresholds,
) -> list[Ruling]:
    """Each indicator's ruling on its fused score (from table, the features) and on the kind of evidence the
    framework asks for (a document of another kind is at most for review, however close its topic). An indicator
    the document's form points to needs only the lower best_supports score: the best indicator of a document about
    electronic government (all of them, if several tie), and a Kebijakan Internal indicator whose topic an enacted
    policy names in its subject ("tentang Penyelenggaraan Satu Data Indonesia" sets the data policy, however little
    of its body is on data), or an indicator of the scope a policy on a part of SPBE as a whole regulates whose
    topic one of its chapter or part titles names (a Perwal on SPBE with a "Bagian Ketiga Peta Rencana SPBE"). A
    Kebijakan Internal indicator the form points to in a document that is no policy passes to its practice. The form
    is the evidence itself, whatever the score, for the activity a budget sheet that supports its budget indicator
    funds. The topic a document on electronic government announces needs only
    announced_supports (0 by default): the best indicator, by its score and by its body's terms, of a document that
    is no policy, named in its title or subject fields beyond the names of the offices that write it (the fusion,
    fitted on texts that name their topic in every line, underrates a real SOP, manual or report that names it once
    at its top)."""
    if not len(scores):
        return []
    best = scores >= scores.max()
    announced = [
        Ground.PRACTICE_DOCUMENT if work else Ground.ANNOUNCED if titled else None
        for work, titled in zip(practice_documents(structure, index), announced_topic(best, table, structure, index))
    ]
    named_in_subject = column(table, "subject_terms") > 0
    named_policy = index.is_policy.astype(bool) & structure.is_policy & named_in_subject
    # a policy on a part of SPBE as a whole (a Perwal on SPBE) with a chapter or part on one of its topics
    named_policy |= np.isin(index.indicators, structure.scope_indicators) & (column(table, "heading_terms") > 0)
    named_policy &= ~index.needs_spbe | structure.names_spbe  # a stunting team's decree names "tim", not SPBE's
    pointed = [
        Ground.POLICY_SUBJECT if policy else Ground.FORM if electronic_best else None
        for policy, electronic_best in zip(named_policy, best & structure.is_electronic)
    ]
    failed = failed_rules(structure, index)
    rules = unmet_rules(failed)
    rulings = [
        thresholds.decide(float(score), rule, pointed_to, announced=announces)
        for score, rule, pointed_to, announces in zip(scores, rules, pointed, announced)
    ]
    for row in practices_of_held_policies(scores, rulings, pointed, announced, failed, index):
        if rulings[row].decision is not Decision.SUPPORTS:
            rulings[row] = thresholds.decide(float(scores[row]), rules[row], announced=Ground.POLICY_CARRIED_OUT)
    if any(rulings[row].decision is Decision.SUPPORTS for row in np.flatnonzero(best & index.funds_activities)):
        for row in np.flatnonzero(funded_activities(structure, index)):  # never a budget indicator itself
            rulings[row] = thresholds.decide(float(scores[row]), rules[row], funded=True)
    return rulings


def announced_topic(
    best: np.ndarray, table: np.ndarray, structure: DocumentStructure, index: IndicatorIndex
) -> np.ndarray:
    """The best indicator of a document on electronic government that is no policy, when its body's terms favour it
    too and the document's title or subject fields name it, beyond the names of the offices that write it ("SOP
    Verifikasi Data ASN pada Aplikasi SIMPEG" under the letterhead of the Badan Kepegawaian)."""
    if structure.is_policy or not structure.is_electronic:
        return np.zeros(len(best), dtype=bool)
    best_by_terms = column(table, "best_terms") > 0
    return best & best_by_terms & (index.terms.presence(structure.announced) > 0)


def practices_of_held_policies(
    scores: np.ndarray,
    rulings: Sequence[Ruling],
    pointed: Sequence[Ground | None],
    announced: Sequence[Ground | None],
    failed: dict[EvidenceRule, np.ndarray],
    index: IndicatorIndex,
) -> list[int]:
    """For each Kebijakan Internal indicator that the document's form or title points to and that the enacted-policy
    rule alone holds back, its practice: the best scored of the indicators that carry out its policy (none when
    two tie: the scores cannot tell which). A report, minutes or news item on the Tim Audit TIK's work is no audit
    policy, but the audit carried out (the framework's "a document showing X carried out supports the practice
    indicator")."""
    other_rules = np.any([fails for rule, fails in failed.items() if rule is not EvidenceRule.ENACTED_POLICY], axis=0)
    practices = []
    for row, ruling in enumerate(rulings):
        held = ruling.unmet_rule is EvidenceRule.ENACTED_POLICY and not other_rules[row]
        if held and (pointed[row] or announced[row]):
            carrying = np.flatnonzero(index.policy_indicators == index.indicators[row])
            ranked = carrying[np.argsort(-scores[carrying], kind="stable")]
            if ranked.size and (ranked.size == 1 or scores[ranked[0]] > scores[ranked[1]]):
                practices.append(int(ranked[0]))
    return practices


def practice_documents(structure: DocumentStructure, index: IndicatorIndex) -> np.ndarray:
    """The practice indicators whose own work a document that is no policy is: it names enough of the parts of the
    documents the practice produces (`practice_document` in the profile file: a system design's requirements,
    database design, UML models for application development). Such a document names its application's subject,
    seldom the indicator's, so its score underrates it; a policy on the practice is evidence of its Kebijakan
    Internal instead."""
    if structure.is_policy:
        return np.zeros(len(index.indicators), dtype=bool)
    content = structure.content.lower()
    return np.array([
        bool(parts) and sum(any(pattern.search(content) for pattern in part) for part in parts) >= at_least
        for at_least, parts in index.practice_documents
    ])  # fmt: skip


def funded_activities(structure: DocumentStructure, index: IndicatorIndex) -> np.ndarray:
    """The practice and service indicators whose activity a budget sheet (no regulation) funds, as its activity
    fields name it ("Sub Kegiatan : Pengelolaan LPSE" funds procurement): the sheet's lines are about money, so the
    activity's own words are few and its score low, though the sheet is the activity's evidence too. A budget is
    never a Kebijakan Internal. Its fields may name the activity as the budget nomenclature does ("Pembangunan
    Jaringan Telekomunikasi"), in words the topic's terms leave out because other documents use them otherwise."""
    if structure.is_policy:
        return np.zeros(len(index.indicators), dtype=bool)
    named = index.activity_index.presence(structure.activities) > 0
    return named & ~index.funds_activities & ~index.is_policy.astype(bool)


def passage(text: str, row: int, index: IndicatorIndex) -> str:
    """The part of a chunk a reviewer reads: from shortly before the first of the indicator's terms (a budget sheet's
    "Sub Kegiatan : ... LPSE" line may stand late in its chunk), else from the chunk's start."""
    place = index.terms.first_place(text, row)
    start = 0 if place is None else max(0, place - PASSAGE_LEAD_CHARS)
    if start:
        start = text.find(" ", start) + 1  # from a word's start
    return text[start : start + PASSAGE_CHARS]


def match_chunks(
    chunks: Sequence[Chunk],
    chunk_vectors: np.ndarray,
    structure: DocumentStructure,
    index: IndicatorIndex,
    thresholds: Thresholds,
    top_k: int,
) -> list[Match]:
    """The best top_k indicators and every other one the document supports, best first; each with the page and
    passage that earned its score. A claim is never cut: a regulation on SPBE as a whole supports more indicators
    than top_k, and the report must show each."""
    if not chunks:
        return []
    table, best_chunk = features(chunks, chunk_vectors, structure, index)
    scores = fuse(table, index.weights)
    rulings = decide(scores, table, structure, index, thresholds)
    ranked = sorted(range(len(scores)), key=lambda row: (-scores[row], index.indicators[row]))
    order = [
        row for rank, row in enumerate(ranked) if rank < top_k or rulings[row].decision is Decision.SUPPORTS
    ]
    return [
        Match(
            indicator=int(index.indicators[row]),
            score=round(float(scores[row]), 4),
            decision=rulings[row].decision,
            page=chunks[best_chunk[row]].page,
            passage=passage(chunks[best_chunk[row]].text, row, index),
            unmet_rule=rulings[row].unmet_rule,
            ground=rulings[row].ground,
        )
        for row in order
    ]
