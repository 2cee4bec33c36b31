"""The matching channels: the form of a document, the curated terms, and the right indicator with its passage."""
from __future__ import annotations

import json

import numpy as np
import pytest

from catalog import load_framework
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from matching.chunking import Chunk
from matching.engine import Matcher
from matching.evaluation import EmbeddingCache, LabelledDocument, fit_weights
from matching.lexical import TermIndex
from matching.matcher import (
    FEATURES, Decision, EvidenceRule, Ground, Ruling, decide, failed_rules, features, unmet_rules,
)
from matching.profiles import load_profiles
from matching.text import phrase_pattern
from matching.structure import PolicyScope, StructureMarkers, read_structure, without_names
from settings import Settings, get_settings
from spbe_evidence.cli import EXIT_OK, EXIT_USAGE, main

SPBE_AS_A_WHOLE = tuple(range(1, 11))  # a policy on SPBE as a whole sets every Kebijakan Internal
MARKERS = StructureMarkers(
    headings=("peraturan", "keputusan", "surat edaran"),
    titles=("kebijakan internal",),
    policy_scopes=(
        PolicyScope(
            "SPBE",
            ("sistem pemerintahan berbasis elektronik", "penyelenggaraan sistem pemerintahan berbasis elektronik"),
            SPBE_AS_A_WHOLE,
        ),
        PolicyScope("Manajemen SPBE", ("manajemen spbe",), (3, 8, 21, 24, 25, 26, 27, 28)),
    ),
    organisation_subjects=("kedudukan susunan organisasi", "kedudukan tugas dan fungsi"),
    decree_headings=("keputusan",),
    subject_fields=("kegiatan", "sub kegiatan", "nama sop", "perihal"),
    subject_field_ends=("sub", "waktu", "lokasi", "sumber", "dasar", "yth"),
    activity_fields=("kegiatan", "sub kegiatan"),
    electronic_terms=("aplikasi", "sistem informasi", "online", "sp4n-lapor", "lapor"),
    electronic_prefixes=("e-",),
    electronic_per_thousand=3,
    spbe_terms=("spbe", "sistem pemerintahan berbasis elektronik", "teknologi informasi"),
    spbe_min_mentions=3,
    spbe_per_thousand=3,
    office_kinds=("dinas", "badan", "bidang", "sub bidang"),
    office_name_ends=("kota", "kabupaten", "jalan", "standar"),
    office_kind_not_after=("surat", "nota", "naskah", "di"),
)
INDICATORS = range(1, 48)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    settings = Settings(_env_file=None)
    return Matcher(settings, load_framework(settings.framework_file), top_k=5)


def rulings_for(matcher: Matcher, text: str, scores: dict[int, float]) -> dict[int, Ruling]:
    """Each indicator's ruling on a text whose fused scores are these (the others 0): the form's rules at work."""
    chunks, vectors = matcher.embed(document(text))
    structure = matcher.structure(chunks, "")
    table, _ = features(chunks, vectors, structure, matcher.index)
    rows = {int(number): row for row, number in enumerate(matcher.index.indicators)}
    fused = np.zeros(len(rows))
    for number, score in scores.items():
        fused[rows[number]] = score
    rulings = decide(fused, table, structure, matcher.index, matcher.thresholds)
    return {number: rulings[row] for number, row in rows.items()}


def document(*pages: str) -> Document:
    return Document(Status.OK, kind="pdf", pages=[
        Page(n, [Block(BlockKind.PARAGRAPH, text)], TextSource.TEXT_LAYER) for n, text in enumerate(pages, start=1)
    ])  # fmt: skip


def test_a_regulation_heading_is_a_policy_document():
    heading = "PERATURAN WALI KOTA BANJARMASIN NOMOR 5 TAHUN 2024 TENTANG MANAJEMEN DATA"
    assert read_structure(heading, "", MARKERS, INDICATORS).is_policy


def test_a_report_citing_a_regulation_later_is_not_a_policy_document():
    text = "LAPORAN KEGIATAN BIMBINGAN TEKNIS PENGELOLA APLIKASI TAHUN 2024 dilaksanakan berdasarkan Peraturan Wali Kota"
    assert not read_structure(text, "", MARKERS, INDICATORS).is_policy


def test_a_news_item_opening_with_the_decree_it_cites_is_not_a_policy_document():
    text = ("Berdasarkan Keputusan Bupati Buleleng Nomor 100.3.3.2.11/HK/2024 tentang Tim Audit TIK, Dinas Kominfosanti "
            "menggandeng tenaga ahli untuk melakukan audit aplikasi milik Pemerintah Daerah")
    assert not read_structure(text, "", MARKERS, INDICATORS).is_policy


@pytest.mark.parametrize(
    "text",
    [
        "Mengacu pada Peraturan Wali Kota Nomor 5 Tahun 2024 tentang Manajemen Data, Dinas menyusun daftar data",
        "Berdasarkan Keputusan Bupati Nomor 5 Tahun 2024 tentang Tim Audit TIK, Keputusan tersebut dilaksanakan oleh Dinas",
        "LAPORAN PELAKSANAAN TUGAS TAHUN 2024 Laporan ini memenuhi Diktum KEEMPAT Keputusan Wali Kota Nomor 56 Tahun "
        "2023 tentang Tim Koordinasi SPBE",
        "NOTULEN RAPAT Keputusan Wali Kota Nomor 56 Tahun 2023 tentang Tim Koordinasi SPBE dibahas",
    ],
)
def test_a_report_opening_with_the_policy_it_follows_is_not_a_policy_document(text):
    assert not read_structure(text, "", MARKERS, INDICATORS).is_policy


def test_a_phrase_in_the_body_is_not_taken_for_the_close_of_an_addressee_list():
    text = ("Yth. Para Kepala Perangkat Daerah SURAT EDARAN WALI KOTA BANUA RAYA NOMOR 5 TAHUN 2024 TENTANG PENGGUNAAN "
            "APLIKASI SRIKANDI Naskah dinas disimpan di tempat kerja melalui aplikasi")
    structure = read_structure(text, "", MARKERS, INDICATORS)
    assert structure.is_policy and structure.subject.startswith("penggunaan aplikasi srikandi")


def test_the_annex_of_a_decree_is_not_the_policy_itself():
    text = "LAMPIRAN KEPUTUSAN WALI KOTA NOMOR 188.45/12/2024 TENTANG PETA PROSES BISNIS"
    assert not read_structure(text, "", MARKERS, INDICATORS).is_policy


def test_a_decree_under_a_letterhead_is_a_policy_document():
    text = ("PEMERINTAH KABUPATEN SEKAR WANGI DINAS KOMUNIKASI DAN INFORMATIKA Jl. Merdeka No. 2 Telp. 0511 325112 "
            "KEPUTUSAN KEPALA DINAS KOMUNIKASI DAN INFORMATIKA NOMOR 15 TAHUN 2024 TENTANG TIM PENGELOLA SITUS WEB")
    assert read_structure(text, "", MARKERS, INDICATORS).is_policy


def test_a_circular_is_read_from_its_heading_past_its_addressees():
    text = ("MENTERI PENDAYAGUNAAN APARATUR NEGARA DAN REFORMASI BIROKRASI REPUBLIK INDONESIA Yth. 1. Para Menteri "
            "Kabinet Indonesia Maju; 2. Para Kepala Lembaga Pemerintah Non Kementerian; 3. Para Gubernur; 4. Para "
            "Bupati; dan 5. Para Wali Kota di Tempat SURATEDARAN MENTERI PENDAYAGUNAAN APARATUR NEGARA DAN "
            "REFORMASI BIROKRASI NOMOR 18 TAHUN 2022 TENTANG KETERPADUAN LAYANAN DIGITAL NASIONAL 1. Latar Belakang ...")
    structure = read_structure(text, "", MARKERS, INDICATORS)
    assert structure.is_policy  # the heading of a scan, its words run together
    assert structure.subject == "keterpaduan layanan digital nasional"


