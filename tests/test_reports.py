"""The reports as their readers get them: an SKPD clerk's report (HTML, PDF, XLSX) and Diskominfotik's city picture.

Built from made-up submissions, without storage: what each report says, and that every format opens.
"""
from __future__ import annotations

import io

import pypdfium2
import pytest
from openpyxl import load_workbook
from PIL import Image

from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from reports.completeness import EvidenceState, assess
from reports.evidence_age import DocumentDate, EvidenceAge, document_date
from reports.heatmap import CELL, HEADER_HEIGHT, STATE_COLOURS, labels_width, render_heatmap
from reports.html import render_city_html, render_skpd_html
from reports.pdf import latin1, render_skpd_pdf
from reports.summary import city_summary, summary_markdown
from reports.views import skpd_report
from reports.xlsx import render_city_xlsx, render_skpd_xlsx
from storage.state import MatchRow, Submission

YEAR = 2026
GENERATED_AT = "01-07-2026 02:00 WITA"


def upload(
    skpd: str, filename: str, *matches: tuple[int, float, str], status: str = "ok", message: str = "",
    copy_of: str | None = None,
) -> Submission:
    """A submission as the state store holds it; its content hash is its file name, for dating it in tests, or the
    name of the upload it is a copy of."""
    return Submission(
        key=f"submissions/{YEAR}/{skpd}/{filename}", year=YEAR, skpd=skpd, filename=filename,
        sha256=copy_of or filename,
        status=status, message=message,
        matches=[
            MatchRow(rank=rank, indicator=number, score=score, decision=decision, page=2, passage=f"kutipan {number}")
            for rank, (number, score, decision) in enumerate(matches, start=1)
        ],
    )  # fmt: skip


UPLOADS = [
    upload("inspektorat", "audit-tik.pdf", (29, 0.9, "supports"), (30, 0.7, "review")),
    upload("diskominfotik", "perwal-lama.pdf", (21, 0.9, "supports")),
    upload("dpmptsp", "layanan-perizinan.pdf", (45, 0.9, "supports")),
    upload("dishub", "scan-sop.pdf", status="corrupt", message="Berkas PDF ini rusak."),
    upload("bappeda", "undangan.docx", (27, 0.2, "none")),
]
DATES = {"audit-tik.pdf": DocumentDate(2026, "TAHUN 2026"), "perwal-lama.pdf": DocumentDate(2019, "TAHUN 2019")}


@pytest.fixture(scope="module")
def city(catalog):
    return assess(*catalog, UPLOADS, YEAR)


def report_of(code: str, city, catalog):
    framework, registry = catalog
    view = next(view for view in city.skpd if view.skpd.code == code)
    return skpd_report(view, YEAR, framework, registry, DATES)


def test_an_skpd_report_lists_missing_first_and_what_the_regulation_accepts(city, catalog):
    report = report_of("inspektorat", city, catalog)
    assert [row.state for row in report.indicators] == [EvidenceState.MISSING] * 3 + [
        EvidenceState.REVIEW, EvidenceState.PRESENT, EvidenceState.PRESENT]  # fmt: skip
    missing = report.indicators[0]
    indicator = catalog[0].indicator(missing.number)
    assert missing.accepted_evidence == indicator.example_evidence
    assert [level.evidence for level in missing.levels] == [level.evidence for level in indicator.levels]
    present = next(row for row in report.indicators if row.number == 29)
    assert present.accepted_evidence == "" and present.levels == ()
    [evidence] = present.evidence
    assert (evidence.filename, evidence.page, evidence.passage) == ("audit-tik.pdf", 2, "kutipan 29")
    assert evidence.uploaded_by is None  # the reader's own upload


