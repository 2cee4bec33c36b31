"""The nightly flow end to end through Prefect: submissions in S3 → reports in S3, and the CLI around it."""
from __future__ import annotations

import pytest

from flows.nightly import nightly
from settings import get_settings
from spbe_evidence.cli import EXIT_FAILED, EXIT_OK, main
from spbe_evidence.demo import upload_samples
from spbe_evidence.samples import load_samples, write_sample
from storage.objects import ObjectStore
from storage.state import StateStore

YEAR = 2026


@pytest.fixture
def submitted(environment, prefect_harness, tmp_path):
    store = ObjectStore.from_settings(environment)
    upload_samples(store, environment, YEAR, progress=lambda message: None)
    return environment


def test_nightly_flow_processes_submissions_and_publishes_reports(submitted):
    result = nightly(year=YEAR)
    assert result["counts"]["new"] == len(load_samples())
    assert result["counts"]["failed"] == 0
    store = ObjectStore.from_settings(submitted)
    for report in result["reports"]:
        assert store.exists(report["key"])
    assert {report["skpd"] for report in result["reports"]} >= {"diskominfotik", "inspektorat"}
    assert "KOTA (semua indikator)" in result["coverage_table"]
    [run] = StateStore(submitted.state_url()).runs(limit=1)
    assert run.status == "completed" and run.counts["new"] == len(load_samples())


def test_a_rerun_for_one_skpd_touches_only_its_submissions(submitted):
    nightly(year=YEAR)
    result = nightly(year=YEAR, skpd=["inspektorat"], force=True)
    inspektorat = [s for s in load_samples() if s.skpd == "inspektorat"]
    assert result["counts"]["rematched"] == len(inspektorat)
    assert result["counts"]["extracted"] == len(inspektorat)


def test_the_relays_rerun_for_a_folder_of_no_registered_skpd_processes_it(environment, prefect_harness, tmp_path):
    """The relay reruns whatever folder changed: a typo folder's uploads still count, and Kominfotik is told."""
    store = ObjectStore.from_settings(environment)
    sample = next(sample for sample in load_samples() if sample.filename.startswith("Perwal"))
    store.put_file(f"submissions/{YEAR}/dinas-baru/{sample.filename}", write_sample(sample, tmp_path))
    result = nightly(year=YEAR, skpd=["dinas-baru"])
    assert result["counts"]["new"] == 1
    assert "folder-tidak-terdaftar" in store.get_bytes(result["dashboard"]["key"]).decode()


def test_run_and_status_commands_show_reports_and_coverage(submitted, capsys):
    ObjectStore.from_settings(submitted).put_bytes(f"submissions/{YEAR}/Notulen-Rapat.pdf", b"%PDF-1.4")
    assert main(["run", "--year", str(YEAR)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"reports/{YEAR}/" in out and "inspektorat.html" in out
    assert "ada bukti" in out and "belum ada bukti" in out
    assert "Not read, in no SKPD's folder (move each into its SKPD's folder): Notulen-Rapat.pdf" in out
    assert main(["status", "--year", str(YEAR)]) == EXIT_OK
    status = capsys.readouterr().out
    assert f"Year {YEAR}: {len(load_samples())} submissions" in status
    assert "corrupt" in status and "Recent runs:" in status


def test_a_run_on_a_bucket_without_the_years_submissions_refuses_and_publishes_nothing(submitted, monkeypatch, capsys):
    nightly(year=YEAR)
    empty = ObjectStore.from_settings(submitted.model_copy(update={"s3_bucket": f"{submitted.s3_bucket}-salah"}))
    empty.ensure_bucket()
    monkeypatch.setenv("SPBE_S3_BUCKET", empty.bucket)
    get_settings.cache_clear()
    assert main(["run", "--year", str(YEAR)]) == EXIT_FAILED
    assert "Check SPBE_S3_ENDPOINT and SPBE_S3_BUCKET" in capsys.readouterr().err
    assert not list(empty.list_objects("reports/"))
    assert len(StateStore(submitted.state_url()).submissions(YEAR)) == len(load_samples())
    assert main(["status", "--year", str(YEAR)]) == EXIT_OK  # the failed run says why
    [failed] = [line for line in capsys.readouterr().out.splitlines() if line.split()[1:2] == ["failed"]]
    assert f"bucket {empty.bucket} at {submitted.s3_endpoint} holds no submissions" in failed
