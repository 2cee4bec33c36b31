"""The state store: what was submitted, read, embedded and matched, and every run — through SQLAlchemy.

SQLite by default, any SQLAlchemy URL (PostgreSQL) in production. Per-document state here is the
source of truth that makes a second run cheap: same content, no second extraction or embedding.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    delete,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

EMBEDDING_DTYPE = np.float32


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class Submission(Base):
    """One uploaded object under submissions/{year}/{skpd}/, as last seen in the bucket."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    skpd: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(512))
    etag: Mapped[str] = mapped_column(String(128), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    match_fingerprint: Mapped[str | None] = mapped_column(String(32))
    removed: Mapped[bool] = mapped_column(default=False)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    last_run_id: Mapped[str | None] = mapped_column(String(40))

    matches: Mapped[list[MatchRow]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="MatchRow.rank", lazy="selectin"
    )


class Extraction(Base):
    """The outcome of reading one content (by SHA-256); the text itself is stored in the bucket."""

    __tablename__ = "extractions"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text_key: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Embedding(Base):
    """Chunk vectors of one content under one model and chunking: reused by every rematch."""

    __tablename__ = "embeddings"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    chunking: Mapped[str] = mapped_column(String(64), primary_key=True)
    chunks: Mapped[list] = mapped_column(JSON)  # [[page, text], ...]
    dimension: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRow(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[int] = mapped_column(Integer, index=True)
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(20))
    page: Mapped[int | None]
    passage: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="matches")


class StateStore:
    """Opens the database named by a SQLAlchemy URL and creates the tables it needs."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, future=True)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed as a whole, or rolled back as a whole."""
        with self._sessions() as session, session.begin():
            yield session

    # Runs
    def start_run(self, run_id: str, year: int, parameters: dict) -> None:
        with self.session() as session:
            session.add(Run(id=run_id, year=year, parameters=parameters))

    def finish_run(self, run_id: str, status: str, counts: dict, message: str = "") -> None:
        with self.session() as session:
            run = session.get(Run, run_id)
            run.status, run.counts, run.message, run.finished_at = status, counts, message, utcnow()

    def runs(self, limit: int) -> list[Run]:
        with self.session() as session:
            return list(session.scalars(select(Run).order_by(Run.started_at.desc()).limit(limit)))

    # Submissions
    def submission(self, key: str) -> Submission | None:
        with self.session() as session:
            return session.scalar(select(Submission).where(Submission.key == key))

    def submissions(self, year: int, include_removed: bool = False) -> list[Submission]:
        """Every submission of the year with its matches loaded, for assessment and status."""
        with self.session() as session:
            query = select(Submission).where(Submission.year == year).order_by(Submission.skpd, Submission.filename)
            if not include_removed:
                query = query.where(Submission.removed.is_(False))
            return list(session.scalars(query))

    def record_submission(
        self,
        *,
        key: str,
        year: int,
        skpd: str,
        filename: str,
        etag: str,
        size: int,
        sha256: str | None,
        status: str,
        message: str,
        detail: str,
        fingerprint: str | None,
        matches: Iterable[dict],
        run_id: str,
    ) -> None:
        """Insert or update a submission and replace its matches in one transaction."""
        with self.session() as session:
            row = session.scalar(select(Submission).where(Submission.key == key))
            if row is None:
                row = Submission(key=key, year=year, skpd=skpd, filename=filename)
                session.add(row)
            row.etag, row.size, row.sha256 = etag, size, sha256
            row.status, row.message, row.detail = status, message, detail
            row.match_fingerprint, row.removed = fingerprint, False
            row.processed_at, row.last_run_id = utcnow(), run_id
            row.matches = [MatchRow(rank=rank, **match) for rank, match in enumerate(matches, start=1)]

    def mark_removed(self, year: int, present_keys: set[str], skpd: Iterable[str] | None = None) -> list[str]:
        """Submissions no longer in the bucket stop counting as evidence (their rows stay for history)."""
        with self.session() as session:
            query = select(Submission).where(Submission.year == year, Submission.removed.is_(False))
            if skpd:
                query = query.where(Submission.skpd.in_(list(skpd)))
            gone = [row for row in session.scalars(query) if row.key not in present_keys]
            for row in gone:
                row.removed = True
            return [row.key for row in gone]

    # Extractions
    def extraction(self, sha256: str) -> Extraction | None:
        with self.session() as session:
            return session.get(Extraction, sha256)

    def record_extraction(self, extraction: Extraction) -> None:
        with self.session() as session:
            session.merge(extraction)

    # Embeddings
    def embedding(self, sha256: str, model: str, chunking: str) -> tuple[list[tuple[int, str]], np.ndarray] | None:
        with self.session() as session:
            row = session.get(Embedding, (sha256, model, chunking))
            if row is None:
                return None
            vectors = np.frombuffer(row.vectors, dtype=EMBEDDING_DTYPE).reshape(-1, row.dimension)
            return [(page, text) for page, text in row.chunks], vectors

    def record_embedding(
        self, sha256: str, model: str, chunking: str, chunks: list[tuple[int, str]], vectors: np.ndarray
    ) -> None:
        with self.session() as session:
            session.execute(
                delete(Embedding).where(
                    Embedding.sha256 == sha256, Embedding.model == model, Embedding.chunking == chunking
                )
            )
            session.add(
                Embedding(
                    sha256=sha256,
                    model=model,
                    chunking=chunking,
                    chunks=[list(chunk) for chunk in chunks],
                    dimension=int(vectors.shape[1]),
                    vectors=np.ascontiguousarray(vectors, dtype=EMBEDDING_DTYPE).tobytes(),
                )
            )
