"""What an SKPD's report says, as plain data: every format renders it, and its hash says whether it changed.

The view holds everything a reader sees except the time it was generated, so two runs over the same
evidence give the same content hash, and delivery sends a report again only when its content changed.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass

from catalog import Framework, Indicator, SkpdRegistry
from matching.matcher import Decision, EvidenceRule, Ground
from reports.completeness import (
    COPIES_MESSAGE, Evidence, EvidenceState, IndicatorCoverage, SkpdCompleteness, Upload, by_content,
)
from reports.evidence_age import DocumentDate, EvidenceAge, evidence_age

DECISION_LABELS = {Decision.SUPPORTS: "mendukung", Decision.REVIEW: "perlu ditinjau"}
# Why a document close to the indicator's subject is still only for review: what kind of document would count.
UNMET_RULE_LABELS = {
    EvidenceRule.ENACTED_POLICY: "indikator Kebijakan Internal memerlukan peraturan, keputusan, atau surat edaran "
    "yang sudah ditetapkan",
    EvidenceRule.ELECTRONIC_SERVICE: "indikator layanan berbasis elektronik memerlukan dokumen yang menunjukkan "
    "layanan elektroniknya (aplikasi, tangkapan layar, manual pengguna)",
    EvidenceRule.SPBE_EVIDENCE: "peraturan tentang kedudukan, susunan organisasi, tugas dan fungsi perangkat daerah "
    "bukan bukti SPBE; unggah kebijakan SPBE atau bukti pelaksanaannya",
    EvidenceRule.CARRIED_OUT: "peraturan yang menetapkan kebijakan ini menjadi bukti indikator Kebijakan Internal-nya; "
    "indikator penerapan memerlukan bukti pelaksanaan (keputusan pembentukan atau penetapan, laporan, notulen, SOP, "
    "atau dokumen yang disusun)",
    EvidenceRule.SPBE_CONTEXT: "dokumen ini jarang atau tidak menyebut SPBE atau TIK; untuk indikator ini unggah "
    "dokumen tim, kegiatan, atau kebijakan yang jelas tentang SPBE (misalnya SK Tim Koordinasi SPBE)",
    EvidenceRule.TOPIC_IN_CONTENT: "topik indikator ini hanya muncul pada nama instansi atau unit kerja (misalnya kop "
    "surat), bukan pada isi dokumen; unggah dokumen yang isinya membahas topik ini",
    EvidenceRule.OWN_GOVERNMENT: "dokumen ini peraturan atau keputusan instansi lain, yaitu pemerintah pusat atau "
    "daerah lain; yang dinilai adalah kebijakan yang ditetapkan pemerintah daerah sendiri, misalnya Peraturan atau "
    "Keputusan Wali Kota/Bupati, yang dapat merujuk pada peraturan ini",
}
# Why a document supports an indicator though its score is under the usual bar: what in its form earned it, so a
# reviewer knows what to check. A supports by its score needs no words.
GROUND_LABELS = {
    Ground.FORM: "karena dokumen tentang pemerintahan berbasis elektronik ini terutama membahas topik indikator ini",
    Ground.POLICY_SUBJECT: "karena judul kebijakan yang sudah ditetapkan ini, atau judul salah satu bab atau "
    "bagiannya, menyebut topik indikator ini",
    Ground.ANNOUNCED: "karena judul atau perihal dokumen menyebut topik indikator ini",
    Ground.FUNDED: "karena dokumen anggaran ini menganggarkan kegiatan indikator ini",
    Ground.PRACTICE_DOCUMENT: "karena dokumen ini adalah hasil kerja pelaksanaan indikator ini (misalnya dokumen "
    "analisis kebutuhan dan perancangan sistem untuk Pembangunan Aplikasi)",
    Ground.POLICY_CARRIED_OUT: "karena dokumen ini bukan kebijakan yang ditetapkan, tetapi menunjukkan pelaksanaan "
    "kebijakan pada topik indikator ini, sehingga menjadi bukti penerapannya (misalnya laporan kegiatan Tim Audit "
    "TIK untuk indikator audit)",
}
# A Kominfotik reviewer's verdict: who, so the reader knows a person checked it, and the note they wrote.
REVIEWED_LABEL = "dikonfirmasi oleh peninjau {reviewer}"
REJECTED_LABEL = "{filename}{uploader} ditolak oleh peninjau {reviewer} sebagai bukti indikator ini"
UPLOADER_LABEL = " (diunggah oleh {name})"  # after a file name the reader's SKPD did not upload
# The other names of a file uploaded more than once (a re-upload, the same file in another SKPD's folder).
COPIES_LABEL = f"; {COPIES_MESSAGE}"
# Marks a field added to the reports after they were first sent: hashed only when not empty (see hashed()).
ADDED_LATER = "added_later"
UPLOAD_STATUS_LABELS = {
    "ok": "terbaca",
    "empty": "kosong",
    "corrupt": "rusak",
    "encrypted": "terkunci kata sandi",
    "unsupported": "format tidak didukung",
    "too_large": "terlalu besar",
}
UNMATCHED_LABEL = "tidak cocok dengan indikator"
FOR_OTHERS_LABEL = "bukti indikator SKPD lain"
# Above the uploads of an SKPD that are evidence only for indicators other SKPD answer for.
FOR_OTHERS_NOTE = ("Berkas ini menjadi bukti tingkat kota untuk indikator yang menjadi tanggung jawab SKPD lain; "
                   "tidak perlu diunggah ulang.")
UNKNOWN_DATE_LABEL = "tidak diketahui"  # after "tahun dokumen:"


def status_label(status: str) -> str:
    """An upload's extraction status as an SKPD clerk reads it; an unknown status as it is."""
    return UPLOAD_STATUS_LABELS.get(status, status)


