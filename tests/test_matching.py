"""Matching machinery: chunks cite pages, thresholds decide, the fingerprint notices every change."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from catalog import load_framework
from extractors.document import Block, BlockKind, Document, Page, Status, TextSource
from matching.chunking import Chunk, ChunkingPolicy, chunk_document, joined_text
from matching.embedder import resolve_model
from matching.engine import Matcher
from matching.matcher import Decision, EvidenceRule, Ground, Ruling, Thresholds, code_digest, matching_fingerprint
from matching.profiles import IndicatorKind, ProfileError, load_profiles
from matching.text import terms
from settings import Settings


def document(*pages: str) -> Document:
    return Document(
        status=Status.OK,
        kind="pdf",
        pages=[
            Page(number, [Block(BlockKind.PARAGRAPH, text)] if text else [], TextSource.TEXT_LAYER)
            for number, text in enumerate(pages, start=1)
        ],
    )


def words(count: int, prefix: str = "kata") -> str:
    return " ".join(f"{prefix}{i}" for i in range(count))


def test_chunks_never_cross_a_page():
    chunks = chunk_document(document(words(10, "a"), words(10, "b")), ChunkingPolicy(8, 2, 100))
    assert [chunk.page for chunk in chunks] == [1, 1, 2, 2]
    assert all(chunk.text.startswith("a") for chunk in chunks if chunk.page == 1)


def test_consecutive_chunks_overlap():
    first, second = chunk_document(document(words(14)), ChunkingPolicy(8, 2, 100))
    assert first.text.split()[-2:] == second.text.split()[:2]


def test_the_chunks_give_back_each_word_of_the_document_once():
    policy = ChunkingPolicy(8, 2, 100)
    pages = (words(20, "a"), words(5, "b"))
    assert joined_text(chunk_document(document(*pages), policy), policy) == " ".join(pages)


def test_blank_pages_give_no_chunks_but_keep_page_numbers():
    chunks = chunk_document(document("", "isi halaman dua"), ChunkingPolicy(8, 2, 100))
    assert chunks == [Chunk(page=2, text="isi halaman dua")]


def test_chunking_stops_at_the_maximum_from_the_start():
    chunks = chunk_document(document(words(100)), ChunkingPolicy(10, 0, 3))
    assert len(chunks) == 3 and chunks[0].text.startswith("kata0 ")


def test_overlap_must_be_smaller_than_the_chunk():
    with pytest.raises(ValueError):
        ChunkingPolicy(words=5, overlap_words=5, max_chunks=10)


@pytest.mark.parametrize(
    ("score", "decision"),
    [(0.9, Decision.SUPPORTS), (0.6, Decision.SUPPORTS), (0.59, Decision.REVIEW), (0.4, Decision.REVIEW), (0.39, Decision.NONE)],
)
def test_thresholds_decide_supports_review_or_none(score, decision):
    thresholds = Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.1)
    assert thresholds.decide(score).decision == decision


def test_a_supports_says_its_ground_and_its_score_comes_first():
    thresholds = Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.1)
    # its score would do
    assert thresholds.decide(0.7, pointed_to=Ground.FORM, announced=Ground.ANNOUNCED).ground is Ground.SCORE
    assert thresholds.decide(0.35, pointed_to=Ground.FORM).ground is Ground.FORM
    assert thresholds.decide(0.35, pointed_to=Ground.POLICY_SUBJECT).ground is Ground.POLICY_SUBJECT
    assert thresholds.decide(0.15, pointed_to=Ground.FORM, announced=Ground.ANNOUNCED).ground is Ground.ANNOUNCED
    assert thresholds.decide(0.05, funded=True).ground is Ground.FUNDED
    assert thresholds.decide(0.5).ground is None  # a review has no ground


def test_a_rule_on_the_kind_of_evidence_caps_a_decision_at_review_and_is_named_where_it_alone_holds_it_back():
    thresholds = Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.1)
    policy = EvidenceRule.ENACTED_POLICY
    assert thresholds.decide(0.95, policy) == Ruling(Decision.REVIEW, unmet_rule=policy)
    assert thresholds.decide(0.5, policy) == Ruling(Decision.REVIEW)  # its score alone keeps it at review
    assert thresholds.decide(0.3, policy) == Ruling(Decision.NONE)


def test_review_threshold_cannot_exceed_supports():
    with pytest.raises(ValueError):
        Thresholds(supports=0.4, review=0.6, best_supports=0.3, announced_supports=0.1)


def test_an_indicator_the_form_points_to_needs_only_the_lower_threshold():
    thresholds = Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.1)
    assert thresholds.decide(0.35, pointed_to=Ground.FORM) == Ruling(Decision.SUPPORTS, ground=Ground.FORM)
    assert thresholds.decide(0.35) == Ruling(Decision.NONE)
    # held back by a rule, it is still for review from its lower threshold, not dropped below the review one
    service = EvidenceRule.ELECTRONIC_SERVICE
    assert thresholds.decide(0.35, service, pointed_to=Ground.FORM) == Ruling(Decision.REVIEW, unmet_rule=service)


def test_the_lower_threshold_cannot_exceed_supports():
    with pytest.raises(ValueError):
        Thresholds(supports=0.5, review=0.3, best_supports=0.6, announced_supports=0.1)


def test_a_topic_the_document_announces_needs_only_the_lowest_threshold():
    thresholds = Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.1)
    supports = Ruling(Decision.SUPPORTS, ground=Ground.ANNOUNCED)
    assert thresholds.decide(0.15, pointed_to=Ground.FORM, announced=Ground.ANNOUNCED) == supports
    assert thresholds.decide(0.05, pointed_to=Ground.FORM, announced=Ground.ANNOUNCED) == Ruling(Decision.NONE)
    with pytest.raises(ValueError):
        Thresholds(supports=0.6, review=0.4, best_supports=0.3, announced_supports=0.35)


def test_fingerprint_changes_with_thresholds_model_and_profiles():
    framework = load_framework(Settings(_env_file=None).framework_file)
    profiles = load_profiles(Settings(_env_file=None).profiles_file, framework)
    policy, thresholds = ChunkingPolicy(100, 20, 50), Thresholds(0.6, 0.4, 0.3, 0.0)
    base = matching_fingerprint("model-a", profiles, thresholds, policy, 5)
    assert base == matching_fingerprint("model-a", profiles, thresholds, policy, 5)
    assert base != matching_fingerprint("model-b", profiles, thresholds, policy, 5)
    assert base != matching_fingerprint("model-a", profiles, Thresholds(0.7, 0.4, 0.3, 0.0), policy, 5)
    assert base != matching_fingerprint("model-a", profiles, Thresholds(0.6, 0.4, 0.2, 0.0), policy, 5)
    assert base != matching_fingerprint("model-a", profiles, Thresholds(0.6, 0.4, 0.3, 0.1), policy, 5)
    edited = dataclasses.replace(profiles, profiles=(dataclasses.replace(profiles.profiles[0], terms=("baru",)), *profiles.profiles[1:]))
    assert base != matching_fingerprint("model-a", edited, thresholds, policy, 5)
    reweighted = dataclasses.replace(profiles, weights={**profiles.weights, "bias": -9.0})
    assert base != matching_fingerprint("model-a", reweighted, thresholds, policy, 5)
    assert base != matching_fingerprint("model-a", profiles, thresholds, policy, 5, rules="a later release's rules")
    fewer_generic = dataclasses.replace(profiles, generic_words=profiles.generic_words - {"layanan"})
    assert base != matching_fingerprint("model-a", fewer_generic, thresholds, policy, 5)


def test_the_words_every_indicator_has_are_the_frameworks_data_not_code():
    """The next framework ('Indeks Pemerintah Digital') names its own: a new profile file, no new code."""
    framework = load_framework(Settings(_env_file=None).framework_file)
    generic = load_profiles(Settings(_env_file=None).profiles_file, framework).generic_words
    assert {"spbe", "kebijakan", "internal", "tingkat", "kematangan"} <= generic
    assert terms("Kebijakan Internal SPBE tentang audit", generic) == ["audit"]


def test_a_release_that_changes_the_matching_code_changes_its_digest(tmp_path):
    """So an upgraded deployment rematches its stored documents without anyone bumping a version by hand."""
    (tmp_path / "structure.py").write_text("POLICY_WORDS = 30\n")
    before = code_digest(tmp_path)
    (tmp_path / "structure.py").write_text("POLICY_WORDS = 40\n")
    code_digest.cache_clear()
    assert code_digest(tmp_path) != before


def test_every_indicator_has_a_profile_with_kind_topic_and_terms():
    framework = load_framework(Settings(_env_file=None).framework_file)
    profiles = load_profiles(Settings(_env_file=None).profiles_file, framework).profiles
    assert [p.indicator for p in profiles] == list(range(1, 48))
    assert profiles[0].texts[0] == framework.indicator(1).name
    assert {p.kind for p in profiles if p.indicator <= 10} == {IndicatorKind.POLICY}
    assert "srikandi" in profiles[36].terms and "lpse" in profiles[34].terms
    # the Kebijakan Internal indicator a practice carries out: its topic's (Manajemen Data), or the one named (Audit TIK)
    assert [profiles[number - 1].policy_indicator for number in (23, 31, 13, 3)] == [3, 9, None, None]


def test_a_profile_file_for_another_framework_is_refused(tmp_path):
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    (tmp_path / "other.json").write_text(json.dumps({**data, "framework": "ipd-2025"}))
    with pytest.raises(ProfileError, match="ipd-2025"):
        load_profiles(tmp_path / "other.json", framework)
    (tmp_path / "short.json").write_text(json.dumps({**data, "indicators": data["indicators"][:-1]}))
    with pytest.raises(ProfileError, match=r"missing for \[47\]"):
        load_profiles(tmp_path / "short.json", framework)


def test_a_practice_must_name_a_policy_indicator_as_its_policy(tmp_path):
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    data["indicators"][30]["policy"] = 29  # indicator 31 named a practice indicator as its policy
    (tmp_path / "policy.json").write_text(json.dumps(data))
    with pytest.raises(ProfileError, match="indicator 31: its policy 29 is not a policy indicator"):
        load_profiles(tmp_path / "policy.json", framework)


def test_a_topic_that_needs_an_spbe_context_needs_the_words_that_give_it(tmp_path):
    """Without them every document would lack the context, and the topic's indicators could never be supports."""
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    (tmp_path / "context.json").write_text(json.dumps({**data, "spbe_context": {}}))
    with pytest.raises(ProfileError, match="need an SPBE context, but spbe_context names no terms"):
        load_profiles(tmp_path / "context.json", framework)