def test_a_regional_circular_is_read_past_addressees_closed_by_its_seat():
    text = ("BUPATI LEMBAH HIJAU Wae Lestari, 6 November 2023 Kepada Yth. 1. Sekretaris Daerah; 2. Kepala Perangkat "
            "Daerah se-Kabupaten Lembah Hijau; 3. Camat se-Kabupaten Lembah Hijau; 4. Lurah dan Kepala Desa; "
            "5. Direktur RSUD Andi Pallawa; 6. Kepala Sekolah Negeri; 7. Kepala Puskesmas; 8. Pimpinan BUMD; "
            "di - Wae Lestari SURAT EDARAN NOMOR 400.14.1.1/1092/Diskominfo-P/2023 TENTANG PEMANFAATAN JARINGAN "
            "KOMUNIKASI DATA PEMERINTAH KABUPATEN LEMBAH HIJAU Dalam rangka menjaga keamanan pengiriman data")
    structure = read_structure(text, "", MARKERS, INDICATORS)
    assert structure.is_policy
    assert structure.subject.startswith("pemanfaatan jaringan komunikasi data")


def test_a_certified_copy_is_read_past_its_stamp():
    copy = "SALINAN PERATURAN WALI KOTA BANJARMASIN NOMOR 5 TAHUN 2024 TENTANG MANAJEMEN DATA DENGAN RAHMAT TUHAN"
    annex = "SALINAN LAMPIRA N KEPUTUSAN MENTERI NOMOR KEP. 12/2023 ARSITEKTUR DAN PETA RENCANA SPBE BAB 1 PENDAHULUAN"
    assert read_structure(copy, "", MARKERS, INDICATORS).title.startswith("peraturan wali kota banjarmasin")
    assert not read_structure(annex, "", MARKERS, INDICATORS).is_policy  # an annex, its heading split by OCR


def test_a_budget_sheet_is_about_the_activity_it_funds():
    text = ("DOKUMEN PELAKSANAAN ANGGARAN SATUAN KERJA PERANGKAT DAERAH (DPA-SKPD) Tahun Anggaran 2024 Program : "
            "2.16.03 - Program Pengelolaan Aplikasi Informatika Kegiatan : 2.16.03.1.02 - Pengelolaan e-Government "
            "Sub Kegiatan : 2.16.03.1.02.0005 Pengelolaan Pusat Data Pemerintahan Daerah Sumber Pendanaan : PAD "
            "Lokasi Kegiatan : 01-01-2024 sampai dengan 31-12-2024 Kota Banjarmasin")
    subject = read_structure(text, "", MARKERS, INDICATORS).subject
    assert subject.startswith("dokumen pelaksanaan anggaran")  # what the document is
    assert subject.endswith("pengelolaan e-government pengelolaan pusat data pemerintahan daerah")  # what it funds


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("PEMERINTAH KOTA BANUA RAYA DINAS KOMUNIKASI DAN INFORMATIKA Nomor SOP | 800/12/2024 | Nama SOP | Penetapan "
         "Tata Cara Layanan Data Center | Dasar Hukum | 1. Peraturan Presiden Nomor 95 Tahun 2018", "penetapan tata cara layanan data center"),
        ("NOTA DINAS Kepada : Anggota Tim Koordinasi SPBE Dari : Sekretaris Daerah Perihal : Rapat Tim Koordinasi SPBE "
         "Triwulan II Yth. Bapak/Ibu", "rapat tim koordinasi spbe triwulan ii"),
    ],
)  # fmt: skip
def test_an_sop_or_a_letter_names_its_subject_in_a_field(text, named):
    assert read_structure(text, "", MARKERS, INDICATORS).subject.endswith(named)


def test_a_kebijakan_internal_chapter_is_a_policy_by_its_title():
    text = "6 KEBIJAKAN INTERNAL PUSAT DATA 6.1 Tujuan. Standar ini mengatur penyelenggaraan pusat data."
    assert read_structure(text, "", MARKERS, INDICATORS).is_policy


def test_the_subject_of_a_regulation_is_its_tentang_clause():
    text = ("PERATURAN WALI KOTA BANJARMASIN NOMOR 5 TAHUN 2024 TENTANG PENYELENGGARAAN SATU DATA "
            "DENGAN RAHMAT TUHAN YANG MAHA ESA WALI KOTA BANJARMASIN, Menimbang: bahwa ...")
    assert read_structure(text, "", MARKERS, INDICATORS).subject == "penyelenggaraan satu data"


def test_a_subject_read_from_a_legal_basis_list_ends_at_the_next_item():
    text = ("STANDAR LAYANAN PUSAT DATA Dasar hukum: 1. Peraturan Presiden Nomor 95 Tahun 2018 tentang Sistem "
            "Pemerintahan Berbasis Elektronik 2. Peraturan Menteri Komunikasi dan Informatika Nomor 4 Tahun 2016")
    assert read_structure(text, "", MARKERS, INDICATORS).subject == "sistem pemerintahan berbasis elektronik"


@pytest.mark.parametrize(
    ("text", "subject", "scope"),
    [
        ("KEBIJAKAN INTERNAL PUSAT DATA Dasar hukum: 1. Peraturan Presiden Nomor 95 Tahun 2018 tentang Sistem "
         "Pemerintahan Berbasis Elektronik 2. Peraturan Menteri Komunikasi dan Informatika", "pusat data", ()),
        ("11. KEBIJAKAN INTERNAL MANAJEMEN SPBE 11.1. Dasar Hukum 1. Peraturan Presiden Nomor 95 Tahun 2018 tentang "
         "Sistem Pemerintahan Berbasis Elektronik;", "manajemen spbe", (3, 8, 21, 24, 25, 26, 27, 28)),
        ("KEBIJAKAN INTERNAL SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK Pendahuluan", "sistem pemerintahan berbasis "
         "elektronik", SPBE_AS_A_WHOLE),
        ("KEBIJAKANINTERNAL PUSAT DATA Maksud dan tujuan", "pusat data", ()),  # as OCR joins the title
        ("KEBIJAKAN INTERNAL TENTANG PENYELENGGARAAN SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK", "penyelenggaraan "
         "sistem pemerintahan berbasis elektronik", SPBE_AS_A_WHOLE),  # the title's "tentang" clause names it
        ("KEBIJAKAN INTERNAL PERATURAN BUPATI SEKAR WANGI NOMOR 3 TAHUN 2024 TENTANG SATU DATA", "satu data",
         ()),  # so does the clause of the regulation the title heads
    ],
)  # fmt: skip
def test_a_titled_policy_is_about_its_title_not_about_what_its_legal_basis_cites(text, subject, scope):
    structure = read_structure(text, "", MARKERS, INDICATORS)
    assert (structure.subject, structure.scope_indicators) == (subject, scope)


def test_a_report_on_a_kebijakan_internal_is_no_policy():
    text = "Laporan evaluasi kebijakan internal SPBE tahun 2023 disusun oleh Dinas Kominfo"
    assert not read_structure(text, "", MARKERS, INDICATORS).is_policy


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG PENYELENGGARAAN SISTEM PEMERINTAHAN BERBASIS "
         "ELEKTRONIK DI LINGKUNGAN PEMERINTAH KOTA BANUA RAYA DENGAN RAHMAT TUHAN YANG MAHA ESA", True),
        ("PERATURAN BUPATI SEKAR WANGI NOMOR 3 TAHUN 2023 TENTANG SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK Pasal 1", True),
        ("KEPUTUSAN WALI KOTA BANUA RAYA NOMOR 12 TAHUN 2024 TENTANG TIM KOORDINASI SISTEM PEMERINTAHAN BERBASIS "
         "ELEKTRONIK Menimbang: bahwa", False),
        ("SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK KOTA BANUA RAYA: laporan capaian tahun 2024", False),
    ],
)  # fmt: skip
def test_a_policy_on_spbe_as_a_whole_is_told_from_a_policy_on_one_part_of_it(text, whole):
    assert read_structure(text, "", MARKERS, INDICATORS).scope_indicators == (SPBE_AS_A_WHOLE if whole else ())


@pytest.mark.parametrize(
    ("text", "electronic"),
    [
        ("Pendaftaran dilakukan secara online melalui aplikasi e-PPDB di laman ppdb.banuaraya.go.id", True),
        ("Pendaftaran dilakukan di loket sekolah dengan mengisi formulir dan menyerahkan fotokopi kartu keluarga", False),
    ],
)
def test_a_document_shows_an_electronic_service_by_its_ict_words(text, electronic):
    assert read_structure(text, "", MARKERS, INDICATORS).is_electronic is electronic


def test_an_electronic_word_counts_once_where_two_terms_find_it():
    twice = " ".join(["kata"] * 998 + ["SP4N-LAPOR", "SP4N-LAPOR"])  # 2 places in 1,000 words, under 3 per 1,000
    assert not read_structure(twice, "", MARKERS, INDICATORS).is_electronic


