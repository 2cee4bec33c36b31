"""Completeness: what an SKPD's report says for each indicator it is responsible for."""
from __future__ import annotations

from matching.matcher import EvidenceRule, Ground
from reports.completeness import EvidenceState, assess
from reports.html import coverage_table, local_timestamp, render_skpd_html
from reports.views import GROUND_LABELS, UNMET_RULE_LABELS, skpd_report
from storage.state import MatchRow, Submission

YEAR = 2026


def submission(skpd: str, filename: str, *matches: tuple[int, float, str], status: str = "ok", message: str = "") -> Submission:
    return Submission(
        key=f"submissions/{YEAR}/{skpd}/{filename}", year=YEAR, skpd=skpd, filename=filename,
        status=status, message=message,
        matches=[
            MatchRow(rank=rank, indicator=number, score=score, decision=decision, page=1, passage=f"bukti {number}")
            for rank, (number, score, decision) in enumerate(matches, start=1)
        ],
    )  # fmt: skip


def skpd_view(city, code):
    return next(view for view in city.skpd if view.skpd.code == code)


def one_match_report(catalog, skpd: str, match: MatchRow):
    """The report of an SKPD that uploaded one document with one stored match."""
    framework, registry = catalog
    upload = submission(skpd, "dokumen.pdf")
    upload.matches = [match]
    return skpd_report(skpd_view(assess(framework, registry, [upload], YEAR), skpd), YEAR, framework, registry, dates={})


def test_supports_makes_an_indicator_present_review_makes_it_under_review(catalog):
    city = assess(*catalog, [submission("inspektorat", "audit.pdf", (29, 0.9, "supports"), (30, 0.5, "review"))], YEAR)
    states = {item.indicator.number: item.state for item in city.coverage}
    assert states[29] is EvidenceState.PRESENT
    assert states[30] is EvidenceState.REVIEW
    assert states[31] is EvidenceState.MISSING


def test_an_skpd_sees_only_its_own_indicators_missing_first(catalog):
    framework, registry = catalog
    city = assess(framework, registry, [submission("inspektorat", "audit.pdf", (29, 0.9, "supports"))], YEAR)
    view = skpd_view(city, "inspektorat")
    assert {item.indicator.number for item in view.indicators} == set(registry.find("inspektorat").indicators)
    order = [item.state for item in view.indicators]
    assert order == sorted(order, key=[EvidenceState.MISSING, EvidenceState.REVIEW, EvidenceState.PRESENT].index)


def test_evidence_from_another_skpd_counts_and_is_marked(catalog):
    framework, registry = catalog
    owner = registry.responsible_for(36)[0].code
    city = assess(framework, registry, [submission("diskominfotik", "simpeg.docx", (36, 0.9, "supports"))], YEAR)
    item = next(i for i in skpd_view(city, owner).indicators if i.indicator.number == 36)
    assert item.state is EvidenceState.PRESENT
    assert item.from_other_skpd(owner)


def test_unreadable_and_unmatched_uploads_are_listed_for_their_skpd(catalog):
    uploads = [
        submission("dishub", "rusak.pdf", status="corrupt", message="Berkas PDF ini rusak"),
        submission("dishub", "festival.docx", (27, 0.3, "none")),
    ]
    view = skpd_view(assess(*catalog, uploads, YEAR), "dishub")
    assert [u.filename for u in view.unreadable] == ["rusak.pdf"]
    assert [u.filename for u in view.unmatched] == ["festival.docx"]
    assert view.uploads == 2


def test_an_indicator_subset_limits_the_assessment(catalog):
    city = assess(*catalog, [], YEAR, indicators={1, 2})
    assert [item.indicator.number for item in city.coverage] == [1, 2]


