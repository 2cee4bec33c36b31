"""The state store on SQLite (the default) and on PostgreSQL (production), with the same behaviour."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import event, text

from databases import state_url, throwaway_database
from storage.state import Extraction, StateStore, add_new_columns, widen_integer_columns

@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throw-away database on the machine's PostgreSQL (trust auth on loopback)."""
    with throwaway_database() as name:
        yield state_url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state(request, tmp_path) -> StateStore:
    if request.param == "sqlite":
        return StateStore(f"sqlite:///{tmp_path / 'deep' / 'state.db'}")
    return StateStore(request.getfixturevalue("postgres_url"))


def record(state: StateStore, key: str, **changes) -> None:
    fields = dict(
        key=key, year=2026, skpd="bappeda", filename=key.rsplit("/", 1)[-1], etag="e1", size=10,
        sha256="a" * 64, status="ok", message="", detail="", fingerprint="f1", run_id="run-1",
        matches=[{"indicator": 12, "score": 0.8, "decision": "supports", "page": 2, "passage": "peta rencana"}],
    )  # fmt: skip
    state.record_submission(**{**fields, **changes})


def test_a_submission_is_recorded_with_its_matches(state):
    record(state, "submissions/2026/bappeda/peta.pdf")
    row = state.submission("submissions/2026/bappeda/peta.pdf")
    assert (row.skpd, row.etag, row.status) == ("bappeda", "e1", "ok")
    assert [(m.indicator, m.decision, m.page) for m in row.matches] == [(12, "supports", 2)]


def test_a_match_held_at_review_by_an_evidence_rule_keeps_the_rule(state):
    held = {"indicator": 10, "score": 0.9, "decision": "review", "page": 1, "passage": "notulen rapat tim",
            "unmet_rule": "enacted_policy"}  # minutes of the team: its Kebijakan Internal needs an enacted decree
    record(state, "submissions/2026/bappeda/notulen.pdf", matches=[held])
    assert [m.unmet_rule for m in state.submission("submissions/2026/bappeda/notulen.pdf").matches] == ["enacted_policy"]


def test_a_supports_keeps_its_ground(state):
    announced = {"indicator": 16, "score": 0.13, "decision": "supports", "page": 1, "passage": "SOP ruang server",
                 "unmet_rule": None, "ground": "announced"}  # an SOP whose title names the data centre
    record(state, "submissions/2026/diskominfotik/sop.pdf", matches=[announced])
    assert [m.ground for m in state.submission("submissions/2026/diskominfotik/sop.pdf").matches] == ["announced"]


def test_a_state_store_from_an_older_release_gains_the_new_columns_and_keeps_its_rows(state):
    record(state, "submissions/2026/bappeda/peta.pdf")
    with state.engine.begin() as connection:  # as older releases made it: no evidence rule, no ground
        connection.execute(text("ALTER TABLE matches DROP COLUMN unmet_rule"))
        connection.execute(text("ALTER TABLE matches DROP COLUMN ground"))
    upgraded = StateStore(state.engine.url.render_as_string(hide_password=False))
    [match] = upgraded.submission("submissions/2026/bappeda/peta.pdf").matches
    assert (match.indicator, match.decision, match.unmet_rule, match.ground) == (12, "supports", None, None)
    assert add_new_columns(upgraded.engine) == []  # once is enough


def test_an_upload_over_2_gib_is_recorded(state):
    """A meeting's video is a real upload; its size must not stop the run for the whole city."""
    record(state, "submissions/2026/bappeda/rapat.mp4", size=5 * 2**30)
    assert state.submission("submissions/2026/bappeda/rapat.mp4").size == 5 * 2**30


@pytest.mark.postgres
def test_a_postgresql_store_from_an_older_release_takes_sizes_over_2_gib(postgres_url):
    older = StateStore(postgres_url)
    with older.engine.begin() as connection:  # as releases before 64-bit sizes made it
        for table in ("submissions", "run_documents"):
            connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN size TYPE INTEGER"))
    upgraded = StateStore(postgres_url)
    record(upgraded, "submissions/2026/bappeda/rapat.mp4", size=5 * 2**30)
    assert upgraded.submission("submissions/2026/bappeda/rapat.mp4").size == 5 * 2**30
    assert widen_integer_columns(upgraded.engine) == []  # once is enough


def test_recording_again_replaces_the_matches(state):
    record(state, "submissions/2026/bappeda/peta.pdf")
    record(state, "submissions/2026/bappeda/peta.pdf", etag="e2", matches=[])
    [row] = state.submissions(2026)
    assert row.etag == "e2" and row.matches == []