def test_a_form_field_split_over_two_lines_is_read():
    text = "PEMERINTAH KOTA BANUA RAYA Nama\nSOP : Penetapan Tata Cara Layanan Data Center Dasar Hukum : Perpres 95/2018"
    assert read_structure(text, "", MARKERS, INDICATORS).subject.endswith("penetapan tata cara layanan data center")


def test_a_report_is_its_own_subject():
    text = "LAPORAN HASIL AUDIT APLIKASI SIMPEG TAHUN 2024 Bab I Pendahuluan"
    assert read_structure(text, "", MARKERS, INDICATORS).subject.startswith("laporan hasil audit aplikasi simpeg")


def test_section_headings_are_read_from_the_whole_document():
    text = ("PERATURAN WALI KOTA TENTANG SPBE ... Pasal 5 ... Bagian Kedua Arsitektur SPBE Pasal 6 Arsitektur SPBE "
            "disusun ... Paragraf 2 Pusat Data Pasal 20 Pemerintah Daerah menyelenggarakan pusat data ...")
    headings = read_structure(text, "", MARKERS, INDICATORS).headings
    assert "arsitektur spbe" in headings and "pusat data" in headings


def test_a_section_heading_ends_where_an_article_or_the_next_section_begins():
    text = ("PERATURAN WALI KOTA TENTANG SPBE BAB II TATA KELOLA SPBE Bagian Kedua Arsitektur SPBE Pasal 6 Arsitektur "
            "SPBE disusun ... BAB VII PENUTUP Pasal 30 Tim Koordinasi SPBE dibentuk paling lambat ...")
    headings = read_structure(text, "", MARKERS, INDICATORS).headings
    assert headings == "tata kelola spbe | arsitektur spbe | penutup"  # no team: the article is no title


@pytest.mark.parametrize(
    ("filename", "indicator"),
    [("35.screenshot LPSE.jpg", 35), ("1.a.Perwal-1-2020.pdf", 1), ("16.b.SOP_DC.pdf", 16),
     ("[Indikator 42i] Screenshot SP4N.png", 42), ("2024 laporan.pdf", None), ("Perwal.pdf", None), ("99.x.pdf", None),
     ("lampiran/05 SK Tim.pdf", 5), ("12 Rapat/35.screenshot LPSE.jpg", 35),
     ("05-2024/foto.jpg", None), ("12 Rapat/Notulen.pdf", None)],  # a folder's number is as often a month
)
def test_a_file_name_may_cite_its_indicator(filename, indicator):
    assert read_structure("", filename, MARKERS, INDICATORS).filename_indicator == indicator


def test_curated_terms_point_to_their_indicator():
    settings = Settings(_env_file=None)
    profiles = load_profiles(settings.profiles_file, load_framework(settings.framework_file)).profiles
    hits = TermIndex(profiles).hits([Chunk(1, "Tampilan aplikasi SRIKANDI untuk naskah dinas elektronik")])
    assert profiles[int(hits.body.argmax())].indicator == 37
    assert hits.best_chunk[36] == 0


@pytest.mark.parametrize(
    ("written", "found"), [("e-Kinerja", True), ("e Kinerja", True), ("eKinerja", True), ("E - KINERJA", True),
                           ("e. Kinerja", False), ("dae kinerja", False), ("kinerja", False)]
)  # fmt: skip
def test_a_hyphenated_name_is_found_however_its_hyphen_is_written(written, found):
    assert bool(phrase_pattern("e-kinerja").search(f"penerapan aplikasi {written} di kabupaten".lower())) is found


@pytest.mark.parametrize(
    ("text", "indicator"),
    [
        ("PANDUAN PENGGUNAAN LPSE. Penyedia mendaftar di SPSE untuk mengikuti tender pengadaan barang dan jasa "
         "secara elektronik dan e-katalog.", 35),
        ("PERATURAN WALI KOTA NOMOR 3 TAHUN 2024 TENTANG PENYELENGGARAAN SATU DATA. Walidata dan produsen data "
         "menyusun metadata dan data prioritas.", 3),
        ("Tampilan halaman SP4N-LAPOR! untuk pengaduan masyarakat dan tindak lanjut pengaduan.", 42),
    ],
)
def test_the_right_indicator_comes_first(matcher, text, indicator):
    assert matcher.match(*matcher.embed(document(text)))[0].indicator == indicator


def test_a_regulation_on_several_subjects_supports_the_policy_indicator_of_each(matcher):
    regulation = (
        "PERATURAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK "
        "DENGAN RAHMAT TUHAN YANG MAHA ESA WALI KOTA BANUA RAYA, Menimbang: bahwa perlu tata kelola SPBE. "
        "BAB II TATA KELOLA SPBE Bagian Kedua Arsitektur SPBE Pasal 6 Arsitektur SPBE Pemerintah Daerah disusun "
        "berpedoman pada Arsitektur SPBE Nasional dan memuat referensi arsitektur dan domain arsitektur. "
        "Bagian Ketiga Peta Rencana SPBE Pasal 9 Peta Rencana SPBE disusun untuk 5 tahun dan memuat tahapan "
        "pengembangan. Paragraf 2 Pusat Data Pasal 20 Pemerintah Daerah menggunakan pusat data nasional dan "
        "menyelenggarakan pusat data daerah dengan ruang server yang memenuhi standar. Ditetapkan di Banua Raya."
    )
    supported = {m.indicator for m in matcher.match(*matcher.embed(document(regulation))) if m.decision == "supports"}
    assert supported == {1, 2, 5}  # Kebijakan Internal Arsitektur, Peta Rencana, Layanan Pusat Data


@pytest.mark.parametrize(
    "subject",
    [
        "PENYELENGGARAAN SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK",
        "PENYELENGGARAAN PEMERINTAHAN DIGITAL",  # its name since Perpres 82/2023 and the Indeks Pemerintah Digital
        "TATA KELOLA TEKNOLOGI INFORMASI DAN KOMUNIKASI",  # its name before Perpres 95/2018
    ],
)
def test_a_regulation_on_spbe_as_a_whole_supports_the_policy_indicator_of_each_topic_it_covers(matcher, subject):
    regulation = (
        f"PERATURAN BUPATI SEKAR WANGI NOMOR 3 TAHUN 2023 TENTANG {subject} "
        "DENGAN RAHMAT TUHAN YANG MAHA ESA BUPATI SEKAR WANGI, Menimbang: bahwa perlu tata kelola SPBE. "
        "Pasal 4 Manajemen data dilaksanakan melalui Satu Data Indonesia dengan standar data, metadata dan "
        "interoperabilitas data. Pasal 9 Audit teknologi informasi dan komunikasi meliputi audit infrastruktur, "
        "audit aplikasi dan audit keamanan SPBE. Pasal 12 Manajemen keamanan informasi SPBE menerapkan standar "
        "keamanan informasi. Ditetapkan di Sekar Wangi."
    )
    supported = {m.indicator for m in matcher.match(*matcher.embed(document(regulation))) if m.decision == "supports"}
    assert supported == {3, 8, 9}  # Kebijakan Internal Manajemen Data, Keamanan Informasi, Audit TIK


def test_a_regulation_on_spbe_as_a_whole_with_a_part_on_a_topic_sets_that_topics_policy_from_the_lower_threshold(
    matcher,
):
    regulation = (
        "PERATURAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK "
        "DENGAN RAHMAT TUHAN YANG MAHA ESA WALI KOTA BANUA RAYA, Menimbang: bahwa perlu tata kelola SPBE. "
        "Bagian Ketiga Peta Rencana SPBE Pasal 9 Peta Rencana SPBE disusun untuk 5 tahun. Pasal 20 Pemerintah "
        "Daerah menggunakan pusat data nasional. Ditetapkan di Banua Raya."
    )
    # both second best, between best_supports (0.25) and the review threshold: the roadmap has a part of its own
    rulings = rulings_for(matcher, regulation, {1: 0.4, 2: 0.28, 5: 0.28})
    assert (rulings[2].decision, rulings[2].ground) == ("supports", Ground.POLICY_SUBJECT)
    assert rulings[5].decision == "none"  # the data centre, named in one article only