def test_what_the_regulation_accepts_never_points_at_lettered_items_the_report_does_not_show(catalog):
    """The Pedoman's "dokumen sesuai huruf b yang mencakup ketentuan huruf c" means nothing to a clerk without it."""
    framework, registry = catalog
    nothing_yet = assess(framework, registry, [], YEAR)
    texts = {row.number: row.accepted_evidence for view in nothing_yet.skpd
             for row in skpd_report(view, YEAR, framework, registry, DATES).indicators}
    assert not [number for number, text in texts.items() if "huruf" in text]
    assert texts[11] == (f"{framework.indicator(11).assessment} "  # what is assessed: the Arsitektur SPBE document
                         "Data Pendukung dapat disampaikan lebih dari 1 (satu) jenis dokumen.")
    assert "dilakukan dalam kurun waktu 2 (dua) tahun terakhir" in texts[29]  # the sentences citing no letter stay
    assert texts[24].endswith(
        "Contoh: Dokumen perencanaan pelaksanaan Manajemen Aset TIK, Dokumen pedoman pelaksanaan Manajemen Aset TIK, "
        "Bukti pelaksanaan Manajemen Aset TIK, dan Bukti Evaluasi Pelaksanaan Manajemen Aset TIK.")
    assert texts[35] == framework.indicator(35).example_evidence  # a list of its own, citing no letter


def test_an_indicator_covered_by_another_skpds_document_says_who_uploaded_it(city, catalog):
    def indicator_21(code: str):  # both answer for it; Diskominfotik uploaded the evidence
        return next(row for row in report_of(code, city, catalog).indicators if row.number == 21)

    assert indicator_21("inspektorat").covered_by_others and indicator_21("inspektorat").state is EvidenceState.PRESENT
    assert indicator_21("inspektorat").evidence[0].uploaded_by == "Dinas Komunikasi, Informatika dan Statistik"
    html = render_skpd_html(report_of("inspektorat", city, catalog), GENERATED_AT)
    assert "diunggah oleh Dinas Komunikasi, Informatika dan Statistik" in html and "bukti dari SKPD lain" in html
    assert not indicator_21("diskominfotik").covered_by_others
    assert indicator_21("diskominfotik").evidence[0].uploaded_by is None


def test_a_file_uploaded_under_several_names_is_listed_once_with_its_other_names(catalog):
    """A re-upload ("(1)") or the same decree in two SKPD's folders is one document: shown under the reader's own name."""
    framework, registry = catalog
    copies = [
        upload("diskominfotik", "sk-tim-spbe.pdf", (10, 0.9, "supports")),
        upload("diskominfotik", "sk-tim-spbe (1).pdf", (10, 0.9, "supports"), copy_of="sk-tim-spbe.pdf"),
        upload("setda-organisasi", "SK Tim SPBE 2026.pdf", (10, 0.9, "supports"), copy_of="sk-tim-spbe.pdf"),
        upload("setda-organisasi", "notulen-tim.pdf", (10, 0.6, "supports")),
    ]
    city = assess(framework, registry, copies, YEAR)

    def indicator_10(code: str):
        return next(row for row in report_of(code, city, catalog).indicators if row.number == 10)

    organisasi = indicator_10("setda-organisasi")
    assert [(ev.filename, ev.copies) for ev in organisasi.evidence] == [
        ("SK Tim SPBE 2026.pdf", ("sk-tim-spbe (1).pdf (diunggah oleh Dinas Komunikasi, Informatika dan Statistik)",
                                  "sk-tim-spbe.pdf (diunggah oleh Dinas Komunikasi, Informatika dan Statistik)")),
        ("notulen-tim.pdf", ()),
    ]  # fmt: skip
    assert not organisasi.covered_by_others
    assert indicator_10("diskominfotik").evidence[0].document_label == (  # the original, not the "(1)" re-upload
        "sk-tim-spbe.pdf; berkas yang sama juga diunggah sebagai sk-tim-spbe (1).pdf, "
        "SK Tim SPBE 2026.pdf (diunggah oleh Bagian Organisasi Sekretariat Daerah)"
    )
    report = report_of("diskominfotik", city, catalog)
    assert "juga diunggah sebagai sk-tim-spbe (1).pdf, SK Tim SPBE 2026.pdf" in render_skpd_html(report, GENERATED_AT)
    cells = [cell for row in load_workbook(io.BytesIO(render_skpd_xlsx(report))).active.iter_rows(values_only=True)
             for cell in row]  # fmt: skip
    assert any("juga diunggah sebagai sk-tim-spbe (1).pdf" in str(cell) for cell in cells)
    summary = city_summary(city, framework, registry, DATES)
    assert len(next(item for item in summary.indicators if item.number == 10).documents) == 2