def test_a_decree_marker_must_be_a_policy_heading(tmp_path):
    """A decree marker that heads no policy would silently never apply; the operator is told instead."""
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    (tmp_path / "decree.json").write_text(json.dumps({**data, "decree_markers": ["keputusan", "sk"]}))
    with pytest.raises(ProfileError, match=r"decree_markers \['sk'\]"):
        load_profiles(tmp_path / "decree.json", framework)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda data: data["policy_scopes"][0]["indicators"].append(48), r"policy_scopes name indicators \[48\]"),
        (lambda data: data["policy_scopes"][1].pop("subjects"), "'Manajemen SPBE': 'subjects' must be a list"),
        (lambda data: data["policy_scopes"][1].update(subjects="manajemen spbe"), "'subjects' must be a list"),
        (lambda data: data["policy_scopes"][1].update(indicators=["21"]), "'indicators' must be a list of indicator"),
        (lambda data: data["policy_scopes"][1].update(subjects=[" "]), "every subject must have words"),
        (lambda data: data["policy_scopes"][1]["indicators"].append(22), r"practice indicators \[22\] whose policy"),
        (lambda data: data.update(policy_general_subjects=["spbe"]), "now the 'SPBE' entry of policy_scopes"),
    ],
)
def test_an_operators_mistake_in_the_policy_scopes_is_named(tmp_path, edit, message):
    """A scope that could never match, or that names an indicator whose evidence is another's, fails loudly."""
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    edit(data)
    (tmp_path / "scope.json").write_text(json.dumps(data))
    with pytest.raises(ProfileError, match=message):
        load_profiles(tmp_path / "scope.json", framework)


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ({"practice_document": {"parts": [["use case"], ["erd"]], "at_least": 3}}, "'at_least', a whole number from 1"),
        ({"practice_document": {"parts": [["use case"]], "at_least": "1"}}, "'at_least', a whole number from 1"),
        ({"practice_document": {"at_least": 1}}, "needs 'parts'"),
        ({"practice_document": {"parts": ["use case"], "at_least": 1}}, "each part of practice_document must be a list"),
        ({"practice_document": {"parts": [["use case", " "]], "at_least": 1}}, "must be a list of phrases, each with"),
        ({"activity_terms": "aplikasi generik"}, "activity_terms must be a list of phrases"),  # not its letters
    ],
)
def test_a_topics_phrases_that_would_match_everything_or_nothing_are_named(tmp_path, topic, message):
    framework = load_framework(Settings(_env_file=None).framework_file)
    data = json.loads(Settings(_env_file=None).profiles_file.read_text())
    data["topics"]["pembangunan_aplikasi"].update(topic)
    (tmp_path / "phrases.json").write_text(json.dumps(data))
    with pytest.raises(ProfileError, match=f"topic 'pembangunan_aplikasi': .*{message}"):
        load_profiles(tmp_path / "phrases.json", framework)