def test_a_policy_on_spbe_management_supports_each_management_process_it_sets(matcher):
    """The framework has a Kebijakan Internal indicator for data and security management only: a policy on the
    other processes (risk, ICT assets, competence, change) is evidence for their practice indicators."""
    policy = (
        "KEBIJAKAN INTERNAL MANAJEMEN SPBE Dasar Hukum: Peraturan Presiden Nomor 95 Tahun 2018 tentang Sistem "
        "Pemerintahan Berbasis Elektronik. Pendahuluan: Pemerintah Kota Banua Raya melaksanakan manajemen SPBE "
        "sebagai berikut. 1. Manajemen Risiko: manajemen risiko SPBE dilaksanakan melalui identifikasi risiko, "
        "penilaian risiko dan mitigasi risiko; setiap unit menyusun register risiko dan profil risiko. "
        "2. Manajemen Keamanan Informasi: keamanan informasi dijamin melalui sistem manajemen keamanan informasi "
        "dan tim tanggap insiden (CSIRT). 3. Manajemen Data: data dikelola melalui Satu Data dengan metadata, "
        "standar data dan walidata. 4. Manajemen Aset TIK: aset TIK dicatat dalam daftar aset dan pemeliharaan "
        "aset dijadwalkan. 5. Manajemen Perubahan: setiap permintaan perubahan melalui pengendalian perubahan dan "
        "rencana perubahan yang disetujui."
    )
    supported = {m.indicator for m in matcher.match(*matcher.embed(document(policy))) if m.decision == "supports"}
    assert supported == {3, 8, 21, 24, 27}  # KI Manajemen Data and Keamanan; Risiko, Aset TIK, Perubahan


def test_a_decree_on_a_service_supports_the_service_not_a_policy_indicator(matcher):
    decree = (
        "KEPUTUSAN WALI KOTA BANUA RAYA NOMOR 188.45/77/HK/2024 TENTANG PENETAPAN APLIKASI SRIKANDI SEBAGAI "
        "APLIKASI UMUM BIDANG KEARSIPAN DINAMIS WALI KOTA BANUA RAYA, Menimbang: bahwa kearsipan dinamis "
        "dilaksanakan dengan naskah dinas elektronik. MEMUTUSKAN: Menetapkan SRIKANDI sebagai aplikasi kearsipan."
    )
    supported = [m.indicator for m in matcher.match(*matcher.embed(document(decree))) if m.decision == "supports"]
    assert supported == [37]


def test_minutes_of_a_team_support_its_work_and_leave_its_policy_indicator_for_review(matcher):
    minutes = (
        "NOTULEN RAPAT TIM KOORDINASI SPBE KOTA BANUA RAYA Hari/tanggal: Selasa, 4 Juni 2024. Pimpinan rapat: "
        "Sekretaris Daerah selaku Ketua Tim Koordinasi SPBE. Pembahasan: tindak lanjut hasil evaluasi SPBE 2023, "
        "pembagian tugas anggota Tim Koordinasi SPBE, dan jadwal penilaian mandiri. Kesimpulan: Tim Koordinasi SPBE "
        "melaksanakan koordinasi penerapan SPBE setiap triwulan."
    )
    matches = {m.indicator: m for m in matcher.match(*matcher.embed(document(minutes)))}
    assert (matches[19].decision, matches[19].unmet_rule) == ("supports", None)  # Tim Koordinasi SPBE at work
    # its Kebijakan Internal needs an enacted decree, which minutes are not, and the match says so
    assert (matches[10].decision, matches[10].unmet_rule) == ("review", EvidenceRule.ENACTED_POLICY)


def test_minutes_of_another_team_are_no_evidence_of_the_spbe_team_at_work(matcher):
    minutes = (
        "NOTULEN RAPAT KOORDINASI TIM PENGENDALIAN INFLASI DAERAH KOTA BANUA RAYA Hari/tanggal: Selasa, 8 Oktober 2024. "
        "Pimpinan rapat: Sekretaris Daerah selaku Ketua Tim. Daftar hadir terlampir. Pembahasan: harga beras dan cabai di "
        "pasar, operasi pasar murah, dan susunan keanggotaan tim. Kesimpulan: Sekretaris Tim menyusun laporan rapat "
        "koordinasi setiap bulan."
    )  # the words of any team's minutes, and not one of SPBE or ICT
    best = matcher.match(*matcher.embed(document(minutes)))[0]
    assert (best.indicator, best.decision, best.unmet_rule) == (19, "review", EvidenceRule.SPBE_CONTEXT)


@pytest.mark.parametrize(
    ("text", "names_spbe"),
    [
        ("Rapat Tim Koordinasi SPBE membahas evaluasi SPBE dan teknologi informasi.", True),  # three mentions
        ("Rapat tim membahas harga beras; undangan dikirim lewat aplikasi dan teknologi informasi.", False),  # two
        ("Tim Koordinasi Sistem Pemerintahan Berbasis Elektronik rapat.", False),  # one place, counted once
        ("Rapat tim membahas harga beras. Ditandatangani secara elektronik menggunakan sertifikat elektronik yang "
         "diterbitkan Balai Sertifikasi Elektronik.", False),  # an e-signature footer is no mention of SPBE
        ("Rapat tim membahas SPBE, teknologi informasi dan aplikasi. " + "Harga beras naik di pasar. " * 200,
         False),  # three stray mentions in a long document
    ],
)
def test_a_document_names_spbe_when_it_speaks_of_spbe_or_ict_often_enough(text, names_spbe):
    assert read_structure(text, "", MARKERS, INDICATORS).names_spbe is names_spbe


@pytest.mark.parametrize(
    ("text", "decision", "rule"),
    [
        ("REKAPITULASI PENGADUAN MASYARAKAT MELALUI KOTAK SARAN Kantor Kecamatan Banua Raya Semester I 2024. Kotak saran "
         "dibuka setiap Jumat oleh Sekretaris Camat. Jumlah pengaduan 46: lamanya penerbitan surat keterangan, sikap "
         "petugas, kebersihan ruang tunggu. Tindak lanjut pengaduan dicatat dalam buku register pengaduan dan diumumkan "
         "di papan pengumuman kantor.", "review", EvidenceRule.ELECTRONIC_SERVICE),  # the subject on paper
        ("Tampilan halaman SP4N-LAPOR! untuk pengaduan masyarakat dan tindak lanjut pengaduan secara online melalui "
         "aplikasi.", "supports", None),
    ],
)  # fmt: skip
def test_an_electronic_service_needs_a_document_that_shows_it_electronic(matcher, text, decision, rule):
    best = matcher.match(*matcher.embed(document(text)))[0]
    assert (best.indicator, best.decision, best.unmet_rule) == (42, decision, rule)  # Layanan Pengaduan Publik


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("Rekapitulasi gangguan jaringan internet dan server aplikasi pada perangkat daerah, triwulan III: 14 tiket "
         "ditangani Seksi Infrastruktur TIK, rata-rata pemulihan 3 jam.", "supports"),  # electronic government
        ("Rekapitulasi belanja alat tulis kantor pada perangkat daerah, triwulan III: 14 pesanan kertas, map dan "
         "tinta diterima Subbagian Umum, rata-rata pengiriman 3 hari.", "none"),  # stationery: nothing electronic
    ],
)  # fmt: skip
def test_only_the_best_indicator_of_a_document_on_electronic_government_clears_the_lower_threshold(
    matcher, text, decision
):
    # a tie for best between best_supports (0.25) and review (0.3), and a second best
    rulings = rulings_for(matcher, text, {16: 0.27, 17: 0.27, 28: 0.26})
    assert rulings[28].decision == "none"  # second best: the lower threshold is for the best indicator only
    assert [rulings[16].decision, rulings[17].decision] == [decision, decision]  # Pusat Data, Jaringan


FILLER = "Petugas mengisi formulir, memeriksa isian, lalu menyimpan hasilnya dan melapor kepada atasan. " * 8


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("SOP PENGELOLAAN RUANG SERVER DISKOMINFO KOTA BANUA RAYA. " + FILLER + "Suhu ruang server dan pusat data "
         "dipantau melalui aplikasi setiap pagi; hasilnya diunggah ke sistem informasi.", "supports"),  # announced
        ("PETUNJUK KERJA HARIAN DISKOMINFO KOTA BANUA RAYA. " + FILLER + "Suhu ruang server dan pusat data dipantau "
         "melalui aplikasi setiap pagi; hasilnya diunggah ke sistem informasi.", "none"),  # its title names no topic
        ("BADAN PUSAT DATA DAN INFORMASI KOTA BANUA RAYA PETUNJUK KERJA HARIAN. " + FILLER + "Suhu ruang server dan "
         "pusat data dipantau melalui aplikasi setiap pagi; hasilnya diunggah ke sistem informasi.", "none"),  # only
        # the name of the office that writes it names the topic
    ],
)  # fmt: skip
def test_a_document_on_electronic_government_is_evidence_of_the_topic_its_title_announces(matcher, text, decision):
    # the best indicator, far under every threshold, as a real SOP's is
    assert rulings_for(matcher, text, {16: 0.1})[16].decision == decision