def test_a_file_that_matches_nothing_uploaded_twice_is_listed_once_with_its_other_name(catalog):
    framework, registry = catalog
    twice = [upload("bappeda", "undangan.docx", (27, 0.2, "none")),
             upload("bappeda", "undangan (1).docx", (27, 0.2, "none"), copy_of="undangan.docx"),
             upload("bappeda", "kosong.pdf", status="empty", message="Berkas ini tidak berisi teks."),
             upload("bappeda", "kosong-lagi.pdf", status="empty", message="Berkas ini tidak berisi teks.",
                    copy_of="kosong.pdf")]  # fmt: skip
    report = report_of("bappeda", assess(framework, registry, twice, YEAR), catalog)
    assert [(row.filename, row.message) for row in report.unmatched] == [
        ("undangan.docx", "berkas yang sama juga diunggah sebagai undangan (1).docx")]
    assert [(row.filename, row.message) for row in report.unreadable] == [
        ("kosong.pdf", "Berkas ini tidak berisi teks; berkas yang sama juga diunggah sebagai kosong-lagi.pdf")]



def test_a_file_uploaded_twice_that_is_evidence_for_other_skpd_names_what_each_copy_supports(catalog):
    framework, registry = catalog  # the matcher reads file names too, so copies may support different indicators
    twice = [upload("bappeda", "perwal-spbe.pdf", (1, 0.9, "supports")),
             upload("bappeda", "Perwal SPBE final.pdf", (2, 0.9, "supports"), copy_of="perwal-spbe.pdf")]
    report = report_of("bappeda", assess(framework, registry, twice, YEAR), catalog)
    one, two = framework.indicator(1).name, framework.indicator(2).name
    assert [(row.filename, row.message) for row in report.for_others] == [(
        "perwal-spbe.pdf",
        f"bukti indikator 1 ({one}), 2 ({two}); berkas yang sama juga diunggah sebagai Perwal SPBE final.pdf")]


def test_an_upload_that_is_evidence_only_for_other_skpds_indicators_is_shown_to_its_clerk(catalog):
    """Bappeda uploaded the SPBE Perwal, which counts for indicators Diskominfotik answers for: its report says so."""
    framework, registry = catalog
    uploads = [upload("bappeda", "perwal-spbe.pdf", (1, 0.9, "supports"), (4, 0.4, "review")),
               upload("bappeda", "renstra.pdf", (12, 0.9, "supports"), (1, 0.9, "supports"))]  # one of its own too
    report = report_of("bappeda", assess(framework, registry, uploads, YEAR), catalog)
    # its claim on 4 awaits a reviewer: not yet evidence to say "no need to upload again" of
    name = framework.indicator(1).name  # the clerk reads which indicator, not only its number
    assert [(row.filename, row.message) for row in report.for_others] == [
        ("perwal-spbe.pdf", f"bukti indikator 1 ({name})")]
    html = render_skpd_html(report, GENERATED_AT)
    assert "Berkas Anda yang menjadi bukti indikator SKPD lain" in html and "tidak perlu diunggah ulang" in html
    pdf = pypdfium2.PdfDocument(render_skpd_pdf(report, GENERATED_AT))
    text = " ".join(pdf[number].get_textpage().get_text_range() for number in range(len(pdf))).replace("\r\n", " ")
    assert "perwal-spbe.pdf: bukti indikator 1" in text


def test_a_document_another_skpd_uploaded_that_awaits_review_is_not_called_evidence(city, catalog):
    """Inspektorat's audit report is only 'perlu ditinjau' for 30: Diskominfotik's report must not say it has evidence."""
    html = render_skpd_html(report_of("diskominfotik", city, catalog), GENERATED_AT)
    row_30 = html[html.rindex("<td>30</td>"):].split("</tr>")[0]  # in the details, after the to-do list
    assert "diunggah SKPD lain dan masih perlu ditinjau" in row_30 and "sudah ada di tingkat kota" not in row_30


