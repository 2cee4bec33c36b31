"""The `spbe-evidence` command line, as an operator types it; `match --format json` is a stable contract."""
from __future__ import annotations

import json
import logging
import sys

import pytest
from pydantic import ValidationError

from matching.matcher import Ground
from flows.pipeline import is_transient
from settings import Settings, get_settings
from spbe_evidence.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, GROUND_WORDS, CommandLogFormatter, main
from spbe_evidence.samples import load_samples, write_sample
from storage import layout
from storage.objects import ObjectNotFound, ObjectStore, StorageRefused
from databases import state_url, throwaway_database

MATCH_KEYS = {"indicator", "score", "decision", "page", "passage", "unmet_rule", "ground"}


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    paths = {sample.filename: write_sample(sample, folder) for sample in load_samples()}
    (folder / "kosong.pdf").write_bytes(b"")
    paths["kosong.pdf"] = folder / "kosong.pdf"
    return paths


def match_json(capsys, *args) -> list[dict]:
    assert main(["match", "--format", "json", *map(str, args)]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def test_match_prints_one_result_per_file_in_order(capsys, sample_files):
    files = list(sample_files.values())
    results = match_json(capsys, *files)
    assert [result["file"] for result in results] == [str(path) for path in files]
    assert all(set(result) == {"file", "status", "message", "matches"} for result in results)


def test_match_reads_every_file_of_a_folder_it_is_given(capsys, sample_files):
    folder = next(iter(sample_files.values())).parent
    results = match_json(capsys, folder)
    assert [result["file"] for result in results] == sorted(str(path) for path in sample_files.values())


def test_match_gives_candidates_best_first_with_page_and_passage(capsys, sample_files):
    [result] = match_json(capsys, "--top", "3", sample_files["Laporan-Hasil-Audit-Infrastruktur-SPBE-2026.pdf"])
    assert result["status"] == "ok" and result["message"] == ""
    assert len(result["matches"]) == 3
    assert all(set(match) == MATCH_KEYS for match in result["matches"])
    scores = [match["score"] for match in result["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert all(match["decision"] in {"supports", "review", "none"} for match in result["matches"])
    assert all(match["page"] == 1 and match["passage"] for match in result["matches"])


@pytest.mark.parametrize(
    ("filename", "status"),
    [("SOP-Parkir-terpotong.pdf", "corrupt"), ("Daftar-Produk-Hukum.xls", "unsupported"), ("kosong.pdf", "empty")],
)
def test_match_gives_bad_files_a_status_and_a_message_with_exit_code_0(capsys, sample_files, filename, status):
    [result] = match_json(capsys, sample_files[filename])
    assert result["status"] == status
    assert result["message"]
    assert result["matches"] == []


def test_match_table_format_is_readable(capsys, sample_files):
    assert main(["match", str(sample_files["Manual-Aplikasi-Kepegawaian-SIMPEG.docx"])]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Manual-Aplikasi-Kepegawaian-SIMPEG.docx: ok" in out and "hal. 1" in out


def test_match_on_a_missing_file_says_so(capsys, tmp_path):
    assert main(["match", str(tmp_path / "tidak-ada.pdf")]) == EXIT_USAGE
    assert "no such file" in capsys.readouterr().err


def test_submit_uploads_into_the_submission_layout(capsys, environment, sample_files):
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    assert main(["submit", "--skpd", "bappeda", "--year", "2026", str(path)]) == EXIT_OK
    key = layout.submission_key(2026, "bappeda", path.name)
    assert key in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "says"),
    [(["--skpd", "dinas-entah"], "unknown SKPD dinas-entah; the registry has: "),
     (["--indicator", "99"], "no indicator 99 in "), (["--indicator", "10", "--indicator", "0"], "no indicator 0 in ")],
)  # fmt: skip
def test_run_refuses_an_unknown_skpd_or_indicator_before_anything_runs(capsys, environment, options, says):
    """A run over nothing would publish reports saying every indicator has evidence."""
    assert main(["run", *options]) == EXIT_USAGE
    assert says in capsys.readouterr().err


def test_submit_refuses_an_unknown_skpd_and_lists_the_known_ones(capsys, environment, sample_files):
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    assert main(["submit", "--skpd", "dinas-entah", str(path)]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "unknown SKPD dinas-entah" in error and "bappeda" in error


def test_a_wrong_setting_is_named_with_what_it_should_be_not_a_traceback(capsys, environment, monkeypatch):
    monkeypatch.setenv("SPBE_TIMEZONE", "WITA")
    monkeypatch.setenv("SPBE_SUPPORTS_THRESHOLD", "0,5")  # a decimal comma
    monkeypatch.setenv("SPBE_S3_ENDPOINT", "http://127.0.0.1:8333")
    get_settings.cache_clear()
    assert main(["status"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "SPBE_TIMEZONE='WITA': unknown time zone 'WITA': give its IANA name, such as Asia/Makassar" in error
    assert "SPBE_SUPPORTS_THRESHOLD='0,5': Input should be a valid number" in error
    assert "SPBE_S3_ENDPOINT='http://127.0.0.1:8333': give host:port only" in error
    assert "Traceback" not in error


def test_a_threshold_outside_the_score_range_is_refused():
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        Settings(_env_file=None, supports_threshold=50)  # a percentage where a score is meant


def test_wrong_storage_credentials_are_said_once_not_retried(capsys, environment, sample_files, monkeypatch):
    """S3 refused the key: waiting will not fix it, so the operator is told at once what to check."""
    monkeypatch.setenv("SPBE_S3_SECRET_KEY", "salah")
    get_settings.cache_clear()
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    assert main(["submit", "--skpd", "bappeda", str(path)]) == EXIT_FAILED
    error = capsys.readouterr().err
    assert "check SPBE_S3_ACCESS_KEY, SPBE_S3_SECRET_KEY" in error and "Traceback" not in error
    with pytest.raises(StorageRefused) as refused:
        ObjectStore.from_settings(get_settings()).exists("submissions/2026/bappeda/a.pdf")
    assert not is_transient(refused.value)


def test_submit_to_a_bucket_that_does_not_exist_is_refused_not_made(capsys, environment, sample_files, monkeypatch):
    """A typo in SPBE_S3_BUCKET must not leave uploads in a new bucket no run reads."""
    monkeypatch.setenv("SPBE_S3_BUCKET", f"{environment.s3_bucket}-typo")
    get_settings.cache_clear()
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    assert main(["submit", "--skpd", "bappeda", str(path)]) == EXIT_FAILED
    assert "NoSuchBucket" in (error := capsys.readouterr().err) and "check SPBE_S3_BUCKET" in error
    with pytest.raises(StorageRefused, match="NoSuchBucket"):
        ObjectStore.from_settings(get_settings()).exists("submissions/2026/bappeda/a.pdf")


def test_a_state_database_that_does_not_exist_is_named_without_its_password(capsys, environment, monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setenv("SPBE_DATABASE_URL", "postgresql+psycopg://postgres:Rahasia@127.0.0.1:5432/spbe_tidak_ada")
    get_settings.cache_clear()
    assert main(["status"]) == EXIT_FAILED
    error = capsys.readouterr().err
    assert "cannot open the state database postgresql+psycopg://postgres:***@127.0.0.1:5432/spbe_tidak_ada" in error
    assert "check SPBE_DATABASE_URL" in error and "Rahasia" not in error and "Traceback" not in error


def test_status_shows_the_state_database_without_its_password(capsys, environment, monkeypatch):
    with throwaway_database() as name:
        monkeypatch.setenv("SPBE_DATABASE_URL", state_url(name).replace("postgres@", "postgres:Rahasia@"))
        get_settings.cache_clear()
        assert main(["status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"postgres:***@127.0.0.1:5432/{name}" in out and "Rahasia" not in out


def test_a_broken_skpd_file_is_named_not_a_traceback(capsys, environment, monkeypatch, tmp_path):
    (tmp_path / "skpd.json").write_text('{"city": ', encoding="utf-8")  # cut off while being edited
    monkeypatch.setenv("SPBE_SKPD_FILE", str(tmp_path / "skpd.json"))
    get_settings.cache_clear()
    assert main(["status"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert f"{tmp_path / 'skpd.json'}: not valid UTF-8 JSON" in error and "Traceback" not in error


def logged_with(error: Exception) -> logging.LogRecord:
    try:
        raise error
    except Exception:
        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "Encountered exception", None,
                                 sys.exc_info())  # fmt: skip


def test_prefects_log_of_an_error_the_command_explains_leaves_out_the_traceback():
    """Wrong credentials: one line says what to check, not two tracebacks of Prefect's task and flow runs above it."""
    formatter = CommandLogFormatter("%(message)s")
    explained = logged_with(StorageRefused("S3 said SignatureDoesNotMatch; check SPBE_S3_SECRET_KEY"))
    assert formatter.format(explained) == "Encountered exception" and explained.exc_info  # other handlers keep it
    for bug in (KeyError("a bug"), ObjectNotFound("no such key: computed wrong")):  # whoever reads the log needs it
        assert "Traceback" in formatter.format(logged_with(bug))


YEARS_TOO_FAR = 5


def test_a_year_not_in_four_digits_is_refused_with_a_usage_line(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["submit", "--skpd", "bappeda", "--year", "26", "x.pdf"])
    assert exited.value.code == EXIT_USAGE
    assert "in four digits, such as 2026, not '26'" in capsys.readouterr().err


def test_submit_refuses_a_year_not_evaluated_yet(capsys, environment, sample_files):
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    year = str(environment.today_year() + YEARS_TOO_FAR)
    assert main(["submit", "--skpd", "bappeda", "--year", year, str(path)]) == EXIT_USAGE
    assert f"year {year} is not being evaluated yet" in capsys.readouterr().err


def test_submit_reads_an_skpd_code_typed_with_capitals_as_its_folder_does(capsys, environment, sample_files):
    path = sample_files["Dokumen-Peta-Rencana-SPBE-2025-2029.pdf"]
    assert main(["submit", "--skpd", "Bappeda", "--year", "2026", str(path)]) == EXIT_OK
    assert layout.submission_key(2026, "bappeda", path.name) in capsys.readouterr().out


def test_every_ground_of_a_supports_under_the_usual_bar_is_put_in_words():
    """The operator reading `match` sees why a low score is a supports, whatever rule earned it."""
    assert set(GROUND_WORDS) == {ground.value for ground in Ground} - {Ground.SCORE}