@pytest.mark.parametrize(
    ("text", "decision", "rule"),
    [
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG PENGELOLAAN RUANG SERVER. " + FILLER + "Suhu "
         "ruang server dan pusat data dipantau melalui aplikasi; hasilnya diunggah ke sistem informasi.", "none",
         None),  # a policy: its own rules, not an announcement, decide
        ("SOP PENGELOLAAN RUANG SERVER. " + FILLER * 4 + "Arsip surat dinas disimpan di lemari arsip.", "none",
         None),  # one ICT word in 450: nothing electronic to speak of
        ("SOP PENGELOLAAN RUANG SERVER. " + FILLER + "Kerahasiaan data dijaga: aplikasi keamanan informasi, "
         "sertifikat elektronik, CSIRT dan indeks KAMI di pusat data.", "none", None),  # its body is on security
    ],
)  # fmt: skip
def test_only_a_document_on_electronic_government_whose_body_agrees_announces_its_topic(matcher, text, decision, rule):
    ruling = rulings_for(matcher, text, {16: 0.1})[16]
    assert (ruling.decision, ruling.unmet_rule) == (decision, rule)


AUDIT_NEWS = (
    "Tim Audit Teknologi Informasi dan Komunikasi SPBE Kota Banua Raya melakukan audit aplikasi. " + FILLER
    + "Tim memeriksa aplikasi e-retribusi, aplikasi e-perizinan dan sistem informasi kepegawaian di pusat data."
)


@pytest.mark.parametrize(
    ("text", "audit_policy", "application_audit", "ground"),
    [
        # news of the audit team at work: no audit policy, but the audit carried out, the best scored of the three
        (AUDIT_NEWS, "review", "supports", Ground.POLICY_CARRIED_OUT),
        # the decree that forms the team: the policy's own evidence, whose practices keep their own scores
        ("KEPUTUSAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG TIM AUDIT TEKNOLOGI INFORMASI DAN KOMUNIKASI. "
         + AUDIT_NEWS, "supports", "none", None),
    ],
)  # fmt: skip
def test_a_document_on_a_kebijakan_internal_topic_that_is_no_policy_is_evidence_of_the_topic_carried_out(
    matcher, text, audit_policy, application_audit, ground
):
    rulings = rulings_for(matcher, text, {9: 0.3, 30: 0.05, 29: 0.03, 31: 0.02})  # Audit TIK and its three audits
    assert rulings[9].decision == audit_policy
    assert (rulings[30].decision, rulings[30].ground) == (application_audit, ground)
    assert rulings[29].decision == rulings[31].decision == "none"  # one practice: the document's best


def test_a_kebijakan_internal_topic_carried_out_claims_no_practice_when_the_scores_cannot_tell_which(matcher):
    rulings = rulings_for(matcher, AUDIT_NEWS, {9: 0.3, 30: 0.05, 29: 0.05})
    assert [rulings[number].decision for number in (9, 29, 30, 31)] == ["review", "none", "none", "none"]


def test_an_announced_topic_is_held_at_review_by_a_rule_on_the_kind_of_evidence(matcher):
    text = ("LAPORAN REGISTER RISIKO BAGIAN UMUM. " + FILLER * 2 + "Risiko gangguan aplikasi antrean dicatat dalam "
            "register risiko.")  # one ICT word: never SPBE's own risk management, whatever its title says
    ruling = rulings_for(matcher, text, {21: 0.1})[21]
    assert (ruling.decision, ruling.unmet_rule) == ("review", EvidenceRule.SPBE_CONTEXT)


def test_what_a_form_announces_is_its_title_and_fields_without_the_name_of_the_office_that_writes_it():
    text = ("Nomor SOP 12 Tanggal Pembuatan 13 Oktober 2024 Tanggal Revisi Tanggal Efektif PEMERINTAH KOTA BANUA RAYA "
            "BADAN KEPEGAWAIAN DAN PENGEMBANGAN SUMBER DAYA MANUSIA Bidang Penilaian Kinerja Nama SOP : SOP PERBAIKAN "
            "DATA PADA APLIKASI E-KINERJA Dasar Hukum : Undang-Undang Nomor 5 Tahun 2014")  # the name at words 15-23
    announced = read_structure(text, "", MARKERS, INDICATORS).announced
    assert "kepegawaian" not in announced and "e-kinerja" in announced


def test_an_offices_longer_name_is_blanked_whole_from_what_a_document_announces():
    names = ["badan kepegawaian daerah", "badan kepegawaian daerah bidang mutasi"]
    assert "mutasi" not in without_names("badan kepegawaian daerah bidang mutasi sop cuti pegawai", names)


SECURITY_REGULATION = (
    "PERATURAN WALI KOTA BANUA RAYA NOMOR 12 TAHUN 2024 TENTANG MANAJEMEN KEAMANAN INFORMASI SISTEM PEMERINTAHAN "
    "BERBASIS ELEKTRONIK, Menimbang: bahwa perlu menjamin keamanan informasi SPBE. Pasal 3 Perangkat daerah menerapkan "
    "sistem manajemen keamanan informasi berdasarkan SNI ISO/IEC 27001, menilai diri dengan indeks KAMI, menangani "
    "insiden keamanan informasi bersama CSIRT dan melakukan uji penetrasi aplikasi setiap tahun. "
)
SECURITY_ANNEX = (
    "LAMPIRAN PERATURAN WALI KOTA BANUA RAYA NOMOR 12 TAHUN 2024 PROSEDUR KEAMANAN INFORMASI: klasifikasi aset "
    "informasi, pengendalian akses, penanganan insiden keamanan informasi, pencadangan data dan penilaian indeks KAMI."
)


@pytest.mark.parametrize(
    ("text", "practice"),
    [
        (SECURITY_REGULATION, ("review", EvidenceRule.CARRIED_OUT)),  # sets the policy, shows none carried out
        (SECURITY_REGULATION + SECURITY_ANNEX, ("supports", None)),  # its annex holds the practice: both
        (SECURITY_REGULATION.replace("PERATURAN", "KEPUTUSAN", 1), ("supports", None)),  # a decree is an act: both
    ],
)
def test_a_regulation_supports_its_topics_policy_indicator_and_its_practice_only_with_the_practice_document(
    matcher, text, practice
):
    matches = {m.indicator: m for m in matcher.match(*matcher.embed(document(text)))}
    assert matches[8].decision == "supports"  # Kebijakan Internal Manajemen Keamanan Informasi
    assert (matches[22].decision, matches[22].unmet_rule) == practice  # Penerapan Manajemen Keamanan Informasi


@pytest.mark.parametrize(
    ("text", "policy_only"),
    [
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG SATU DATA. Pasal 2 Data dikelola walidata.", True),
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG ARSITEKTUR SPBE. Pasal 2 Arsitektur SPBE tercantum "
         "dalam Lampiran yang merupakan bagian tidak terpisahkan dari Peraturan Wali Kota ini.", True),  # cites its annex
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG ARSITEKTUR SPBE. Pasal 2 Arsitektur SPBE tercantum "
         "dalam Lampiran. LAMPIRAN I : PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 Domain arsitektur.", False),
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG KEAMANAN INFORMASI. Pasal 2 Standar teknis "
         "tercantum dalam Lampiran Peraturan BSSN Nomor 4 Tahun 2021.", True),  # cites another policy's annex
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG ARSITEKTUR SPBE. LAMPIRANPERATURAN WALI KOTA "
         "BANUA RAYA NOMOR 3 TAHUN 2024 Domain arsitektur.", False),  # its annex, the heading run together by OCR
        ("KEPUTUSAN WALI KOTA BANUA RAYA NOMOR 100/7/2024 TENTANG FORUM SATU DATA. KESATU Membentuk forum.", False),
        ("Laporan pelaksanaan Satu Data tahun 2024 menurut Peraturan Wali Kota Nomor 3 Tahun 2024.", False),  # no policy
    ],
)  # fmt: skip
def test_a_policy_that_sets_a_topic_is_told_from_one_that_also_carries_it_out(text, policy_only):
    assert read_structure(text, "", MARKERS, INDICATORS).is_policy_only is policy_only


