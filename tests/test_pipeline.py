"""The nightly work without Prefect: real S3 (SeaweedFS), SQLite state, the offline model.

The state store makes reruns cheap: same content is never extracted or embedded twice.
"""
from __future__ import annotations

import json

import pytest
from minio import Minio

from flows.pipeline import NothingListed, Outcome, Pipeline, RunTotals
from reports.completeness import EvidenceState
from reports.publish import CITY_SUMMARY
from reports.review import record_verdict
from settings import Settings
from spbe_evidence.samples import load_samples, write_sample
from storage import layout
from storage.objects import ObjectStore
from storage.state import VerdictKind
from test_extractors import make_pdf
from test_extractors_office import fake_libreoffice

YEAR = 2026


def upload_samples(pipeline: Pipeline, tmp_path) -> dict[str, str]:
    keys = {}
    for sample in load_samples():
        key = layout.submission_key(YEAR, sample.skpd, sample.filename)
        pipeline.store.put_file(key, write_sample(sample, tmp_path / "samples"))
        keys[sample.filename] = key
    return keys


def run(pipeline: Pipeline, run_id: str, force: bool = False) -> RunTotals:
    """What the nightly flow does, minus Prefect."""
    discovery = pipeline.discover(YEAR)
    totals = RunTotals(removed=len(pipeline.mark_removed(YEAR, discovery, None)))
    for obj in discovery.objects:
        totals.add(pipeline.process(obj, run_id, force))
    pipeline.publish_reports(pipeline.assess(YEAR, loose=discovery.loose), run_id)
    return totals


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


@pytest.fixture
def first_run(pipeline: Pipeline, tmp_path) -> RunTotals:
    upload_samples(pipeline, tmp_path)
    return run(pipeline, "run-1")


def test_first_run_reads_and_matches_every_new_submission(first_run: RunTotals):
    samples = load_samples()
    assert first_run.outcomes[Outcome.NEW] == len(samples)
    assert first_run.extracted == len(samples)
    assert first_run.statuses == {"ok": 6, "corrupt": 1, "unsupported": 1}
    assert first_run.embedded_documents == 6


def test_second_run_does_no_extraction_and_no_embedding(pipeline: Pipeline, first_run: RunTotals):
    second = run(pipeline, "run-2")
    assert second.outcomes[Outcome.UNCHANGED] == len(load_samples())
    assert (second.extracted, second.embedded_chunks) == (0, 0)


def test_a_file_unread_for_want_of_a_program_is_read_once_the_operator_installs_it(settings, tmp_path, monkeypatch):
    """An RTF on a machine without LibreOffice: the clerk is asked for PDF or DOCX, and when the operator installs
    LibreOffice the next run reads it, without --force (the outcome was the machine's, not the file's)."""
    pipeline = Pipeline(settings.model_copy(update={"extraction_time_limit_seconds": 0}))  # read with this PATH
    programs = tmp_path / "bin"
    programs.mkdir()
    monkeypatch.setenv("PATH", str(programs))
    key = layout.submission_key(YEAR, "bappeda", "notulen-rapat.rtf")
    pipeline.store.put_bytes(key, rb"{\rtf1\ansi Notulen}")
    run(pipeline, "run-1")
    assert pipeline.state.submission(key).status == "unsupported"
    assert run(pipeline, "run-2").extracted == 0  # still no LibreOffice: nothing to try
    converted = tmp_path / "converted.pdf"
    converted.write_bytes(make_pdf("Notulen rapat Tim Koordinasi SPBE tentang arsitektur SPBE"))
    fake_libreoffice(programs, f'cp "{converted}" "$outdir/$stem.pdf"\n')
    monkeypatch.setenv("PATH", f"{programs}:/usr/bin:/bin")  # its shell script needs the usual tools
    third = run(pipeline, "run-3")
    row = pipeline.state.submission(key)
    assert (third.extracted, row.status) == (1, "ok") and row.matches
    assert run(pipeline, "run-4").extracted == 0  # read for good


def test_same_content_under_a_new_name_reuses_extraction_and_embeddings(pipeline, first_run):
    sample = load_samples()[0]
    original = pipeline.store.get_bytes(layout.submission_key(YEAR, sample.skpd, sample.filename))
    copy = layout.submission_key(YEAR, "bappeda", "salinan-" + sample.filename)
    pipeline.store.put_bytes(copy, original)
    totals = run(pipeline, "run-2")
    assert totals.outcomes[Outcome.NEW] == 1
    assert (totals.extracted, totals.embedded_chunks) == (0, 0)
    assert pipeline.state.submission(copy).matches  # matched from the cached vectors


def test_changed_content_is_read_again(pipeline, first_run, tmp_path):
    sample = load_samples()[0]
    pipeline.store.put_bytes(layout.submission_key(YEAR, sample.skpd, sample.filename), b"%PDF-1.4 rusak")
    totals = run(pipeline, "run-2")
    assert totals.outcomes[Outcome.CHANGED] == 1 and totals.extracted == 1
    assert pipeline.state.submission(layout.submission_key(YEAR, sample.skpd, sample.filename)).status == "corrupt"