def test_the_report_says_where_to_upload_and_what_perlu_ditinjau_means(city, catalog):
    html = render_skpd_html(report_of("bappeda", city, catalog), GENERATED_AT)
    assert "submissions/2026/bappeda/" in html and "peninjau akan memeriksanya" in html


def test_evidence_of_one_sector_service_counts_for_the_whole_group(city, catalog):
    row = next(row for row in report_of("dinkes", city, catalog).indicators if row.number == 47)
    assert row.state is EvidenceState.PRESENT and row.covered_by_others
    assert row.evidence[0].via_indicator == 45
    assert row.evidence[0].date_label == "tidak diketahui"  # shown after "tahun dokumen:"


def test_the_html_report_is_in_bahasa_indonesia_with_unreadable_and_unmatched_uploads(city, catalog):
    dishub = render_skpd_html(report_of("dishub", city, catalog), GENERATED_AT)
    assert "Berkas yang tidak dapat dibaca" in dishub and "scan-sop.pdf" in dishub and "Berkas PDF ini rusak." in dishub
    bappeda = render_skpd_html(report_of("bappeda", city, catalog), GENERATED_AT)
    assert "tidak cocok dengan indikator mana pun" in bappeda and "undangan.docx" in bappeda
    assert "scan-sop.pdf" not in bappeda
    assert "Yang perlu dilengkapi" in bappeda and "Bukti yang dapat diterima" in bappeda


def test_a_report_over_none_of_an_skpds_indicators_does_not_say_they_all_have_evidence(catalog):
    only_29 = assess(*catalog, UPLOADS, YEAR, indicators=[29])  # a run over one indicator, which Bappeda lacks
    html = render_skpd_html(report_of("bappeda", only_29, catalog), GENERATED_AT)
    assert "tidak memuat indikator yang menjadi tanggung jawab" in html and "sudah ada bukti" not in html


def test_the_content_hash_ignores_the_generation_time_and_follows_the_evidence(city, catalog):
    framework, registry = catalog
    report = report_of("inspektorat", city, catalog)
    assert report.content_hash == report_of("inspektorat", assess(*catalog, UPLOADS, YEAR), catalog).content_hash
    assert render_skpd_html(report, "01-01-2026 02:00 WITA") != render_skpd_html(report, GENERATED_AT)
    more = assess(framework, registry, [*UPLOADS, upload("inspektorat", "reviu.pdf", (31, 0.9, "supports"))], YEAR)
    assert report_of("inspektorat", more, catalog).content_hash != report.content_hash
    assert report_of("dishub", more, catalog).content_hash == report_of("dishub", city, catalog).content_hash


def test_the_pdf_opens_and_reads_back_with_the_report(city, catalog):
    report = report_of("inspektorat", city, catalog)
    pdf = pypdfium2.PdfDocument(render_skpd_pdf(report, GENERATED_AT))
    text = "\n".join(pdf[number].get_textpage().get_text_range() for number in range(len(pdf)))
    assert "Kelengkapan Data Dukung Evaluasi SPBE 2026" in text and "Inspektorat Daerah" in text
    assert "audit-tik.pdf" in text and "halaman 2" in text and "tahun dokumen: 2026" in text
    assert "Bukti yang dapat diterima" in text and "Kriteria dan bukti per tingkat kematangan: lihat lampiran XLSX" in text


def test_text_outside_latin1_is_replaced_not_fatal(catalog):
    assert latin1("“Perwal” – 2025 … ✓ é") == '"Perwal" - 2025 ... ? é'
    framework, registry = catalog
    city = assess(framework, registry, [upload("dishub", "sop.pdf", status="corrupt", message="Rusak ✓ 文件")], YEAR)
    pdf = pypdfium2.PdfDocument(render_skpd_pdf(report_of("dishub", city, catalog), GENERATED_AT))
    assert "Rusak ? ??" in pdf[len(pdf) - 1].get_textpage().get_text_range()


