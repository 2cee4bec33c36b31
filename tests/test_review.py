"""A reviewer's verdict stands above the matcher's decision: in the completeness reports, the state store and the
command line. A verdict is on a document's content and one indicator, so it holds for every upload of the same file
and through every rematch."""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict
from datetime import datetime

import pypdfium2
import pytest
from openpyxl import load_workbook
from prefect.artifacts import Artifact

from reports.completeness import EvidenceState, assess
from flows.review import WORK_LIST_ARTIFACT_KEY, ReviewAction, review
from reports.errors import ReportsError
from reports.html import local_timestamp
from reports.pdf import render_skpd_pdf
from reports.review import decided_reviews, pending_reviews, record_verdict, remove_verdict
from reports.summary import city_summary, summary_markdown
from reports.views import skpd_report
from reports.xlsx import render_skpd_xlsx
from spbe_evidence.cli import main
from storage.state import REVIEWER_CHARS, MatchRow, StateStore, Submission, Verdict, VerdictKind
from test_state import postgres_url, state as empty_state  # noqa: F401  (the state store on both databases)

YEAR = 2026
AUDIT = "a" * 64  # the audit report's content
KEY = f"submissions/{YEAR}/inspektorat/audit.pdf"


def audit_report(
    *matches: tuple[int, float, str], key: str = KEY, sha256: str | None = AUDIT, status: str = "ok"
) -> Submission:
    """The Inspektorat's audit report with its stored matches."""
    return Submission(
        key=key, year=YEAR, skpd="inspektorat", filename=key.rsplit("/", 1)[-1], status=status, sha256=sha256,
        matches=[
            MatchRow(rank=rank, indicator=number, score=score, decision=decision, page=3, passage=f"bukti {number}")
            for rank, (number, score, decision) in enumerate(matches, start=1)
        ],
    )  # fmt: skip


def verdict(indicator: int, kind: VerdictKind, note: str = "", sha256: str = AUDIT) -> dict[str, dict[int, Verdict]]:
    return {sha256: {indicator: Verdict(framework="spbe-2024", sha256=sha256, indicator=indicator, verdict=kind,
                                        reviewer="Rina (Diskominfotik)", note=note)}}


def inspektorat(catalog, uploads, verdicts):
    framework, registry = catalog
    city = assess(framework, registry, uploads, YEAR, verdicts=verdicts)
    view = next(view for view in city.skpd if view.skpd.code == "inspektorat")
    return city, view, skpd_report(view, YEAR, framework, registry, dates={})


def indicator_state(city, number: int) -> EvidenceState:
    return next(item.state for item in city.coverage if item.indicator.number == number)


# What the reports say ---------------------------------------------------------------------------------------------

def test_an_accepted_review_is_evidence_and_the_report_names_the_reviewer_and_the_note(catalog):
    uploads = [audit_report((29, 0.42, "review"))]
    city, _, report = inspektorat(catalog, uploads, verdict(29, VerdictKind.ACCEPTED, "audit server dan jaringan"))
    assert indicator_state(city, 29) is EvidenceState.PRESENT
    [row] = next(row for row in report.indicators if row.number == 29).evidence
    assert row.verdict == "mendukung (dikonfirmasi oleh peninjau Rina (Diskominfotik): audit server dan jaringan)"
    assert (row.page, row.passage) == (3, "bukti 29")  # the matcher's passage stays for the reader


def test_a_rejected_supports_is_no_evidence_and_the_report_says_who_rejected_it_and_why(catalog):
    uploads = [audit_report((29, 0.9, "supports"))]
    city, view, report = inspektorat(catalog, uploads, verdict(29, VerdictKind.REJECTED, "belum ditandatangani"))
    assert indicator_state(city, 29) is EvidenceState.MISSING
    row = next(row for row in report.indicators if row.number == 29)
    assert row.evidence == ()
    assert row.rejected == (
        "audit.pdf ditolak oleh peninjau Rina (Diskominfotik) sebagai bukti indikator ini: belum ditandatangani",
    )
    [upload] = view.unmatched  # its only claim rejected, the upload counts for nothing
    assert (upload.filename, upload.message) == (
        "audit.pdf", "ditolak oleh peninjau Rina (Diskominfotik) sebagai bukti indikator 29 (Tingkat Kematangan "
        "Pelaksanaan Audit Infrastruktur SPBE): belum ditandatangani"
    )