@dataclass(frozen=True)
class EvidenceRow:
    """One document backing an indicator, as the reader needs it to find the evidence."""

    filename: str
    uploaded_by: str | None  # the other SKPD's name; None when the reader uploaded it
    decision: str
    page: int | None
    passage: str
    via_indicator: int | None  # matched to this other indicator of the same group
    document_year: int | None
    date_phrase: str
    reason: str  # why it is only for review, where a rule of the framework says; what in its form made it supports
    # though its score is under the usual bar; else empty
    copies: tuple[str, ...] = field(default=(), metadata={ADDED_LATER: True})  # the same file's other names

    @property
    def document_label(self) -> str:
        """The file as the reader finds it: its name, who uploaded it if not the reader, and its other names."""
        return f"{self.filename}{uploader_label(self.uploaded_by)}{self.copies_note}"

    @property
    def copies_note(self) -> str:
        return COPIES_LABEL.format(names=", ".join(self.copies)) if self.copies else ""

    @property
    def verdict(self) -> str:
        """The decision as the reader sees it, with its reason: 'perlu ditinjau (indikator Kebijakan ...)'."""
        return f"{self.decision} ({self.reason})" if self.reason else self.decision

    @property
    def date_label(self) -> str:
        """The year and the words it was read from, so a reader can check it: '2025 (NOMOR 21 TAHUN 2025)'."""
        return f"{self.document_year} ({self.date_phrase})" if self.document_year else UNKNOWN_DATE_LABEL


@dataclass(frozen=True)
class LevelGuide:
    """One maturity level: what it requires and what proves it (from the framework)."""

    level: int
    name: str
    criteria: str
    evidence: str


@dataclass(frozen=True)
class IndicatorRow:
    number: int
    code: str
    name: str
    domain: str
    aspect: str
    state: EvidenceState
    covered_by_others: bool  # evidence exists city-wide, but none uploaded by this SKPD
    evidence: tuple[EvidenceRow, ...]
    rejected: tuple[str, ...] = field(metadata={ADDED_LATER: True})  # documents a reviewer rejected for it: who, why
    accepted_evidence: str  # what the regulation accepts; empty once there is evidence
    levels: tuple[LevelGuide, ...]  # empty once there is evidence
    age: EvidenceAge | None

    @property
    def needs_action(self) -> bool:
        return self.state is not EvidenceState.PRESENT


@dataclass(frozen=True)
class UploadRow:
    filename: str
    status: str
    status_label: str
    message: str