def test_the_xlsx_has_one_filterable_row_per_indicator_under_a_frozen_header(city, catalog):
    report = report_of("inspektorat", city, catalog)
    sheet = load_workbook(io.BytesIO(render_skpd_xlsx(report)))["Indikator"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [row.number for row in report.indicators]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(rows) + 1}"
    header = [cell.value for cell in sheet[1]]
    by_number = {row[0]: dict(zip(header, row)) for row in rows}
    assert by_number[29]["Status"] == "ada bukti" and by_number[29]["Dokumen bukti"].startswith("audit-tik.pdf")
    assert by_number[21]["Bukti dari SKPD lain"] == "ya" and by_number[21]["Usia bukti"] == "terlalu lama"


def test_a_control_character_or_a_formula_in_an_upload_breaks_no_report(catalog):
    """S3 keys and PDF text layers may carry control characters, which openpyxl refuses; a name starting with
    '=' would run as a formula in the clerk's Excel. Every format still renders, with the text as text."""
    framework, registry = catalog
    odd = [upload("dishub", "=HYPERLINK(\"x\")\x07.pdf", (45, 0.9, "supports")),
           upload("dishub", "scan\x0bsop\ufffe\ud800.pdf", status="corrupt", message="Berkas\x00 rusak.")]
    report = report_of("dishub", assess(framework, registry, odd, YEAR), catalog)
    workbook = load_workbook(io.BytesIO(render_skpd_xlsx(report)))
    row = next(row for row in workbook["Indikator"].iter_rows(min_row=2) if row[0].value == 46)
    assert row[7].value.startswith('=HYPERLINK("x").pdf') and row[7].data_type == "s"
    assert [cell.value for cell in workbook["Berkas bermasalah"][2]][::2] == ["scansop.pdf", "Berkas rusak."]
    assert render_skpd_pdf(report, GENERATED_AT) and "=HYPERLINK" in render_skpd_html(report, GENERATED_AT)


@pytest.mark.parametrize(
    ("heading", "year"),
    [
        ("PERATURAN WALI KOTA BANJARMASIN NOMOR 21 TAHUN 2025 TENTANG ARSITEKTUR SPBE", 2025),
        ("KEPUTUSAN WALI KOTA BANJARMASIN NOMOR 188.45/112/2026 TENTANG TIM KOORDINASI SPBE", 2026),
        ("PETA RENCANA SPBE PEMERINTAH KOTA BANJARMASIN TAHUN 2025-2029", 2025),
        ("Notulen rapat koordinasi tanggal 12 Maret 2021", 2021),
        ("PANDUAN PENGGUNAAN APLIKASI SIMPEG", None),
        ("RENCANA INDUK TAHUN 2030", None),  # a plan's horizon, not the document's date
    ],
)
def test_a_document_states_its_year_in_its_heading(heading, year):
    dated = document_date(document(heading), not_after=YEAR)
    assert (dated.year if dated else None) == year


def test_a_regulation_is_dated_by_its_enactment_not_by_the_regulations_it_cites():
    cited = document("PERATURAN WALI KOTA TENTANG MANAJEMEN DATA", "Mengingat: Peraturan Presiden Nomor 95 Tahun 2018")
    assert document_date(cited, not_after=YEAR) is None
    enacted = document("PERATURAN WALI KOTA NOMOR 3 TAHUN 2024", "Ditetapkan di Banjarmasin pada tanggal 2 Januari 2025")
    enactment = "Ditetapkan di Banjarmasin pada tanggal 2 Januari 2025"
    assert document_date(enacted, not_after=YEAR) == DocumentDate(2025, enactment)