def test_a_threshold_change_rematches_from_stored_embeddings(settings, first_run):
    # Above any fused score (scores are probabilities, at most 1): nothing can be claimed any more.
    stricter = Pipeline(settings.model_copy(update={
        "supports_threshold": 1.01, "best_supports_threshold": 1.01, "announced_supports_threshold": 1.01
    }))
    totals = run(stricter, "run-2")
    assert totals.outcomes[Outcome.REMATCHED] == len(load_samples())
    assert (totals.extracted, totals.embedded_chunks) == (0, 0)
    decisions = {m.decision for s in stricter.state.submissions(YEAR) for m in s.matches}
    assert "supports" not in decisions


def test_a_model_prompt_change_embeds_again_and_keeps_both_models_vectors(settings, pipeline, first_run):
    prompted = Pipeline(settings.model_copy(update={"model_prompt": "query: "}))
    totals = run(prompted, "run-2")
    assert totals.outcomes[Outcome.REMATCHED] == len(load_samples())
    assert totals.extracted == 0 and totals.embedded_documents == 6  # read once, embedded under the new key
    submission = next(s for s in prompted.state.submissions(YEAR) if s.status == "ok")
    chunking = prompted.matcher.chunking.key
    assert prompted.state.embedding(submission.sha256, prompted.matcher.model_key, chunking) is not None
    assert prompted.state.embedding(submission.sha256, pipeline.matcher.model_key, chunking) is not None


def test_a_reviewers_verdicts_change_the_next_report_without_reading_anything_again(pipeline, first_run):
    audit = layout.submission_key(YEAR, "inspektorat", "Laporan-Hasil-Audit-Infrastruktur-SPBE-2026.pdf")
    record_verdict(pipeline.state, pipeline.framework, audit, 29, VerdictKind.REJECTED, "Rina", "belum ditandatangani")
    record_verdict(pipeline.state, pipeline.framework, audit, 31, VerdictKind.ACCEPTED, "Rina", "bab keamanan")
    totals = run(pipeline, "run-2")
    assert (totals.extracted, totals.embedded_chunks) == (0, 0)
    coverage = {item.indicator.number: item.state for item in pipeline.assess(YEAR).coverage}
    assert (coverage[29], coverage[31]) == (EvidenceState.MISSING, EvidenceState.PRESENT)
    html = pipeline.store.get_bytes(layout.report_key(YEAR, "run-2", "inspektorat", "html")).decode()
    assert "dikonfirmasi oleh peninjau Rina: bab keamanan" in html
    assert "ditolak oleh peninjau Rina sebagai bukti indikator ini: belum ditandatangani" in html


def test_force_extracts_and_embeds_again(pipeline, first_run):
    totals = run(pipeline, "run-2", force=True)
    assert totals.extracted == len(load_samples())
    assert totals.embedded_documents == 6


def test_a_withdrawn_upload_stops_counting_but_keeps_its_history(pipeline, settings, first_run):
    key = layout.submission_key(YEAR, "inspektorat", "Laporan-Hasil-Audit-Infrastruktur-SPBE-2026.pdf")
    client = Minio(endpoint=settings.s3_endpoint, access_key=settings.s3_access_key,
                   secret_key=settings.s3_secret_key, secure=False)
    client.remove_object(bucket_name=settings.s3_bucket, object_name=key)
    totals = run(pipeline, "run-2")
    assert totals.removed == 1
    assert key not in {s.key for s in pipeline.state.submissions(YEAR)}
    assert key in {s.key for s in pipeline.state.submissions(YEAR, include_removed=True)}


def test_a_bucket_without_any_of_the_years_submissions_removes_none_unless_accepted(settings, first_run):
    """A wrong bucket or endpoint would otherwise empty every SKPD's report at once."""
    store = ObjectStore.from_settings(settings.model_copy(update={"s3_bucket": f"{settings.s3_bucket}-kosong"}))
    store.ensure_bucket()
    elsewhere = Pipeline(settings.model_copy(update={"s3_bucket": store.bucket}))
    counted = len(elsewhere.state.submissions(YEAR))
    for skpd in (None, {"inspektorat"}):  # a whole run, and a rerun for one SKPD's folder
        with pytest.raises(NothingListed, match=f"holds no submissions for {YEAR}, yet {counted} count as evidence"):
            elsewhere.mark_removed(YEAR, elsewhere.discover(YEAR, skpd), skpd)
    assert len(elsewhere.state.submissions(YEAR)) == counted
    assert len(elsewhere.mark_removed(YEAR, elsewhere.discover(YEAR), None, accept_empty=True)) == counted