def test_a_file_name_longer_than_its_column_is_kept_with_its_start_and_extension(state):
    """S3 allows 1,024-byte keys; the report shows the name cut, the key keeps it whole, the upload is not refused."""
    name = "Laporan " + "hasil evaluasi SPBE " * 40 + "2026.pdf"
    key = f"submissions/2026/bappeda/{name}"
    record(state, key, filename=name)
    shown = state.submission(key).filename
    assert len(shown) == 512 and shown.startswith("Laporan hasil") and shown.endswith("SPBE 2026.pdf")
    assert state.submission(key).key == key


def test_extractions_are_keyed_by_content(state):
    state.record_extraction(Extraction(sha256="b" * 64, status="corrupt", message="rusak", detail="x", pages=0))
    assert state.extraction("b" * 64).status == "corrupt"
    assert state.extraction("c" * 64) is None


def test_embeddings_round_trip_per_model_and_chunking(state):
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    state.record_embedding("d" * 64, "model-a", "w120", [(1, "satu"), (2, "dua")], vectors)
    chunks, loaded = state.embedding("d" * 64, "model-a", "w120")
    assert chunks == [(1, "satu"), (2, "dua")]
    np.testing.assert_array_equal(loaded, vectors)
    assert state.embedding("d" * 64, "model-b", "w120") is None


def keeps_the_same_first(state: StateStore, other: StateStore, keep) -> None:
    """Run `keep` on `state` while `other`, another process, commits the same rows just before it writes them."""
    event.listen(state._sessions, "before_flush", lambda *_: keep(other), once=True)
    keep(state)


def test_two_processes_reading_the_same_content_at_once_both_finish(state):
    """The same Perwal uploaded by two SKPD, read by two processes: the one that loses the race keeps what the
    other kept (the same content's outcome), instead of failing its document."""
    other = StateStore(state.engine.url.render_as_string(hide_password=False))
    extraction = dict(sha256="e" * 64, status="ok", message="", detail="", pages=3)
    keeps_the_same_first(state, other, lambda store: store.record_extraction(Extraction(**extraction)))
    assert state.extraction("e" * 64).pages == 3


@pytest.mark.postgres
def test_two_processes_embedding_the_same_content_at_once_both_finish(postgres_url):
    """On SQLite the first DELETE locks the database and the two serialise; PostgreSQL lets both insert."""
    state, other = StateStore(postgres_url), StateStore(postgres_url)
    vectors = np.ones((1, 3), dtype=np.float32)
    keeps_the_same_first(state, other, lambda store: store.record_embedding("e" * 64, "m", "w", [(1, "satu")], vectors))
    np.testing.assert_array_equal(state.embedding("e" * 64, "m", "w")[1], vectors)


def test_a_model_key_longer_than_its_column_keys_its_own_embeddings(state):
    """A deep local model folder with a long prompt: shortened with a digest, never refused, never mixed up."""
    folder = "/srv/models/" + "multilingual-e5-small/" * 12
    vectors = np.ones((1, 3), dtype=np.float32)
    state.record_embedding("d" * 64, f"{folder} prompt='query: '", "w120", [(1, "satu")], vectors)
    state.record_embedding("d" * 64, f"{folder} prompt='passage: '", "w120", [(1, "satu")], 2 * vectors)
    np.testing.assert_array_equal(state.embedding("d" * 64, f"{folder} prompt='query: '", "w120")[1], vectors)
    np.testing.assert_array_equal(state.embedding("d" * 64, f"{folder} prompt='passage: '", "w120")[1], 2 * vectors)


def test_runs_are_recorded_newest_first(state):
    state.start_run("run-1", 2026, {"force": False})
    state.finish_run("run-1", "completed", {"new": 3})
    state.start_run("run-2", 2026, {})
    assert [run.id for run in state.runs(limit=5)] == ["run-2", "run-1"]
    assert state.runs(limit=5)[1].counts == {"new": 3}


def test_of_two_runs_only_one_takes_over_a_run_slot_whose_holder_died(state):
    """Both would free the dead run's slot; only the one that took it over may, so that they never run together."""
    state.hold_slot("spbe-evidence-run", "killed-run")
    assert state.take_over_slot("spbe-evidence-run", "killed-run", "nightly")
    assert not state.take_over_slot("spbe-evidence-run", "killed-run", "rerun")
    assert state.slot_holder("spbe-evidence-run").holder == "nightly"
    assert not state.renew_slot("spbe-evidence-run", "killed-run")  # the dead run's word counts no more
    state.release_slot("spbe-evidence-run", "nightly")
    assert state.take_over_slot("spbe-evidence-run", None, "rerun")  # none on record: the first to say so
    assert not state.take_over_slot("spbe-evidence-run", None, "nightly")


def test_removed_submissions_drop_out_of_the_year(state):
    record(state, "submissions/2026/bappeda/a.pdf")
    record(state, "submissions/2026/bappeda/b.pdf")
    assert state.mark_removed(2026, {"submissions/2026/bappeda/a.pdf"}) == ["submissions/2026/bappeda/b.pdf"]
    assert [row.filename for row in state.submissions(2026)] == ["a.pdf"]