def test_an_unmatched_upload_keeps_the_extractors_word_beside_the_rejection(catalog):
    scan = audit_report((29, 0.9, "supports"))
    scan.message = "Halaman pindaian tidak dibaca (OCR dilewati)"
    _, view, _ = inspektorat(catalog, [scan], verdict(29, VerdictKind.REJECTED))
    assert view.unmatched[0].message.startswith("Halaman pindaian tidak dibaca (OCR dilewati); ditolak oleh peninjau")


def test_an_unreadable_upload_a_reviewer_accepted_is_evidence_and_no_longer_listed_unreadable(catalog):
    scan = audit_report(status="empty")  # a scan without a text layer that OCR could not read either
    scan.message = "Berkas ini tidak berisi teks yang dapat dibaca"
    city, view, _ = inspektorat(catalog, [scan], verdict(29, VerdictKind.ACCEPTED, "dibaca manual"))
    assert indicator_state(city, 29) is EvidenceState.PRESENT
    assert view.unreadable == [] and view.unmatched == []
    [evidence] = next(item for item in city.coverage if item.indicator.number == 29).evidence
    assert evidence.sha256 is None  # no text to date it from: not looked for in the bucket on every run


def test_a_verdict_on_one_sector_service_slot_decides_the_claims_on_its_group(catalog):
    """45–47 share their evidence, so the reviewer's word on one of them is on all three."""
    uploads = [audit_report((45, 0.42, "review"), (46, 0.40, "review"))]
    rejected, _, report = inspektorat(catalog, uploads, verdict(45, VerdictKind.REJECTED))
    assert {indicator_state(rejected, number) for number in (45, 46, 47)} == {EvidenceState.MISSING}
    assert [len(item.rejected) for item in rejected.coverage if item.indicator.number in (45, 46, 47)] == [1, 1, 1]
    accepted, _, _ = inspektorat(catalog, uploads, verdict(47, VerdictKind.ACCEPTED))
    assert {indicator_state(accepted, number) for number in (45, 46, 47)} == {EvidenceState.PRESENT}
    assert pending_reviews(uploads, verdict(47, VerdictKind.ACCEPTED), catalog[0]) == []


def test_a_rejection_on_a_group_is_said_once_naming_the_indicator_the_reviewer_named(catalog):
    uploads = [audit_report((45, 0.42, "review"), (46, 0.40, "review"), (47, 0.38, "review"))]
    _, view, _ = inspektorat(catalog, uploads, verdict(46, VerdictKind.REJECTED, "bukan layanan publik"))
    [upload] = view.unmatched
    assert upload.message.count("ditolak") == 1 and "indikator 46 (" in upload.message