def test_an_skpd_that_deletes_its_last_upload_has_it_removed_by_the_rerun_for_its_folder(pipeline, settings,
                                                                                          first_run):  # fmt: skip
    """The relay's rerun after a delete: the other SKPD's uploads show the bucket is the right one."""
    [key] = [s.key for s in pipeline.state.submissions(YEAR) if s.skpd == "inspektorat"]
    pipeline.store._client.remove_object(bucket_name=settings.s3_bucket, object_name=key)
    assert pipeline.mark_removed(YEAR, pipeline.discover(YEAR, {"inspektorat"}), {"inspektorat"}) == [key]


def test_an_upload_over_the_size_limit_is_too_large_without_download(settings, tmp_path):
    pipeline = Pipeline(settings.model_copy(update={"max_upload_bytes": 10}))
    key = layout.submission_key(YEAR, "dishub", "besar.pdf")
    pipeline.store.put_bytes(key, b"%PDF-1.4 " + b"x" * 100)
    run(pipeline, "run-1")
    row = pipeline.state.submission(key)
    assert row.status == "too_large" and "melebihi batas" in row.message and row.sha256 is None


def test_unreadable_uploads_keep_their_original_and_get_a_message(pipeline, first_run, settings):
    rows = {s.filename: s for s in pipeline.state.submissions(YEAR)}
    assert rows["SOP-Parkir-terpotong.pdf"].status == "corrupt"
    assert rows["Daftar-Produk-Hukum.xls"].status == "unsupported"
    assert "PDF atau DOCX" in rows["Daftar-Produk-Hukum.xls"].message
    assert pipeline.store.exists(rows["SOP-Parkir-terpotong.pdf"].key)


def test_extracted_text_is_kept_in_the_bucket_with_page_numbers(pipeline, first_run):
    row = next(s for s in pipeline.state.submissions(YEAR) if s.filename.startswith("Perwal"))
    stored = json.loads(pipeline.store.get_bytes(layout.extraction_key(row.sha256)))
    assert [page["number"] for page in stored["pages"]] == [1, 2]


def test_reports_are_written_per_skpd_in_the_bucket_and_locally(pipeline, first_run, settings):
    html = pipeline.store.get_bytes(layout.report_key(YEAR, "run-1", "inspektorat", "html")).decode()
    assert "Inspektorat" in html and "Laporan-Hasil-Audit-Infrastruktur-SPBE-2026.pdf" in html
    assert pipeline.store.exists(layout.latest_report_key(YEAR, "inspektorat", "html"))
    assert (settings.data_dir / "reports" / str(YEAR) / "inspektorat.html").is_file()
    for skpd in pipeline.registry.skpd:
        assert pipeline.store.exists(layout.report_key(YEAR, "run-1", skpd.code, "html"))


def test_an_upload_in_no_skpd_folder_is_not_read_but_the_city_summary_lists_it(pipeline, tmp_path):
    """A clerk's file dropped straight into the year's folder is no SKPD's evidence; Kominfotik is told to move it."""
    upload_samples(pipeline, tmp_path)
    pipeline.store.put_bytes(f"submissions/{YEAR}/Perwal-SPBE.pdf", b"%PDF-1.4")
    pipeline.store.put_bytes(f"submissions/{YEAR}/~$Notulen.docx", b"kunci")  # an editor's lock file: not listed
    discovery = pipeline.discover(YEAR)
    assert all(obj.key != f"submissions/{YEAR}/Perwal-SPBE.pdf" for obj in discovery.objects)
    assert discovery.loose == ["Perwal-SPBE.pdf"]
    run(pipeline, "run-1")
    summary = pipeline.store.get_bytes(layout.latest_report_key(YEAR, CITY_SUMMARY, "html")).decode()
    assert "Berkas di luar folder SKPD: 1 (Perwal-SPBE.pdf)" in summary
    assert f"submissions/{YEAR}/&lt;kode SKPD&gt;/" in summary


def test_an_upload_in_a_subfolder_or_a_capitalised_skpd_folder_counts_for_the_skpd(pipeline, tmp_path):
    """What another S3 client makes of a clerk's folder: not lost, nor left to a warning in the log."""
    sample = next(sample for sample in load_samples() if sample.filename.startswith("Perwal"))
    key = f"submissions/{YEAR}/Diskominfotik/Produk Hukum 2026/{sample.filename}"
    pipeline.store.put_file(key, write_sample(sample, tmp_path))
    run(pipeline, "run-1")
    row = pipeline.state.submission(key)
    assert (row.skpd, row.filename, row.status) == ("diskominfotik", f"Produk Hukum 2026/{sample.filename}", "ok")
    assert any(match.decision == "supports" for match in row.matches)


@pytest.mark.parametrize("name", [".~lock.Notulen.docx#", "~$Notulen.docx", "Notulen.pdf.part"])
def test_an_editors_lock_file_or_an_unfinished_part_is_no_upload(pipeline, name):
    key = layout.submission_key(YEAR, "bappeda", name)
    pipeline.store.put_bytes(key, b"bukan kiriman")
    discovery = pipeline.discover(YEAR)
    assert key not in {obj.key for obj in discovery.objects} and not discovery.loose