def test_a_policy_indicator_named_in_an_enacted_policys_subject_clears_the_lower_threshold(matcher):
    regulation = (
        "PERATURAN BUPATI SEKAR WANGI NOMOR 9 TAHUN 2024 TENTANG PENYELENGGARAAN SATU DATA INDONESIA, Menimbang: bahwa "
        "perlu data yang akurat. Pasal 3 Keamanan informasi data dijaga oleh perangkat daerah."
    )
    # the body may weigh on another topic; 3 and 1 stand between best_supports (0.25) and review (0.3)
    rulings = rulings_for(matcher, regulation, {8: 0.9, 3: 0.27, 1: 0.27})
    assert rulings[3].decision == "supports"  # Kebijakan Internal Manajemen Data: its subject names Satu Data
    assert rulings[3].ground is Ground.POLICY_SUBJECT  # the report tells the reader the policy's title named it
    assert rulings[1].decision == "none"  # Kebijakan Internal Arsitektur SPBE: not named


def test_a_regulation_on_an_offices_structure_and_duties_is_evidence_for_nothing(matcher):
    regulation = (
        "PERATURAN WALI KOTA BANUA RAYA NOMOR 41 TAHUN 2021 TENTANG KEDUDUKAN, SUSUNAN ORGANISASI, TUGAS DAN FUNGSI "
        "SERTA TATA KERJA DINAS KOMUNIKASI, INFORMATIKA DAN PERSANDIAN, Menimbang: bahwa perlu menetapkan tugas dinas. "
        "Pasal 5 Bidang Persandian mempunyai tugas melaksanakan persandian dan keamanan informasi. Pasal 6 Bidang "
        "Aplikasi Informatika mempunyai tugas mengelola aplikasi, e-government, pusat data dan jaringan internet."
    )
    best = matcher.match(*matcher.embed(document(regulation)))[0]
    assert (best.indicator, best.decision, best.unmet_rule) == (8, "review", EvidenceRule.SPBE_EVIDENCE)  # not
    # the Kebijakan Internal Keamanan Informasi its words would make it


@pytest.mark.parametrize(
    "text",
    [
        "KEPUTUSAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG SUSUNAN ORGANISASI DAN TATA KERJA TIM KOORDINASI "
        "SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK",  # the team's decree: evidence
        "Berdasarkan Peraturan Wali Kota tentang Kedudukan, Susunan Organisasi, Tugas dan Fungsi Dinas Kominfo, rapat "
        "membahas aplikasi",  # minutes citing the office's regulation
        "PERATURAN WALI KOTA BANUA RAYA NOMOR 2 TAHUN 2024 TENTANG KEDUDUKAN, SUSUNAN ORGANISASINYA",  # word for word
    ],
)
def test_only_a_regulation_whose_subject_is_an_offices_structure_and_duties_counts_as_one(text):
    assert not read_structure(text, "", MARKERS, INDICATORS).is_organisation


PERPRES = ("PRESIDEN REPUBLIK INDONESIA PERATURAN PRESIDEN REPUBLIK INDONESIA NOMOR 95 TAHUN 2018 TENTANG SISTEM "
           "PEMERINTAHAN BERBASIS ELEKTRONIK")


@pytest.mark.parametrize(
    ("text", "elsewhere"),
    [
        (PERPRES, True),  # the national regulation an SKPD uploads in place of the city's own
        ("WALI KOTA DENPASAR PROVINSI BALI PERATURAN WALI KOTA DENPASAR NOMOR 35 TAHUN 2014 TENTANG SPBE", True),
        ("WALI KOTA BANJARMASIN PROVINSI KALIMANTAN SELATAN PERATURAN WALI KOTA BANJARMASIN NOMOR 21 TAHUN 2025 "
         "TENTANG ARSITEKTUR SPBE", False),
        ("PEMERINTAH KOTA BANJARMASIN DINAS KOMUNIKASI, INFORMATIKA DAN STATISTIK Jalan RE Martadinata No. 1 "
         "KEPUTUSAN KEPALA DINAS NOMOR 12 TAHUN 2026 TENTANG TIM PENGELOLA DATA", False),  # under its letterhead
        ("Laporan pelaksanaan Peraturan Presiden Nomor 95 Tahun 2018 di lingkungan pemerintah kota", False),  # no policy
        ("WALI KOTA BANJARMASlN PERATURAN WALI KOTA BANJARMASlN NOMOR 3 TAHUN 2024 TENTANG SATU DATA", False),  # OCR
        ("WALI KOTA BANJARBARU PERATURAN WALI KOTA BANJARBARU NOMOR 3 TAHUN 2024 TENTANG SATU DATA", True),  # neighbour
        ("WALIKOTABANJARMASIN PERATURAN WALIKOTA NOMOR 3 TAHUN 2024 TENTANG SATU DATA", False),  # OCR ran it together
        ("B A N J A R M A S I N PERATURAN WALI KOTA NOMOR 3 TAHUN 2024 TENTANG SATU DATA", False),  # spaced out
        ("WALI KOTA BANJARMASIN Banjarmasin, 2 Januari 2026 Yth. Para Kepala Perangkat Daerah di Tempat SURAT EDARAN "
         "NOMOR 12 TAHUN 2026 TENTANG PENGGUNAAN SRIKANDI", False),  # a circular: its letterhead precedes "Yth."
        ("WALI KOTA DENPASAR Denpasar, 2 Januari 2026 Yth. Para Kepala Perangkat Daerah di Tempat SURAT EDARAN "
         "NOMOR 12 TAHUN 2026 TENTANG PENGGUNAAN SRIKANDI", True),  # another city's circular
        ("MENTERI DALAM NEGERI REPUBLIK INDONESIA Yth. Wali Kota Banjarmasin di Banjarmasin SURAT EDARAN NOMOR 5 "
         "TAHUN 2026 TENTANG SATU DATA", True),  # a ministry's circular to the city: the city is its addressee
    ],
)
def test_a_policy_whose_heading_names_another_government_is_issued_elsewhere(text, elsewhere):
    assert read_structure(text, "", MARKERS, INDICATORS, region="Banjarmasin").issued_elsewhere is elsewhere
    assert not read_structure(text, "", MARKERS, INDICATORS).issued_elsewhere  # no region given: evaluation


@pytest.mark.parametrize(
    ("region", "heading"),
    [("Banjar", "PERATURAN WALI KOTA BANJARMASIN NOMOR 3"),  # a neighbour whose name starts the same
     ("Pati", "PERATURAN BUPATI KUDUS NOMOR 3"),  # inside another word ("BUPATI")
     ("Lingga", "PERATURAN WALI KOTA LUBUKLINGGAU NOMOR 3"),
     ("Agam", "PERATURAN MENTERI AGAMA NOMOR 3")],  # too short a name to forgive a slip
)  # fmt: skip
def test_a_short_region_name_is_not_found_inside_other_words(region, heading):
    text = f"{heading} TAHUN 2024 TENTANG SATU DATA"
    assert read_structure(text, "", MARKERS, INDICATORS, region=region).issued_elsewhere


def test_a_policy_another_government_enacted_is_evidence_for_nothing_here():
    """An assessor counts only the city's own policy: Perpres 95/2018 is no Kebijakan Internal of Banjarmasin."""
    settings = Settings(_env_file=None)
    city = Matcher(settings, load_framework(settings.framework_file), region="Banjarmasin")
    rulings = rulings_for(city, PERPRES, {1: 0.9, 4: 0.6})
    assert rulings[1] == rulings[4] == Ruling(Decision.REVIEW, EvidenceRule.OWN_GOVERNMENT)