def test_the_default_model_resolves_to_its_offline_package(tmp_path):
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2").endswith("model")
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    assert resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_a_model_prompt_goes_before_every_text_and_is_part_of_the_models_key():
    """An E5-family model reads 'query: ' before each text, as its card asks; the key that stored embeddings and
    matches are kept under changes with it, so vectors made without it are not reused."""
    framework = load_framework(Settings(_env_file=None).framework_file)
    plain = Matcher(Settings(_env_file=None), framework)
    prompted = Matcher(Settings(_env_file=None, model_prompt="query: "), framework)
    text = "Peraturan Wali Kota tentang Sistem Pemerintahan Berbasis Elektronik"
    assert np.allclose(prompted.embedder.encode([text]), plain.embedder.encode(["query: " + text]), atol=1e-5)
    assert not np.allclose(prompted.embedder.encode([text]), plain.embedder.encode([text]), atol=1e-3)
    assert prompted.model_key != plain.model_key == plain.model_name
    assert prompted.fingerprint != plain.fingerprint


def test_a_quoted_model_prompt_keeps_its_space_in_the_env_file(tmp_path):
    (tmp_path / ".env").write_text('SPBE_MODEL_PROMPT="query: "\n')
    assert Settings(_env_file=tmp_path / ".env").model_prompt == "query: "


def test_matcher_gives_top_k_best_first_with_page_and_passage():
    matcher = Matcher(Settings(_env_file=None), load_framework(Settings(_env_file=None).framework_file), top_k=3)
    doc = document("Undangan rapat.", "Laporan hasil audit infrastruktur SPBE: pusat data dan jaringan intra.")
    matches = matcher.match(*matcher.embed(doc))
    assert len(matches) == 3
    assert matches[0].score >= matches[1].score >= matches[2].score
    assert all(match.page in (1, 2) and match.passage for match in matches)
    assert matches[0].page == 2


def test_an_empty_document_has_no_matches():
    matcher = Matcher(Settings(_env_file=None), load_framework(Settings(_env_file=None).framework_file))
    chunks, vectors = matcher.embed(document(""))
    assert chunks == [] and vectors.shape[0] == 0
    assert matcher.match(chunks, vectors) == []
    assert isinstance(vectors, np.ndarray)