@dataclass(frozen=True)
class SkpdReport:
    """One SKPD's completeness report: its indicators (missing first), its unreadable and unmatched uploads."""

    year: int
    city: str
    code: str
    name: str
    uploads: int
    max_age_years: int
    indicators: tuple[IndicatorRow, ...]
    unreadable: tuple[UploadRow, ...]
    unmatched: tuple[UploadRow, ...]
    # its uploads that are evidence only for other SKPD's indicators: what became of them
    for_others: tuple[UploadRow, ...] = field(default=(), metadata={ADDED_LATER: True})

    def count(self, state: EvidenceState) -> int:
        return sum(1 for row in self.indicators if row.state is state)

    @property
    def to_do(self) -> tuple[IndicatorRow, ...]:
        return tuple(row for row in self.indicators if row.needs_action)

    @property
    def content_hash(self) -> str:
        return content_hash(self)

    @property
    def subject(self) -> str:
        return (
            f"[SPBE {self.year}] Kelengkapan data dukung {self.name}: "
            f"{self.count(EvidenceState.MISSING)} belum ada bukti, {self.count(EvidenceState.REVIEW)} perlu ditinjau"
        )

    @property
    def summary_text(self) -> str:
        """The plain-text part of the e-mail, for mail clients that show no HTML."""
        lines = [
            f"Kelengkapan Data Dukung Evaluasi SPBE {self.year} — {self.name} ({self.city})",
            "",
            f"Belum ada bukti: {self.count(EvidenceState.MISSING)}",
            f"Perlu ditinjau: {self.count(EvidenceState.REVIEW)}",
            f"Ada bukti: {self.count(EvidenceState.PRESENT)}",
        ]
        if self.to_do:
            lines += ["", "Indikator yang perlu dilengkapi:"]
            lines += [f"- {row.number}. {row.name} ({row.state})" for row in self.to_do]
        if self.unreadable:
            lines += ["", "Berkas yang tidak dapat dibaca:"]
            lines += [f"- {upload.filename}: {upload.message}" for upload in self.unreadable]
        lines += ["", "Rincian ada di laporan terlampir (PDF dan XLSX)."]
        return "\n".join(lines)


def content_hash(view: object) -> str:
    """SHA-256 of a view's content in canonical JSON: equal content, equal hash, on any machine."""
    payload = json.dumps(hashed(view), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def hashed(content: object) -> object:
    """A view's content as its hash reads it (dataclasses as dicts, as asdict() gives them): a field a later release
    added (marked ADDED_LATER) counts only once it says something, so an upgrade sends again only the reports that
    now read differently."""
    if is_dataclass(content) and not isinstance(content, type):
        return {
            item.name: hashed(value)
            for item in fields(content)
            if (value := getattr(content, item.name)) or not item.metadata.get(ADDED_LATER)
        }
    if isinstance(content, list | tuple):
        return [hashed(value) for value in content]
    if isinstance(content, dict):
        return {name: hashed(value) for name, value in content.items()}
    return content


def skpd_report(
    completeness: SkpdCompleteness,
    year: int,
    framework: Framework,
    registry: SkpdRegistry,
    dates: Mapping[str, DocumentDate | None],
) -> SkpdReport:
    """The report of one SKPD, in the words and order its clerk reads it."""
    names = {unit.code: unit.name for unit in registry.skpd}
    return SkpdReport(
        year=year,
        city=registry.city,
        code=completeness.skpd.code,
        name=completeness.skpd.name,
        uploads=completeness.uploads,
        max_age_years=framework.evidence_max_age_years,
        indicators=tuple(
            indicator_row(item, completeness.skpd.code, year, framework, names, dates)
            for item in completeness.indicators
        ),
        unreadable=tuple(upload_row(upload, status_label(upload.status))
                         for upload in completeness.unreadable),
        unmatched=tuple(upload_row(upload, UNMATCHED_LABEL) for upload in completeness.unmatched),
        for_others=tuple(upload_row(upload, FOR_OTHERS_LABEL) for upload in completeness.for_others),
    )


# The Pedoman's example evidence often points at lettered items of its own page ("dokumen sesuai huruf b yang mencakup
# ketentuan huruf c"), which a report does not show; such a sentence may still list examples after "yaitu" or
# "dapat berupa".
CITES_LETTERED_ITEMS = re.compile(r"\bhuruf [a-z]\b", re.IGNORECASE)
EXAMPLES_LISTED = re.compile(r"\b(?:yaitu|dapat berupa):?\s+(.+)", re.IGNORECASE | re.DOTALL)
SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z])")
EXAMPLES_LABEL = "Contoh: {examples}"


def accepted_evidence(indicator: Indicator) -> str:
    """What the regulation accepts, in words an SKPD clerk can act on without the Pedoman at hand: its example
    evidence, where a sentence of it cites lettered items, with the assessment rule first and only the examples that
    sentence lists; its other sentences (more than one kind of document may be given, a document's age) stay."""
    sentences = SENTENCE_END.split(indicator.example_evidence)
    if not any(CITES_LETTERED_ITEMS.search(sentence) for sentence in sentences):
        return indicator.example_evidence
    kept = [indicator.assessment]
    for sentence in sentences:
        if not CITES_LETTERED_ITEMS.search(sentence):
            kept.append(sentence)
        elif listed := EXAMPLES_LISTED.search(sentence):
            kept.append(EXAMPLES_LABEL.format(examples=listed.group(1)))
    return " ".join(kept)