def test_an_upload_in_the_folder_of_no_registered_skpd_is_shown_to_kominfotik(catalog):
    """It counts city-wide, but no SKPD's report shows it: a typo in a folder must not hide a file from everyone."""
    framework, registry = catalog
    stray = [upload("dinas-baru", "sk-tim.pdf", (10, 0.9, "supports")),
             upload("dinas-baru", "scan.pdf", status="corrupt", message="Berkas PDF ini rusak.")]
    city = assess(framework, registry, stray, YEAR)
    summary = city_summary(city, framework, registry, DATES)
    assert [(u.folder, u.filename, u.status_label) for u in summary.unregistered] == [
        ("dinas-baru", "sk-tim.pdf", "terbaca"), ("dinas-baru", "scan.pdf", "rusak")]  # fmt: skip
    assert next(item for item in summary.indicators if item.number == 10).state is EvidenceState.PRESENT
    line = "Berkas di folder SKPD yang tidak ada di daftar SKPD: 2 (folder dinas-baru)"
    assert line in summary.summary_text and line in summary_markdown(summary)
    assert "folder-tidak-terdaftar" in render_city_html(summary, b"", GENERATED_AT)
    sheet = load_workbook(io.BytesIO(render_city_xlsx(summary)))["Folder tidak terdaftar"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["sk-tim.pdf", "scan.pdf"]


def test_the_city_summary_ranks_skpd_and_lists_indicators_without_evidence(city, catalog):
    summary = city_summary(city, *catalog, DATES)
    assert summary.count(EvidenceState.PRESENT) == 5  # 21, 29 and the three sector services
    assert summary.count(EvidenceState.REVIEW) == 1
    assert len(summary.without_evidence) == 47 - 6
    assert [rank.percent for rank in summary.ranking] == sorted((rank.percent for rank in summary.ranking), reverse=True)
    assert summary.ranking[0].percent == 100
    assert [(u.skpd, u.filename) for u in summary.unreadable] == [("Dinas Perhubungan", "scan-sop.pdf")]
    aspects = [aspect for _, aspects in summary.coverage() for aspect in aspects]
    assert sum(aspect.indicators for aspect in aspects) == 47
    assert sum(aspect.present for aspect in aspects) == 5


def test_evidence_older_than_the_rule_is_counted_where_a_date_is_known(city, catalog):
    summary = city_summary(city, *catalog, DATES)
    assert [item.number for item in summary.outdated] == [21]  # 2019 < 2026 - 2
    assert {item.number for item in summary.unknown_age} == {45, 46, 47}  # no year stated
    assert next(item for item in summary.indicators if item.number == 29).age is EvidenceAge.CURRENT
    markdown = summary_markdown(summary)
    assert "Bukti lebih tua dari 2 tahun: 1 indikator; tanggal bukti tidak diketahui: 3 indikator" in markdown
    for section in ("Cakupan per domain dan aspek", "Indikator tanpa bukti", "Peringkat SKPD", "tidak dapat dibaca"):
        assert section in markdown


def test_the_heatmap_colours_each_skpd_indicator_cell_by_state(city, catalog):
    grid = city_summary(city, *catalog, DATES).grid
    image = Image.open(io.BytesIO(render_heatmap(grid))).convert("RGB")
    row = grid.rows.index("inspektorat")

    def cell_colour(number: int) -> str:
        x = labels_width(grid) + grid.columns.index(number) * CELL + CELL // 2
        return "#%02x%02x%02x" % image.getpixel((x, HEADER_HEIGHT + row * CELL + CELL // 2))

    assert cell_colour(29) == STATE_COLOURS[EvidenceState.PRESENT]
    assert cell_colour(30) == STATE_COLOURS[EvidenceState.REVIEW]
    assert cell_colour(31) == STATE_COLOURS[EvidenceState.MISSING]


def test_the_city_workbook_has_every_indicator_and_the_ranking(city, catalog):
    summary = city_summary(city, *catalog, DATES)
    workbook = load_workbook(io.BytesIO(render_city_xlsx(summary)))
    assert workbook["Indikator"].max_row == 1 + 47 and workbook["Indikator"].freeze_panes == "A2"
    assert workbook["Peringkat SKPD"].max_row == 1 + len(summary.ranking)


def document(*pages: str) -> Document:
    return Document(
        status=Status.OK,
        pages=[Page(number, [Block(BlockKind.PARAGRAPH, text)], TextSource.TEXT_LAYER)
               for number, text in enumerate(pages, start=1)],
    )  # fmt: skip