def test_an_offices_name_is_told_from_what_the_document_says():
    letterhead = ("DINAS TENAGA KERJA DAN SERTIFIKASI KOMPETENSI KOTA DENPASAR Bidang Penempatan Tenaga Kerja | SOP "
                  "Pelayanan Kartu Pencari Kerja. Petugas yang melayani mencatat data pencari kerja pada komputer.")
    structure = read_structure(letterhead, "", MARKERS, INDICATORS)
    assert structure.office_names == "dinas tenaga kerja dan sertifikasi kompetensi | bidang penempatan tenaga kerja"
    assert "kompetensi" not in structure.content
    assert "kota denpasar" in structure.content and "petugas yang melayani" in structure.content


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Pegawai di bidang teknologi informasi mengikuti pelatihan sertifikasi kompetensi.", ""),  # prose
        ("Pegawai di Bidang Teknologi Informasi mengikuti pelatihan.", ""),  # prose, capitalised
        ("Tata Naskah Dinas Elektronik melalui SRIKANDI; Surat Dinas dikirim ke badan usaha.", ""),  # no office
        ("DINAS KOMUNIKASI DAN INFORMATIKA STANDAR OPERASIONAL PROSEDUR PENGELOLAAN PUSAT DATA",
         "dinas komunikasi dan informatika"),  # the SOP's own title is no part of the name
        ("BADAN KEPEGAWAIAN DAN PENGEMBANGAN SUMBER DAYA MANUSIA Bidang Penilaian Kinerja Aparatur Sub Bidang "
         "Evaluasi | Disahkan", "badan kepegawaian dan pengembangan sumber daya manusia bidang penilaian kinerja "
         "aparatur | sub bidang evaluasi"),  # ten words at most
        ("Laporan pelatihan. " + "Peserta belajar. " * 200 + "Kepala Dinas Tenaga Kerja dan Sertifikasi Kompetensi",
         ""),  # past the top of the document: a signature, read as content
    ],
)  # fmt: skip
def test_only_a_capitalised_name_at_the_top_of_a_document_is_an_offices_name(text, names):
    assert read_structure(text, "", MARKERS, INDICATORS).office_names == names


JOB_CARD_SOP = (
    "DINAS TENAGA KERJA DAN SERTIFIKASI KOMPETENSI KOTA BANUA RAYA. STANDAR OPERASIONAL PROSEDUR PELAYANAN KARTU "
    "PENCARI KERJA. Peralatan: komputer dengan aplikasi office dan aplikasi sistem ketenagakerjaan. Pencari kerja "
    "mengisi formulir, petugas memeriksa berkas dan mencatat data pencari kerja pada aplikasi, lalu kartu dicetak."
)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (JOB_CARD_SOP, EvidenceRule.TOPIC_IN_CONTENT),  # "sertifikasi kompetensi" only in the letterhead
        (JOB_CARD_SOP + " Petugas mengikuti pelatihan dan sertifikasi kompetensi aplikasi.", None),  # and in the text
    ],
)
def test_a_topic_named_only_in_an_offices_name_is_not_what_the_document_is_about(matcher, text, rule):
    structure = matcher.structure(*matcher.embed(document(text))[:1], "")
    rules = dict(zip(matcher.index.indicators, unmet_rules(failed_rules(structure, matcher.index))))
    assert rules[25] == rule  # Kompetensi Sumber Daya Manusia


def budget_sheet(sub_activity: str) -> str:
    """A DPA sheet of the Dinas Kominfo funding one sub-activity: the same budget lines, whatever it funds."""
    return ("DOKUMEN PELAKSANAAN ANGGARAN SATUAN KERJA PERANGKAT DAERAH (DPA-SKPD) Tahun Anggaran 2024 Urusan : "
            "Komunikasi dan Informatika Program : 2.16.03 - Program Pengelolaan Aplikasi Informatika Kegiatan : "
            f"2.16.03.1.02 - Pengelolaan e-Government Sub Kegiatan : 2.16.03.1.02.0005 {sub_activity} Sumber Pendanaan "
            ": PAD Lokasi Kegiatan : Kota Banua Raya Waktu Pelaksanaan : Januari s.d. Desember 2024. Kode Rekening "
            "5.1.02.01.01.0024 Belanja Alat Tulis Kantor Rp 2.500.000; 5.1.02.02.01.0026 Belanja Jasa Tenaga Ahli Rp "
            "60.000.000; Belanja Modal Peralatan Komputer Rp 120.000.000. Pagu anggaran tahun anggaran 2024.")


@pytest.mark.parametrize(
    ("sub_activity", "supported"),
    [
        ("Pengelolaan Layanan Pengadaan Secara Elektronik (LPSE)", {13, 35}),  # the budget, and procurement it funds
        ("Penyediaan Alat Tulis Kantor", {13}),  # the budget of an activity no indicator is about
        ("Penyelenggaraan Persandian untuk Pengamanan Informasi", {13, 22}),  # security carried out, not its
        # Kebijakan Internal (8): a budget is no policy
        ("Pembangunan Jaringan Telekomunikasi", {13, 17}),  # as the budget nomenclature names the activities of
        ("Pengembangan dan Pengelolaan Aplikasi Generik", {13, 15}),  # the intra network and of applications
    ],
)
def test_a_budget_sheet_supports_the_activity_it_funds(matcher, sub_activity, supported):
    matches = matcher.match(*matcher.embed(document(budget_sheet(sub_activity))))
    assert {match.indicator for match in matches if match.decision == "supports"} == supported


SYSTEM_DESIGN = (
    "BAB III ANALISIS DAN PERANCANGAN SISTEM E-RETRIBUSI. 3.1 Analisis kebutuhan: pengguna wajib retribusi, petugas "
    "OPD dan bendahara. 3.2 Use case diagram menggambarkan pendaftaran wajib retribusi dan pembayaran. 3.3 Activity "
    "diagram alur penerbitan SKRD. 3.4 Class diagram dan struktur tabel retribusi, wajib_retribusi, pembayaran."
)


@pytest.mark.parametrize(
    ("text", "decision", "ground"),
    [
        (SYSTEM_DESIGN, Decision.SUPPORTS, Ground.PRACTICE_DOCUMENT),  # the application's development, done
        # the same words in an enacted regulation: its Kebijakan Internal's evidence, not the practice's work
        ("PERATURAN WALI KOTA BANUA RAYA NOMOR 3 TAHUN 2024 TENTANG PEMBANGUNAN APLIKASI. " + SYSTEM_DESIGN,
         Decision.NONE, None),
        # minutes of the development: two parts of its cycle, the requirements and the database
        ("Notulen rapat aplikasi e-retribusi: analisis kebutuhan dan struktur tabel disepakati.",
         Decision.SUPPORTS, Ground.PRACTICE_DOCUMENT),
        # one part named twice over, by its name and its abbreviation, is a mention
        ("Notulen rapat aplikasi e-retribusi: ERD (entity relationship diagram) dibahas.", Decision.NONE, None),
    ],
)
def test_a_system_design_is_the_application_developments_own_work_whatever_its_score(matcher, text, decision, ground):
    """A design names its application (retribusi, SKRD), seldom "pembangunan aplikasi": its score underrates it."""
    rulings = rulings_for(matcher, text, {15: 0.05, 4: 0.01})
    assert (rulings[15].decision, rulings[15].ground) == (decision, ground)
    assert rulings[4].decision is Decision.NONE  # its Kebijakan Internal, whose evidence is a regulation


def test_a_budget_activitys_name_is_no_term_of_its_topic_elsewhere(matcher):
    """A regulation on telecommunication towers is no intra-government network, though a DPA's "Pembangunan
    Jaringan Telekomunikasi" funds one."""
    network = list(matcher.index.indicators).index(17)
    towers = "Peraturan tentang penataan menara jaringan telekomunikasi bersama"
    assert matcher.index.terms.presence(towers)[network] == 0
    assert matcher.index.activity_index.presence(towers)[network] > 0


def test_a_budget_sheet_announced_as_such_supports_the_activity_it_funds_however_low_its_score(matcher):
    sheet = budget_sheet("Pengelolaan Layanan Pengadaan Secara Elektronik (LPSE)")
    # the budget indicator best, under the lower threshold: supported as the topic the sheet's title announces
    rulings = rulings_for(matcher, sheet, {13: 0.1})
    assert [rulings[13].decision, rulings[35].decision] == ["supports", "supports"]


def test_only_a_budget_sheets_activity_fields_name_what_it_funds():
    letter = "NOTA DINAS Perihal : Penyampaian RKA Layanan LPSE Kegiatan : Pengelolaan e-Government Waktu : Senin"
    structure = read_structure(letter, "", MARKERS, INDICATORS)
    assert structure.activities == "pengelolaan e-government"  # not the letter's matter, which its subject holds
    assert "layanan lpse" in structure.subject
    assert structure.office_names == ""  # a "Nota Dinas" is a memo, no office


