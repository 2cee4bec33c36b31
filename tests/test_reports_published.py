"""What a nightly run publishes: every report format in the bucket and locally, the dashboard, the Prefect artifacts.

Real S3 (SeaweedFS) and a Prefect test server; the run reads only the demo's unreadable uploads, so no model loads.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pypdfium2
import pytest
from openpyxl import load_workbook
from PIL import Image
from prefect.artifacts import Artifact

from catalog import load_framework, load_skpd_registry
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from flows.nightly import RANKING_ARTIFACT_KEY, SUMMARY_ARTIFACT_KEY, nightly
from flows.review import WORK_LIST_ARTIFACT_KEY
from reports.completeness import EvidenceState
from reports.evidence_age import DocumentDate, read_document_dates
from reports.heatmap import STATE_COLOURS
from reports.publish import CITY_SUMMARY, load_manifest
from storage import layout
from storage.objects import ObjectStore
from storage.state import Extraction, StateStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
CHROMIUM_TIMEOUT_SECONDS = 60


@pytest.fixture
def store(environment) -> ObjectStore:
    return ObjectStore.from_settings(environment)


def registry(settings):
    return load_skpd_registry(settings.skpd_file, load_framework(settings.framework_file))


def test_every_skpd_report_is_published_as_html_pdf_and_xlsx_per_run_and_latest(published_reports, store, environment):
    year, run_id = published_reports["year"], published_reports["run_id"]
    assert {report["skpd"] for report in published_reports["reports"]} == {u.code for u in registry(environment).skpd}
    for report in published_reports["reports"]:
        for fmt in ("html", "pdf", "xlsx"):
            assert report["files"][fmt]["key"] == layout.report_key(year, run_id, report["skpd"], fmt)
            assert store.exists(layout.latest_report_key(year, report["skpd"], fmt))
            assert (environment.data_dir / "reports" / str(year) / f"{report['skpd']}.{fmt}").is_file()
        assert report["key"] == report["files"]["html"]["key"]  # what the run's printout shows


def test_the_published_pdf_and_xlsx_open(published_reports, store):
    dishub = next(report for report in published_reports["reports"] if report["skpd"] == "dishub")
    pdf = pypdfium2.PdfDocument(store.get_bytes(dishub["files"]["pdf"]["key"]))
    text = "\n".join(pdf[number].get_textpage().get_text_range() for number in range(len(pdf)))
    assert "Dinas Perhubungan" in text and "SOP-Parkir-terpotong.pdf" in text
    workbook = load_workbook(io.BytesIO(store.get_bytes(dishub["files"]["xlsx"]["key"])))
    assert [row[0] for row in workbook["Indikator"].iter_rows(min_row=2, values_only=True)] == [46]
    assert [row[0] for row in workbook["Berkas bermasalah"].iter_rows(min_row=2, values_only=True)] == [
        "SOP-Parkir-terpotong.pdf"]  # fmt: skip


def test_the_dashboard_heatmap_and_city_workbook_are_stored_with_the_reports(published_reports, store):
    year, run_id = published_reports["year"], published_reports["run_id"]
    dashboard = published_reports["dashboard"]
    assert dashboard["key"] == layout.report_key(year, run_id, CITY_SUMMARY, "html")
    assert "data:image/png;base64," in store.get_bytes(dashboard["key"]).decode()  # one self-contained file
    heatmap = Image.open(io.BytesIO(store.get_bytes(published_reports["city_summary"]["png"]["key"])))
    assert heatmap.format == "PNG"
    workbook = load_workbook(io.BytesIO(store.get_bytes(published_reports["city_summary"]["xlsx"]["key"])))
    assert workbook["Berkas tidak terbaca"].max_row == 1 + 2


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian packages chromium, chromium-driver)")
def test_the_dashboard_renders_in_headless_chromium(published_reports, tmp_path):
    page = published_reports["dashboard"]["local_path"]
    browse = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"]
    uri = f"file://{page}"
    dom = subprocess.run([*browse, "--dump-dom", uri], capture_output=True, text=True,
                         timeout=CHROMIUM_TIMEOUT_SECONDS, check=True).stdout  # fmt: skip
    assert "Ringkasan Kelengkapan Data Dukung Evaluasi SPBE 2026" in dom
    assert "Peringkat SKPD menurut kelengkapan" in dom and "SOP-Parkir-terpotong.pdf" in dom
    screenshot = tmp_path / "dashboard.png"
    subprocess.run([*browse, "--window-size=1200,1600", f"--screenshot={screenshot}", uri],
                   capture_output=True, timeout=CHROMIUM_TIMEOUT_SECONDS, check=True)  # fmt: skip
    colours = {colour for _, colour in Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20)}
    missing = STATE_COLOURS[EvidenceState.MISSING]
    assert tuple(int(missing[i:i + 2], 16) for i in (1, 3, 5)) in colours  # the heatmap's cells were drawn


def test_the_city_summary_and_the_review_work_list_are_prefect_artifacts_with_stable_keys(published_reports):
    year = published_reports["year"]
    markdown = Artifact.get(SUMMARY_ARTIFACT_KEY.format(year=year))
    assert markdown.type == "markdown" and "Peringkat SKPD" in markdown.data
    table = Artifact.get(RANKING_ARTIFACT_KEY.format(year=year))
    rows = json.loads(table.data)
    assert table.type == "table" and [row["peringkat"] for row in rows] == list(range(1, len(rows) + 1))
    work_list = Artifact.get(WORK_LIST_ARTIFACT_KEY.format(year=year))  # the reviewer's: nothing waits here
    assert work_list.type == "table" and json.loads(work_list.data) == []


def test_a_rerun_with_nothing_changed_publishes_the_same_content(published_reports, store):
    year = published_reports["year"]
    first = load_manifest(store, year)
    second_run = nightly(year=year)
    second = load_manifest(store, year)
    assert second.run_id == second_run["run_id"] != first.run_id
    assert [entry.content_hash for entry in second.entries] == [entry.content_hash for entry in first.entries]


def test_a_run_over_some_indicators_leaves_the_latest_reports_complete(published_reports, store):
    """Its reports cover one indicator: beside the latest, in the bucket or on disk, they would read as complete."""
    year = published_reports["year"]
    complete = {report["skpd"]: Path(report["local_path"]) for report in published_reports["reports"]}
    before = {code: path.read_bytes() for code, path in complete.items()}
    partial = nightly(year=year, indicators=[1])
    assert store.exists(partial["manifest"])
    assert load_manifest(store, year).run_id == published_reports["run_id"]
    assert {code: path.read_bytes() for code, path in complete.items()} == before
    assert all(Path(report["local_path"]).parent.name == partial["run_id"] for report in partial["reports"])


def test_evidence_dates_come_from_the_extracted_text_in_the_bucket_once(object_store, tmp_path):
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    sha256 = "a" * 64
    heading = "PERATURAN WALI KOTA BANJARMASIN NOMOR 21 TAHUN 2025 TENTANG ARSITEKTUR SPBE"
    document = Document(Status.OK, pages=[Page(1, [Block(BlockKind.PARAGRAPH, heading)], TextSource.TEXT_LAYER)])
    object_store.put_bytes(layout.extraction_key(sha256), json.dumps(document.to_dict()).encode())
    dates = read_document_dates(object_store, state, [sha256, "b" * 64], not_after=2026)
    assert dates == {sha256: DocumentDate(2025, "NOMOR 21 TAHUN 2025"), "b" * 64: None}  # "b…": no text stored
    object_store.put_bytes(layout.extraction_key(sha256), b"{}")  # were it read again, it would fail to parse
    assert read_document_dates(object_store, state, [sha256], not_after=2026) == {sha256: dates[sha256]}


def test_a_content_extracted_anew_is_dated_anew(object_store, tmp_path):
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    sha256 = "d" * 64
    for heading, year in (("LAPORAN TAHUN 2023", 2023), ("LAPORAN TAHUN 2024", 2024)):  # OCR read it better
        document = Document(Status.OK, pages=[Page(1, [Block(BlockKind.PARAGRAPH, heading)], TextSource.OCR)])
        object_store.put_bytes(layout.extraction_key(sha256), json.dumps(document.to_dict()).encode())
        state.record_extraction(Extraction(sha256=sha256, status="ok", message="", detail="", pages=1))
        assert read_document_dates(object_store, state, [sha256], not_after=2026)[sha256].year == year


def test_a_date_is_read_anew_for_another_evaluation_year_and_once_its_text_is_there(object_store, tmp_path):
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    sha256 = "c" * 64
    assert read_document_dates(object_store, state, [sha256], not_after=2026) == {sha256: None}  # no text yet
    heading = "RENCANA STRATEGIS DINAS KOMINFO TAHUN 2025-2029"
    document = Document(Status.OK, pages=[Page(1, [Block(BlockKind.PARAGRAPH, heading)], TextSource.TEXT_LAYER)])
    object_store.put_bytes(layout.extraction_key(sha256), json.dumps(document.to_dict()).encode())
    assert read_document_dates(object_store, state, [sha256], not_after=2026)[sha256].year == 2025
    assert read_document_dates(object_store, state, [sha256], not_after=2024) == {sha256: None}  # 2025 is later