def test_the_report_is_in_bahasa_indonesia_with_passage_and_accepted_evidence(catalog):
    framework, registry = catalog
    uploads = [submission("inspektorat", "audit.pdf", (29, 0.9, "supports")),
               submission("inspektorat", "rusak.pdf", status="corrupt", message="Berkas PDF ini rusak")]
    city = assess(framework, registry, uploads, YEAR)
    report = skpd_report(skpd_view(city, "inspektorat"), YEAR, framework, registry, dates={})
    html = render_skpd_html(report, local_timestamp("Asia/Makassar"))
    assert "Kelengkapan Data Dukung Evaluasi SPBE 2026" in html
    assert "audit.pdf" in html and "bukti 29" in html and "halaman 1" in html
    assert "Berkas yang tidak dapat dibaca" in html and "Berkas PDF ini rusak" in html
    assert "Bukti yang dapat diterima" in html  # what to upload for what is missing
    assert "WITA" in html


def test_a_review_held_back_by_the_kind_of_evidence_says_which_kind_would_count(catalog):
    owner = catalog[1].responsible_for(10)[0].code  # Kebijakan Internal Tim Koordinasi SPBE
    minutes = MatchRow(rank=1, indicator=10, score=0.9, decision="review", page=2, passage="notulen rapat",
                       unmet_rule="enacted_policy")
    html = render_skpd_html(one_match_report(catalog, owner, minutes), local_timestamp("Asia/Makassar"))
    assert ("perlu ditinjau (indikator Kebijakan Internal memerlukan peraturan, keputusan, atau surat edaran yang "
            "sudah ditetapkan)") in html


def test_a_supports_under_the_usual_bar_says_what_in_the_document_earned_it(catalog):
    owner = catalog[1].responsible_for(37)[0].code  # Layanan Naskah Dinas: an SOP titled after SRIKANDI
    sop = MatchRow(rank=1, indicator=37, score=0.12, decision="supports", page=1, passage="SOP SRIKANDI",
                   ground="announced")
    html = render_skpd_html(one_match_report(catalog, owner, sop), local_timestamp("Asia/Makassar"))
    assert "mendukung (karena judul atau perihal dokumen menyebut topik indikator ini)" in html


def test_a_supports_by_its_score_needs_no_reason(catalog):
    audit = MatchRow(rank=1, indicator=29, score=0.9, decision="supports", page=1, passage="audit", ground="score")
    row = next(row for row in one_match_report(catalog, "inspektorat", audit).indicators if row.number == 29)
    assert [evidence.verdict for evidence in row.evidence] == ["mendukung"]


def test_a_decision_or_rule_from_a_newer_release_is_read_as_review_not_a_failed_report(catalog):
    framework, registry = catalog
    owner = registry.responsible_for(29)[0].code
    later = submission(owner, "audit.pdf")
    later.matches = [MatchRow(rank=1, indicator=29, score=0.9, decision="supports_strongly", page=1, passage="audit",
                              unmet_rule="a_rule_of_2027", ground="a_ground_of_2027")]
    city = assess(framework, registry, [later], YEAR)
    evidence = next(item for item in city.coverage if item.indicator.number == 29).evidence
    assert [(item.decision, item.unmet_rule, item.ground) for item in evidence] == [("review", None, None)]


def test_every_evidence_rule_has_a_reason_in_bahasa_indonesia():
    assert set(UNMET_RULE_LABELS) == set(EvidenceRule)


def test_every_ground_but_the_score_has_a_reason_in_bahasa_indonesia():
    assert set(GROUND_LABELS) == set(Ground) - {Ground.SCORE}


def test_the_coverage_table_totals_the_city(catalog):
    city = assess(*catalog, [submission("inspektorat", "audit.pdf", (29, 0.9, "supports")),
                             submission("dinas-baru", "sop.pdf")], YEAR)  # a folder of no registered SKPD counts too
    *table, legend = coverage_table(city).splitlines()
    total = table[-1].split()
    assert total[:3] == ["KOTA", "(semua", "indikator)"]
    assert total[3:7] == ["1", "0", "46", "2"]
    assert "berkas SKPD lain" in legend  # an SKPD with 0 files of its own may still show evidence