def indicator_row(
    coverage: IndicatorCoverage,
    reader: str | None,
    year: int,
    framework: Framework,
    names: Mapping[str, str],
    dates: Mapping[str, DocumentDate | None],
) -> IndicatorRow:
    """One indicator with its evidence; `reader` is the SKPD reading it (None for the city view)."""
    indicator = coverage.indicator
    evidence = tuple(
        evidence_row(shown, indicator.number, reader, names, dates, copies)
        for shown, copies in distinct_contents(coverage.evidence, reader)
    )
    needs_action = coverage.state is not EvidenceState.PRESENT
    return IndicatorRow(
        number=indicator.number,
        code=indicator.code,
        name=indicator.name,
        domain=framework.domain(indicator.domain).name,
        aspect=_aspect_name(framework, indicator),
        state=coverage.state,
        covered_by_others=reader is not None and coverage.from_other_skpd(reader),
        evidence=evidence,
        rejected=tuple(rejection(shown, reader, names) for shown, _ in distinct_contents(coverage.rejected, reader)),
        accepted_evidence=accepted_evidence(indicator) if needs_action else "",
        levels=tuple(LevelGuide(lv.level, lv.name, lv.criteria, lv.evidence) for lv in indicator.levels)
        if needs_action
        else (),
        age=evidence_age((row.document_year for row in evidence), year, framework.evidence_max_age_years),
    )


def distinct_contents(evidence: Sequence[Evidence], reader: str | None) -> list[tuple[Evidence, list[Evidence]]]:
    """Each content once, best first, with its other copies: a file uploaded under several names (a re-upload, the
    same decree in two SKPD's folders) is one document to its reader, shown under the reader's own name for it
    where the reader uploaded one that counts the same, its shortest (the original, not "… (1).pdf")."""
    distinct = []
    for copies in by_content(evidence):
        best = copies[0]
        candidates = [item for item in copies if item.decision is best.decision]
        shown = min(candidates, key=lambda item: (item.skpd != reader, len(item.filename), item.filename))
        distinct.append((shown, [item for item in copies if item is not shown]))
    return distinct


def evidence_row(
    item: Evidence,
    indicator: int,
    reader: str | None,
    names: Mapping[str, str],
    dates: Mapping[str, DocumentDate | None],
    copies: Sequence[Evidence] = (),
) -> EvidenceRow:
    dated = dates.get(item.sha256) if item.sha256 else None
    return EvidenceRow(
        filename=item.filename,
        uploaded_by=uploader(item, reader, names),
        decision=DECISION_LABELS[item.decision],
        page=item.page,
        passage=item.passage,
        via_indicator=None if item.indicator == indicator else item.indicator,
        document_year=dated.year if dated else None,
        date_phrase=dated.phrase if dated else "",
        reason=reason(item),
        copies=tuple(copy.filename + uploader_label(uploader(copy, reader, names)) for copy in copies),
    )


def uploader(item: Evidence, reader: str | None, names: Mapping[str, str]) -> str | None:
    """The name of the SKPD that uploaded a document; None when the reader did."""
    return None if item.skpd == reader else names.get(item.skpd, item.skpd)


def uploader_label(name: str | None) -> str:
    """What follows a file name the reader's SKPD did not upload: " (diunggah oleh Bappeda)"; nothing when it did."""
    return UPLOADER_LABEL.format(name=name) if name else ""


def rejection(item: Evidence, reader: str | None, names: Mapping[str, str]) -> str:
    """A reviewer's rejection as the reader sees it: 'audit.pdf ditolak oleh peninjau Rina ...: belum ditandatangani'."""
    said = REJECTED_LABEL.format(filename=item.filename, uploader=uploader_label(uploader(item, reader, names)),
                                 reviewer=item.reviewer)
    return f"{said}: {item.review_note}" if item.review_note else said


def reason(item: Evidence) -> str:
    """Why the decision is what it is, where the reader has something to check: the rule that holds a review back,
    or the form that earned a supports, or the reviewer who accepted it."""
    if item.reviewer:
        confirmed = REVIEWED_LABEL.format(reviewer=item.reviewer)
        return f"{confirmed}: {item.review_note}" if item.review_note else confirmed
    if item.unmet_rule:
        return UNMET_RULE_LABELS[item.unmet_rule]
    if item.decision is Decision.SUPPORTS and item.ground:
        return GROUND_LABELS.get(item.ground, "")
    return ""


def upload_row(upload: Upload, status_label: str) -> UploadRow:
    return UploadRow(upload.filename, upload.status, status_label, upload.message)


def _aspect_name(framework: Framework, indicator: Indicator) -> str:
    return next(aspect.name for aspect in framework.aspects if aspect.number == indicator.aspect)