def test_a_report_without_verdicts_hashes_as_before_verdicts_existed(catalog):
    """An upgrade sends again only the reports that now read differently."""
    _, _, report = inspektorat(catalog, [audit_report((29, 0.9, "supports"))], {})
    before = asdict(report)
    del before["for_others"]  # the fields added since, empty here
    for row in before["indicators"]:
        del row["rejected"]
        for evidence in row["evidence"]:
            del evidence["copies"]
    payload = json.dumps(before, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert report.content_hash == hashlib.sha256(payload.encode()).hexdigest()


def test_rejecting_what_the_matcher_never_claimed_says_nothing(catalog):
    uploads = [audit_report((29, 0.9, "supports"), (30, 0.1, "none"))]
    city, view, report = inspektorat(catalog, uploads, verdict(30, VerdictKind.REJECTED))
    assert next(row for row in report.indicators if row.number == 30).rejected == ()
    assert view.unmatched == []


def test_the_pdf_and_the_xlsx_show_the_verdicts_too(catalog):
    uploads = [audit_report((29, 0.9, "supports"), (30, 0.42, "review"))]
    verdicts = {AUDIT: {**verdict(29, VerdictKind.REJECTED, "belum ditandatangani")[AUDIT],
                        **verdict(30, VerdictKind.ACCEPTED, "audit aplikasi")[AUDIT]}}
    _, _, report = inspektorat(catalog, uploads, verdicts)
    pdf = pypdfium2.PdfDocument(render_skpd_pdf(report, "28-11-2026 09:00 WITA"))
    text = " ".join(pdf[number].get_textpage().get_text_range() for number in range(len(pdf))).replace("\r\n", " ")
    assert "ditolak oleh peninjau Rina (Diskominfotik) sebagai bukti indikator ini: belum ditandatangani" in text
    assert "dikonfirmasi oleh peninjau Rina (Diskominfotik): audit aplikasi" in text
    sheet = load_workbook(io.BytesIO(render_skpd_xlsx(report)))["Indikator"]
    documents = {row[0]: row[7] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert documents[29] == "audit.pdf ditolak oleh peninjau Rina (Diskominfotik) sebagai bukti indikator ini: " \
                            "belum ditandatangani"
    assert documents[30] == "audit.pdf - mendukung (dikonfirmasi oleh peninjau Rina (Diskominfotik): audit aplikasi)"


def test_a_reviewer_adds_an_indicator_the_matcher_did_not_claim_without_page_or_passage(catalog):
    uploads = [audit_report((29, 0.9, "supports"))]  # a report on the infrastructure and application audits
    city, _, report = inspektorat(catalog, uploads, verdict(30, VerdictKind.ACCEPTED))
    assert indicator_state(city, 30) is EvidenceState.PRESENT
    [row] = next(row for row in report.indicators if row.number == 30).evidence
    assert (row.page, row.passage, row.verdict) == (None, "", "mendukung (dikonfirmasi oleh peninjau Rina (Diskominfotik))")
    assert indicator_state(city, 29) is EvidenceState.PRESENT  # the matcher's own claim still stands


def test_a_verdict_holds_for_every_upload_of_the_same_content(catalog):
    again = f"submissions/{YEAR}/inspektorat/audit-salinan.pdf"
    uploads = [audit_report((29, 0.9, "supports")), audit_report((29, 0.9, "supports"), key=again)]
    city, _, _ = inspektorat(catalog, uploads, verdict(29, VerdictKind.REJECTED))
    assert indicator_state(city, 29) is EvidenceState.MISSING


def test_a_verdict_on_other_content_or_an_indicator_the_framework_lacks_changes_nothing(catalog):
    uploads = [audit_report((29, 0.42, "review"))]
    city, _, _ = inspektorat(catalog, uploads, {**verdict(29, VerdictKind.ACCEPTED, sha256="b" * 64),
                                                **verdict(48, VerdictKind.ACCEPTED)})
    assert indicator_state(city, 29) is EvidenceState.REVIEW


def test_a_stored_time_reads_in_the_citys_zone():
    assert local_timestamp("Asia/Makassar", datetime(2026, 11, 28, 19, 30)) == "29-11-2026 03:30 WITA"


def test_reports_without_verdicts_are_the_matchers(catalog):
    framework, registry = catalog
    uploads = [audit_report((29, 0.9, "supports"), (30, 0.4, "review"))]
    assert assess(framework, registry, uploads, YEAR) == assess(framework, registry, uploads, YEAR, verdicts={})


# The reviewer's work list ------------------------------------------------------------------------------------------

def test_the_city_summary_counts_the_matches_waiting_for_a_reviewer(catalog):
    framework, registry = catalog
    uploads = [audit_report((29, 0.9, "supports"), (30, 0.42, "review"), (31, 0.35, "review"))]
    verdicts = verdict(31, VerdictKind.REJECTED)
    city = assess(framework, registry, uploads, YEAR, verdicts=verdicts)
    assert city.awaiting_review == len(pending_reviews(uploads, verdicts, framework)) == 1
    summary = city_summary(city, framework, registry, dates={})
    waiting = f"Kecocokan yang menunggu peninjau: 1 (daftarnya: spbe-evidence review list, atau artefak Prefect " \
              f"spbe-perlu-ditinjau-{YEAR})"
    assert waiting in summary.summary_text and waiting in summary_markdown(summary)


def test_a_city_summary_with_nothing_waiting_hashes_as_before_the_count_existed(catalog):
    framework, registry = catalog
    summary = city_summary(assess(framework, registry, [audit_report((29, 0.9, "supports"))], YEAR), framework,
                           registry, dates={})
    before = asdict(summary)
    del before["awaiting_review"], before["unregistered"], before["loose"]  # added later, and empty
    payload = json.dumps(before, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert summary.content_hash == hashlib.sha256(payload.encode()).hexdigest()


def test_the_work_list_holds_the_review_matches_no_reviewer_has_decided(catalog):
    uploads = [audit_report((29, 0.9, "supports"), (30, 0.42, "review"), (31, 0.35, "review"))]
    pending = pending_reviews(uploads, verdict(31, VerdictKind.REJECTED), catalog[0])
    assert [(item.claim.key, item.claim.indicator, item.claim.page) for item in pending] == [(KEY, 30, 3)]
    assert [(item.key, item.indicator) for item in decided_reviews(uploads, verdict(31, VerdictKind.REJECTED))] == [
        (KEY, 31)
    ]


def test_a_file_uploaded_several_times_waits_for_one_verdict(catalog):
    """A verdict is on the content: the work list and the dashboard count the file once, naming its other uploads."""
    framework, registry = catalog
    copy = f"{KEY.rsplit('/', 1)[0]}/audit (1).pdf"
    uploads = [audit_report((30, 0.42, "review")), audit_report((30, 0.42, "review"), key=copy)]
    [pending] = pending_reviews(uploads, {}, framework)
    assert (pending.claim.key, pending.copies) == (KEY, (copy,))
    assert assess(framework, registry, uploads, YEAR).awaiting_review == 1
    sector = [audit_report((45, 0.42, "review"), (46, 0.40, "review"))]  # one verdict decides the group
    assert len(pending_reviews(sector, {}, framework)) == assess(framework, registry, sector, YEAR).awaiting_review == 1


# The state store (SQLite and PostgreSQL) ---------------------------------------------------------------------------

def record_audit_report(store: StateStore) -> StateStore:
    """The state store after a run read the audit report and left its indicator 30 for review."""
    store.record_submission(
        key=KEY, year=YEAR, skpd="inspektorat", filename="audit.pdf", etag="e1", size=10, sha256=AUDIT, status="ok",
        message="", detail="", fingerprint="f1", run_id="run-1",
        matches=[{"indicator": 30, "score": 0.42, "decision": "review", "page": 3, "passage": "audit aplikasi"}],
    )  # fmt: skip
    return store


@pytest.fixture
def state(empty_state: StateStore) -> StateStore:
    return record_audit_report(empty_state)


def test_a_verdict_is_kept_replaced_by_a_later_one_and_taken_back(catalog, state):
    framework, _ = catalog
    record_verdict(state, framework, KEY, 30, VerdictKind.ACCEPTED, "Rina", "laporan audit aplikasi")
    record_verdict(state, framework, KEY, 30, VerdictKind.REJECTED, "  Budi  ", "hanya rencana audit")
    [kept] = state.verdicts(framework.id)[AUDIT].values()
    assert (kept.indicator, kept.verdict, kept.reviewer, kept.note) == (30, "rejected", "Budi", "hanya rencana audit")
    remove_verdict(state, framework, KEY, 30)
    assert state.verdicts(framework.id) == {}


def test_a_verdict_survives_the_matches_being_replaced_by_a_rematch(catalog, state):
    framework, _ = catalog
    record_verdict(state, framework, KEY, 30, VerdictKind.ACCEPTED, "Rina")
    state.record_submission(key=KEY, year=YEAR, skpd="inspektorat", filename="audit.pdf", etag="e1", size=10,
                            sha256=AUDIT, status="ok", message="", detail="", fingerprint="f2", run_id="run-2",
                            matches=[])
    assert list(state.verdicts(framework.id)[AUDIT]) == [30]


def test_a_verdict_on_a_group_replaces_one_on_another_slot_and_is_taken_back_through_any(catalog, state):
    framework, _ = catalog
    record_verdict(state, framework, KEY, 46, VerdictKind.ACCEPTED, "Budi")
    record_verdict(state, framework, KEY, 45, VerdictKind.REJECTED, "Rina", "bukan layanan publik")
    assert {number: item.verdict for number, item in state.verdicts(framework.id)[AUDIT].items()} == {45: "rejected"}
    remove_verdict(state, framework, KEY, 47)
    assert state.verdicts(framework.id) == {}


def test_a_long_reviewer_name_is_kept_cut_not_refused(catalog, state):
    framework, _ = catalog
    record_verdict(state, framework, KEY, 30, VerdictKind.ACCEPTED, "Peninjau " * 60)
    assert len(state.verdicts(framework.id)[AUDIT][30].reviewer) == REVIEWER_CHARS


@pytest.mark.parametrize(
    ("key", "indicator", "reviewer", "says"),
    [
        (f"submissions/{YEAR}/inspektorat/tidak-ada.pdf", 30, "Rina", "no submission"),
        (KEY, 48, "Rina", "has no indicator 48"),
        (KEY, 30, "  ", "the reviewer's name"),
    ],
)
def test_a_verdict_that_cannot_be_kept_is_refused_with_the_reason(catalog, state, key, indicator, reviewer, says):
    with pytest.raises(ReportsError, match=says):
        record_verdict(state, catalog[0], key, indicator, VerdictKind.ACCEPTED, reviewer)
    assert state.verdicts(catalog[0].id) == {}


def test_an_upload_never_downloaded_has_no_content_to_decide_on(catalog, state):
    too_large = f"submissions/{YEAR}/inspektorat/video.mp4"
    state.record_submission(key=too_large, year=YEAR, skpd="inspektorat", filename="video.mp4", etag="e", size=1,
                            sha256=None, status="too_large", message="Berkas terlalu besar", detail="",
                            fingerprint=None, run_id="run-1", matches=[])
    with pytest.raises(ReportsError, match=r"never downloaded \(too_large: Berkas terlalu besar\)"):
        record_verdict(state, catalog[0], too_large, 30, VerdictKind.ACCEPTED, "Rina")


def test_an_upload_removed_from_the_bucket_is_not_decided_on(catalog, state):
    state.mark_removed(YEAR, present_keys=set())
    with pytest.raises(ReportsError, match="removed from the bucket"):
        record_verdict(state, catalog[0], KEY, 30, VerdictKind.ACCEPTED, "Rina")


def test_taking_back_a_verdict_that_does_not_exist_says_so(catalog, state):
    with pytest.raises(ReportsError, match="no verdict"):
        remove_verdict(state, catalog[0], KEY, 30)


# The command line --------------------------------------------------------------------------------------------------

@pytest.fixture
def cli_state(tmp_path, monkeypatch) -> StateStore:
    """The state store the command line finds through SPBE_DATABASE_URL, with the audit report read."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("SPBE_DATABASE_URL", url)
    from settings import get_settings

    get_settings.cache_clear()
    store = record_audit_report(StateStore(url))
    yield store
    get_settings.cache_clear()


def test_the_reviewer_lists_accepts_and_takes_back_on_the_command_line(capsys, cli_state):
    assert main(["review", "list", "--year", str(YEAR)]) == 0
    listed = capsys.readouterr().out
    assert "matches waiting for review: 1" in listed and f"{KEY}  indicator 30  score 0.420" in listed

    assert main(["review", "accept", KEY, "30", "--by", "Rina", "--note", "laporan audit aplikasi"]) == 0
    assert "indicator 30 accepted by Rina; the reports change with the next run" in capsys.readouterr().out
    assert main(["review", "list", "--year", str(YEAR)]) == 0
    assert "matches waiting for review: 0" in capsys.readouterr().out
    assert main(["review", "list", "--year", str(YEAR), "--decided"]) == 0
    assert "indicator 30: accepted by Rina on " in (decided := capsys.readouterr().out) and "WITA" in decided

    assert main(["review", "undo", KEY, "30"]) == 0
    assert cli_state.verdicts("spbe-2024") == {}


def test_rejecting_what_the_matcher_does_not_claim_is_kept_with_a_note(capsys, cli_state):
    assert main(["review", "reject", KEY, "12", "--by", "Rina"]) == 0
    assert "note: the matcher does not claim indicator 12 (or its group) for this document now" in capsys.readouterr().out


def test_a_verdict_the_command_line_cannot_keep_is_a_usage_error_with_the_reason(capsys, cli_state):
    assert main(["review", "reject", f"submissions/{YEAR}/inspektorat/lain.pdf", "30", "--by", "Rina"]) == 2
    assert "no submission" in capsys.readouterr().err


# Through Prefect: the review deployment, for reviewers who work in the Prefect UI ----------------------------------

@pytest.fixture
def reviewed_in_prefect(environment, prefect_harness) -> StateStore:
    """The deployment's settings, with the audit report read and its indicator 30 waiting for review."""
    return record_audit_report(StateStore(environment.state_url()))


def work_list(year: int = YEAR) -> list[dict]:
    artifact = Artifact.get(WORK_LIST_ARTIFACT_KEY.format(year=year))
    assert artifact.type == "table"
    return json.loads(artifact.data)


def test_the_review_flow_publishes_the_work_list_and_records_a_verdict(reviewed_in_prefect):
    assert review(year=YEAR) == {"year": YEAR, "action": "list", "pending": 1}
    [row] = work_list()
    assert (row["kunci"], row["indikator"], row["halaman"], row["kutipan"]) == (KEY, 30, 3, "audit aplikasi")

    result = review(action=ReviewAction.ACCEPT, key=KEY, indicator=30, reviewer="Rina", note="audit aplikasi", year=YEAR)
    assert result["pending"] == 0 and work_list() == []
    assert reviewed_in_prefect.verdicts("spbe-2024")[AUDIT][30].reviewer == "Rina"


def test_a_verdict_the_review_flow_cannot_keep_fails_the_run_with_the_reason(reviewed_in_prefect):
    with pytest.raises(ReportsError, match="the reviewer's name"):
        review(action=ReviewAction.REJECT, key=KEY, indicator=30, reviewer="", year=YEAR)
    with pytest.raises(ReportsError, match="action is list, which records nothing"):
        review(key=KEY, indicator=30, reviewer="Rina")  # the action left at its default
    assert reviewed_in_prefect.verdicts("spbe-2024") == {}


def test_the_review_flow_takes_a_verdict_back_and_lists_the_submissions_year(reviewed_in_prefect):
    last_year = f"submissions/{YEAR - 1}/inspektorat/audit.pdf"
    reviewed_in_prefect.record_submission(
        key=last_year, year=YEAR - 1, skpd="inspektorat", filename="audit.pdf", etag="e0", size=10, sha256="c" * 64,
        status="ok", message="", detail="", fingerprint="f1", run_id="run-0",
        matches=[{"indicator": 29, "score": 0.42, "decision": "review", "page": 1, "passage": "audit server"}],
    )  # fmt: skip
    assert review(action="reject", key=last_year, indicator=29, reviewer="Rina")["year"] == YEAR - 1
    assert review(action="undo", key=last_year, indicator=29) == {"year": YEAR - 1, "action": "undo", "pending": 1}
    assert [row["kunci"] for row in work_list(YEAR - 1)] == [last_year]