def test_every_supported_indicator_is_reported_however_few_candidates_are_kept():
    settings = Settings(_env_file=None)
    one_candidate = Matcher(settings, load_framework(settings.framework_file), top_k=1)
    sheet = budget_sheet("Pengelolaan Layanan Pengadaan Secara Elektronik (LPSE)")
    matches = one_candidate.match(*one_candidate.embed(document(sheet)))
    assert [(match.indicator, match.decision) for match in matches] == [(13, "supports"), (35, "supports")]


def test_a_screenshot_named_for_its_service_counts_though_its_few_words_say_nothing_electronic(matcher):
    screen = "Beranda Sampaikan Laporan Anda Pengaduan Aspirasi Permintaan Informasi Lacak Laporan Tindak lanjut"
    chunks, vectors = matcher.embed(document(screen))
    assert matcher.match(chunks, vectors, "42.screenshot pengaduan.png")[0].decision == "supports"
    assert matcher.match(chunks, vectors, "tangkapan layar.png")[0].decision == "review"


def test_the_passage_is_where_the_evidence_is(matcher):
    doc = document("Daftar isi dan kata pengantar.", "Aplikasi SIMPEG untuk layanan kepegawaian: kenaikan pangkat dan cuti.")
    best = matcher.match(*matcher.embed(doc))[0]
    assert (best.indicator, best.page) == (36, 2) and "SIMPEG" in best.passage


def test_the_passage_starts_shortly_before_the_evidence_however_late_it_stands_in_its_chunk(matcher):
    foreword = "Kata pengantar. " * 35  # 70 words before the evidence, in the same 90-word chunk
    best = matcher.match(*matcher.embed(document(foreword + "Aplikasi SIMPEG untuk layanan kepegawaian.")))[0]
    assert best.indicator == 36 and "Aplikasi SIMPEG untuk layanan kepegawaian." in best.passage
    assert best.passage.startswith(("Kata ", "pengantar. "))  # from a word's start, some words before it


def test_an_unrelated_document_supports_nothing(matcher):
    doc = document("Undangan lomba jukung hias dan pasar terapung pada Festival Budaya Sungai. Pakaian: batik sasirangan.")
    assert all(match.decision == "none" for match in matcher.match(*matcher.embed(doc)))


def test_eval_reports_figures_for_the_matcher_and_its_baselines(tmp_path, capsys):
    items = [
        {"id": "a", "text": "Panduan LPSE: tender pengadaan barang dan jasa secara elektronik di SPSE dan e-katalog.", "indicators": [35]},
        {"id": "b", "text": "Aplikasi SIMPEG untuk layanan kepegawaian, kenaikan pangkat, cuti dan data ASN.", "indicators": [36]},
        {"id": "c", "text": "Undangan Festival Budaya Sungai: lomba jukung hias dan pasar terapung.", "indicators": []},
    ]
    dataset = tmp_path / "items.jsonl"
    dataset.write_text("\n".join(json.dumps(item) for item in items))
    assert main(["eval", "--format", "json", str(dataset)]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert (report["documents"], report["positives"], report["negatives"]) == (3, 2, 1)
    assert set(report["variants"]) == {"full", "dense-only", "lexical-only"}
    assert report["variants"]["full"]["top1"] == 1.0
    assert report["variants"]["full"]["negatives_rejected"] == 1.0
    assert set(report["variants"]["full"]) == {
        "top1", "top3", "supports_precision", "supports_recall", "supports_f1", "negatives_rejected"}


def test_eval_misses_name_the_claims_a_document_is_not_labelled_with(tmp_path, capsys):
    regulation = (
        "PERATURAN WALI KOTA BANUA RAYA NOMOR 7 TAHUN 2024 TENTANG SISTEM PEMERINTAHAN BERBASIS ELEKTRONIK "
        "DENGAN RAHMAT TUHAN YANG MAHA ESA WALI KOTA BANUA RAYA, Menimbang: bahwa perlu tata kelola SPBE. "
        "Bagian Kedua Arsitektur SPBE Pasal 6 Arsitektur SPBE Pemerintah Daerah disusun berpedoman pada Arsitektur "
        "SPBE Nasional. Bagian Ketiga Peta Rencana SPBE Pasal 9 Peta Rencana SPBE disusun untuk 5 tahun."
    )
    dataset = tmp_path / "items.jsonl"
    dataset.write_text(json.dumps({"id": "perwal", "text": regulation, "indicators": [1]}))  # labelled as cut
    assert main(["eval", "--misses", str(dataset)]) == EXIT_OK
    assert "perwal: gold [1], supports [1, 2], unlabelled [2]" in capsys.readouterr().out


def test_eval_reads_a_folder_of_files_with_labels(tmp_path, capsys):
    from spbe_evidence.samples import load_samples, write_sample

    labels = {}
    for sample in load_samples():
        if sample.format != "bytes":
            write_sample(sample, tmp_path)
            labels[sample.filename] = {"indicators": list(sample.expected_indicators)}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    assert main(["eval", "--format", "json", str(tmp_path)]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == len(labels) and report["negatives"] == 1


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"items.jsonl": '{"id": "a", "text": "x", "indicators": [35]}\n{"id": "b", '}, "items.jsonl line 2: not JSON"),
        ({"items.jsonl": '{"id": "a", "text": "x", "indicators": [99]}'}, "line 1: the framework has no indicator 99"),
        ({"items.jsonl": '{"id": "a", "text": "x", "indicators": 35}'}, 'line 1: expected one JSON object per line'),
        ({"items.jsonl": '{"id": "a", "text": "x", "indicators": [true]}'}, "line 1: expected one JSON object"),
        ({"items.jsonl": "\n"}, "no labelled documents in"),
        ({"folder/a.pdf": "%PDF"}, 'labels.json is missing: a folder of files needs labels.json, a JSON object'),
        ({"folder/labels.json": '{"a.pdf": [8]}'}, "entry 'a.pdf': expected labels.json, a JSON object"),
        ({"folder/labels.json": '{"a.pdf": {"indicators": [8]}}'}, "entry 'a.pdf': no such file in"),
    ],
)
def test_a_dataset_eval_cannot_read_is_named_with_its_form(tmp_path, capsys, files, says):
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(content)
    dataset = tmp_path / next(iter(files)).split("/")[0]
    assert main(["eval", str(dataset)]) == EXIT_USAGE
    assert says in capsys.readouterr().err


def test_a_fit_on_a_handful_of_documents_is_refused_and_leaves_the_weights(tmp_path, capsys, monkeypatch):
    """Weights fitted on three texts would undo the matcher for every later run."""
    profiles = tmp_path / "profiles.json"
    profiles.write_text(Settings(_env_file=None).profiles_file.read_text())
    monkeypatch.setenv("SPBE_PROFILES_FILE", str(profiles))
    get_settings.cache_clear()
    dataset = tmp_path / "items.jsonl"
    dataset.write_text(json.dumps({"id": "a", "text": "Panduan LPSE dan SPSE.", "indicators": [35]}))
    try:
        assert main(["eval", "--fit", str(dataset)]) == EXIT_USAGE
    finally:
        get_settings.cache_clear()
    assert "1 labelled documents are too few to fit" in capsys.readouterr().err
    assert profiles.read_text() == Settings(_env_file=None).profiles_file.read_text()


def test_fitting_keeps_the_weight_of_a_feature_the_data_cannot_show(matcher):
    texts = {
        "Panduan LPSE: tender pengadaan barang dan jasa secara elektronik di SPSE dan e-katalog.": [35],
        "Aplikasi SIMPEG untuk layanan kepegawaian, kenaikan pangkat, cuti dan data ASN.": [36],
        "Undangan Festival Budaya Sungai: lomba jukung hias dan pasar terapung.": [],
    }
    dataset = [LabelledDocument(str(n), "", document(text), frozenset(labels)) for n, (text, labels) in enumerate(texts.items())]
    framework = load_framework(Settings(_env_file=None).framework_file)
    weights = fit_weights(dataset, matcher, framework, EmbeddingCache(None, matcher.model_key, matcher.chunking.key))
    assert weights["file_name"] == round(float(matcher.index.weights[FEATURES.index("file_name")]), 4)  # no file names here
    assert set(weights) == set(FEATURES)
