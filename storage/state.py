"""The state store: what was submitted, read, embedded and matched, and every run — through SQLAlchemy.

SQLite by default, any SQLAlchemy URL (PostgreSQL) in production. Per-document state here is the
source of truth that makes a second run cheap: same content, no second extraction or embedding.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Delete,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    Update,
    and_,
    create_engine,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, Inspector, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.schema import CreateColumn

from catalog.model import FRAMEWORK_ID_CHARS, SKPD_CODE_CHARS
from storage.objects import StoredObject

EMBEDDING_DTYPE = np.float32
MODEL_KEY_CHARS = 256  # the embeddings table's model column
MODEL_DIGEST_CHARS = 16  # of a model key cut to fit, the digest of the whole that keeps it apart from others
FILENAME_CHARS = 512  # the submissions table's filename column: the name shown in reports (the key keeps it whole)
FILENAME_TAIL_CHARS = 16  # of a name cut to fit, the end kept, so that its extension still shows
CUT_MARK = "…"
REVIEWER_CHARS = 255  # the verdicts table's reviewer column
TOOL_NAME_CHARS = 32  # a program's name: "tesseract", "LibreOffice"
SHA256_CHARS = 64  # a content's SHA-256, in hexadecimal
CHUNKING_KEY_CHARS = 64  # the embeddings table's chunking column: a chunking policy's key (matching.chunking)
RUN_ID_CHARS = 40  # a run's id: its local start time and the Prefect flow run's id cut short (flows.nightly)
SLOT_NAME_CHARS = 255  # a Prefect concurrency limit's name (SPBE_RUN_SLOT)
HOLDER_CHARS = 64  # who holds a run slot: a random id per holding
POSTGRESQL = "postgresql"  # the dialect whose INTEGER is 32-bit
VERDICT_ATTEMPTS = 2  # the second finds the row a simultaneous first insert made, and updates it


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process stopped (killed, machine down) before the run finished


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(RUN_ID_CHARS), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class SlotHolder(Base):
    """Who holds a run slot, and when it last said it was alive. Prefect's own lease on the slot may die with the
    process that kept it (an ephemeral server keeps leases in memory), leaving the slot taken for ever; a holder
    that stopped saying it is alive (a run killed outright) tells the next run that it may free the slot."""

    __tablename__ = "slot_holders"

    name: Mapped[str] = mapped_column(String(SLOT_NAME_CHARS), primary_key=True)
    holder: Mapped[str] = mapped_column(String(HOLDER_CHARS))
    alive_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One uploaded object under submissions/{year}/{skpd}/, as last seen in the bucket."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    skpd: Mapped[str] = mapped_column(String(SKPD_CODE_CHARS), index=True)
    filename: Mapped[str] = mapped_column(String(FILENAME_CHARS))
    etag: Mapped[str] = mapped_column(String(128), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # a meeting's video may pass 2 GiB
    sha256: Mapped[str | None] = mapped_column(String(SHA256_CHARS), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    match_fingerprint: Mapped[str | None] = mapped_column(String(32))
    # The program this machine lacked to read it (extractors' Document.missing_tool): read again once installed.
    missing_tool: Mapped[str | None] = mapped_column(String(TOOL_NAME_CHARS))
    removed: Mapped[bool] = mapped_column(default=False)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    last_run_id: Mapped[str | None] = mapped_column(String(RUN_ID_CHARS))

    matches: Mapped[list[MatchRow]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="MatchRow.rank", lazy="selectin"
    )


class DocumentState(StrEnum):
    PENDING = "pending"  # to do, free to claim
    CLAIMED = "claimed"  # a worker is on it until its lease expires
    DONE = "done"
    FAILED = "failed"  # raised an error; the submission's state stays as it was, the next run tries again


class RunDocument(Base):
    """One submission on a run's to-do list, and which worker has it: the list every worker of a run shares.

    A worker takes a document with a conditional UPDATE (claim_document), so two workers never hold the same
    one; a claim lapses after its lease, so a document of a worker that died is taken over.
    """

    __tablename__ = "run_documents"

    run_id: Mapped[str] = mapped_column(String(RUN_ID_CHARS), primary_key=True)
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    etag: Mapped[str] = mapped_column(String(128), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # a meeting's video may pass 2 GiB
    last_modified: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default=DocumentState.PENDING)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    lease_expires: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(20))  # new, changed, rematched, unchanged
    status: Mapped[str | None] = mapped_column(String(20))  # the document's status: ok, corrupt, ...
    extracted: Mapped[bool] = mapped_column(default=False)
    embedded_chunks: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def stored_object(self) -> StoredObject:
        """The listing entry the run found, as processing expects it."""
        return StoredObject(key=self.key, etag=self.etag, size=self.size, last_modified=self.last_modified)


class Extraction(Base):
    """The outcome of reading one content (by SHA-256); the text itself is stored in the bucket."""

    __tablename__ = "extractions"

    sha256: Mapped[str] = mapped_column(String(SHA256_CHARS), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text_key: Mapped[str | None] = mapped_column(String(1024))
    missing_tool: Mapped[str | None] = mapped_column(String(TOOL_NAME_CHARS))  # read again once it is installed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def fitted(text: str, width: int, ending: str) -> str:
    """Text whole where it fits its column's width, else its start and then ending (PostgreSQL refuses a longer
    value, and the row's document would fail every night)."""
    return text if len(text) <= width else text[: width - len(ending)] + ending


def shown_filename(filename: str) -> str:
    """A file name as the submissions table keeps it for reports, its extension still shown when cut (S3 allows keys
    of 1,024 bytes)."""
    return fitted(filename, FILENAME_CHARS, CUT_MARK + filename[-FILENAME_TAIL_CHARS:])


def stored_model(model: str) -> str:
    """A model key as the embeddings table keeps it, cut with a digest of the whole, so that a deep local model
    folder or a long prompt still keys its own embeddings."""
    return fitted(model, MODEL_KEY_CHARS, "#" + hashlib.sha256(model.encode()).hexdigest()[:MODEL_DIGEST_CHARS])


class Embedding(Base):
    """Chunk vectors of one content under one model and chunking: reused by every rematch."""

    __tablename__ = "embeddings"

    sha256: Mapped[str] = mapped_column(String(SHA256_CHARS), primary_key=True)
    model: Mapped[str] = mapped_column(String(MODEL_KEY_CHARS), primary_key=True)
    chunking: Mapped[str] = mapped_column(String(CHUNKING_KEY_CHARS), primary_key=True)
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
    unmet_rule: Mapped[str | None] = mapped_column(String(40))  # the evidence rule that holds a review back
    ground: Mapped[str | None] = mapped_column(String(20))  # why a supports is one (matching's Ground)

    submission: Mapped[Submission] = relationship(back_populates="matches")


def add_new_columns(engine: Engine) -> list[str]:
    """Add the columns a newer release gave an existing table (create_all makes missing tables only), so an
    operator's state store from the last cycle keeps working after an upgrade; the names of those added.

    Two processes may open the store at once after an upgrade: a column the other one added meanwhile is no error.
    """
    added = []
    present = inspect(engine)
    for table in Base.metadata.sorted_tables:
        missing = missing_columns(present, table)
        for column in [column for column in table.columns if column.name in missing]:
            if column.nullable is False and column.server_default is None:
                raise ValueError(f"{table.name}.{column.name}: a column added to existing rows needs NULL or a server default")
            definition = CreateColumn(column).compile(dialect=engine.dialect)
            name = engine.dialect.identifier_preparer.format_table(table)
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {name} ADD COLUMN {definition}"))
            except DBAPIError:
                if column.name in missing_columns(inspect(engine), table):  # a fresh look at the database
                    raise
                continue  # another process added it first
            added.append(f"{table.name}.{column.name}")
    return added


def widen_integer_columns(engine: Engine) -> list[str]:
    """Widen to 64 bits the integer columns a newer release made BigInteger (an upload's size, once limited to
    2 GiB), so a store from the last cycle takes a meeting's video; the names of those widened.

    SQLite's integers are 64-bit already; PostgreSQL's INTEGER is not, and keeps its type through create_all.
    """
    if engine.dialect.name != POSTGRESQL:
        return []
    widened = []
    present = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if not present.has_table(table.name):
            continue
        narrow = {column["name"] for column in present.get_columns(table.name)
                  if isinstance(column["type"], Integer) and not isinstance(column["type"], BigInteger)}
        for column in table.columns:
            if isinstance(column.type, BigInteger) and column.name in narrow:
                name = engine.dialect.identifier_preparer.format_table(table)
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {name} ALTER COLUMN {column.name} TYPE BIGINT"))
                widened.append(f"{table.name}.{column.name}")
    return widened


def missing_columns(present: Inspector, table: Table) -> set[str]:
    """The names of the model's columns of a table that the database's table lacks (none if it has no such table)."""
    if not present.has_table(table.name):
        return set()
    return {column.name for column in table.columns} - {column["name"] for column in present.get_columns(table.name)}


class DocumentDating(Base):
    """The year a content states about itself, as read by one version of the dating rules for one evaluation year
    (later years are a plan's end, not its date): its extracted text is read from the bucket once, and again only
    when it is extracted anew or the rules change."""

    __tablename__ = "document_dates"

    sha256: Mapped[str] = mapped_column(String(SHA256_CHARS), primary_key=True)
    not_after: Mapped[int] = mapped_column(Integer, primary_key=True)
    rules: Mapped[str] = mapped_column(String(16), primary_key=True)  # the version of the rules that read it
    year: Mapped[int | None]  # None: the document states no year
    phrase: Mapped[str] = mapped_column(Text, default="")  # the words the year was read from


class VerdictKind(StrEnum):
    """A reviewer's word on one document and one indicator, which stands above the matcher's decision."""

    ACCEPTED = "accepted"  # the document is evidence for the indicator, whatever the matcher decided
    REJECTED = "rejected"  # it is not, whatever the matcher decided


class Verdict(Base):
    """What a Kominfotik reviewer decided on a document's claim to an indicator, by content: it holds for every
    upload of the same file, through every rematch, until the reviewer takes it back; a changed file is a new
    document, to be reviewed anew."""

    __tablename__ = "verdicts"

    framework: Mapped[str] = mapped_column(String(FRAMEWORK_ID_CHARS), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(SHA256_CHARS), primary_key=True)
    indicator: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(REVIEWER_CHARS))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def accepted(self) -> bool:
        return self.verdict == VerdictKind.ACCEPTED


Verdicts = Mapping[str, Mapping[int, Verdict]]  # content → indicator → the reviewer's verdict


class StateStoreUnavailable(Exception):
    """The state database cannot be opened: a wrong URL, a database that does not exist, a server that does not
    answer. The message names the URL (without its password) and what to check; the cause says whether waiting may
    help (a server restarting)."""


STATE_URL_HINT = ("check SPBE_DATABASE_URL: PostgreSQL reads postgresql+psycopg://USER[:PASSWORD]@HOST:5432/NAME, and "
                  "the database must exist (createdb NAME); unset, the state is SQLite under SPBE_DATA_DIR")


def shown_url(url: str) -> str:
    """A database URL as logs and printouts may show it: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable URL)"


class StateStore:
    """Opens the database named by a SQLAlchemy URL and creates the tables it needs."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, future=True)
            Base.metadata.create_all(self.engine)
        except (ArgumentError, NoSuchModuleError, OperationalError, InterfaceError, OSError) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise StateStoreUnavailable(
                f"cannot open the state database {shown_url(url)}: {reason}; {STATE_URL_HINT}"
            ) from error
        add_new_columns(self.engine)
        widen_integer_columns(self.engine)
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

    def run(self, run_id: str) -> Run | None:
        with self.session() as session:
            return session.get(Run, run_id)

    def unfinished_runs(self) -> list[Run]:
        """Runs recorded as running, newest first: the one holding the run slot, or ones whose process died."""
        with self.session() as session:
            query = select(Run).where(Run.status == RunStatus.RUNNING).order_by(Run.started_at.desc())
            return list(session.scalars(query))

    def interrupt_unfinished_runs(self, current_run_id: str) -> list[str]:
        """Mark every other running run interrupted: called by the run holding the only run slot, so they are dead."""
        with self.session() as session:
            stale = list(
                session.scalars(select(Run).where(Run.status == RunStatus.RUNNING, Run.id != current_run_id))
            )
            for run in stale:
                run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
                run.message = f"stopped before it finished; run {current_run_id} took over its remaining documents"
            return [run.id for run in stale]

    # Who holds a run slot
    def hold_slot(self, name: str, holder: str) -> None:
        """Record `holder` as the one holding the slot `name`, alive now (the slot itself is Prefect's)."""
        with self.session() as session:
            session.merge(SlotHolder(name=name, holder=holder, alive_at=utcnow()))

    def renew_slot(self, name: str, holder: str) -> bool:
        """Say that `holder` still holds the slot and is alive; False if another holder took it meanwhile."""
        with self.session() as session:
            result = session.execute(
                update(SlotHolder).where(SlotHolder.name == name, SlotHolder.holder == holder).values(alive_at=utcnow())
            )
            return result.rowcount == 1

    def take_over_slot(self, name: str, previous: str | None, holder: str) -> bool:
        """Record `holder` in place of `previous` (None: of nobody), which stopped saying it is alive; False if
        another run did so first. Of two runs that would free a dead run's slot, only the one that took it over may."""
        with self.session() as session:
            if previous is None:
                try:
                    with session.begin_nested():
                        session.add(SlotHolder(name=name, holder=holder, alive_at=utcnow()))
                except IntegrityError:
                    return False
                return True
            result = session.execute(
                update(SlotHolder)
                .where(SlotHolder.name == name, SlotHolder.holder == previous)
                .values(holder=holder, alive_at=utcnow())
            )
            return result.rowcount == 1

    def release_slot(self, name: str, holder: str) -> None:
        with self.session() as session:
            session.execute(delete(SlotHolder).where(SlotHolder.name == name, SlotHolder.holder == holder))

    def slot_holder(self, name: str) -> SlotHolder | None:
        with self.session() as session:
            return session.get(SlotHolder, name)

    # A run's documents, shared by its workers
    def add_run_documents(
        self, run_id: str, pending: Iterable[StoredObject], done: Mapping[str, tuple[str, str]]
    ) -> None:
        """The run's to-do list: documents to process, and those it found needing nothing (key -> outcome, status)."""
        with self.session() as session:
            session.add_all(
                RunDocument(run_id=run_id, key=obj.key, etag=obj.etag, size=obj.size, last_modified=obj.last_modified)
                for obj in pending
            )
            session.add_all(
                RunDocument(run_id=run_id, key=key, state=DocumentState.DONE, outcome=outcome, status=status)
                for key, (outcome, status) in done.items()
            )

    def claim_document(self, run_id: str, worker: str, lease_seconds: float) -> RunDocument | None:
        """Give `worker` the run's next free document (or one whose claim lapsed); None when none is left.

        The conditional UPDATE is the lock: of two workers picking the same row, one changes it and the other
        changes nothing and picks again, on SQLite and PostgreSQL alike. Each miss means another worker took a
        document, so the loop ends.
        """
        while True:
            now = utcnow()
            claimable = self._claimable(run_id, worker, now)
            with self.session() as session:
                key = session.scalar(select(RunDocument.key).where(claimable).order_by(RunDocument.key).limit(1))
                if key is None:
                    return None
                taken = session.execute(
                    update(RunDocument)
                    .where(claimable, RunDocument.key == key)
                    .values(
                        state=DocumentState.CLAIMED, claimed_by=worker, attempts=RunDocument.attempts + 1,
                        lease_expires=now + timedelta(seconds=lease_seconds), updated_at=now,
                    )
                ).rowcount  # fmt: skip
            if taken == 1:
                with self.session() as session:
                    return session.get(RunDocument, (run_id, key))

    def renew_claim(self, run_id: str, key: str, worker: str, lease_seconds: float) -> bool:
        """Extend `worker`'s claim on a document it is still processing; False if the claim lapsed and was taken."""
        now = utcnow()
        return self._update_own_claim(
            run_id, key, worker, lease_expires=now + timedelta(seconds=lease_seconds), updated_at=now
        )

    def finish_document(
        self,
        run_id: str,
        key: str,
        worker: str,
        *,
        state: DocumentState,
        seconds: float,
        outcome: str | None = None,
        status: str | None = None,
        extracted: bool = False,
        embedded_chunks: int = 0,
        message: str = "",
    ) -> bool:
        """Record what became of a claimed document; False if the claim had lapsed and another worker took it."""
        return self._update_own_claim(
            run_id, key, worker, state=state, seconds=seconds, outcome=outcome, status=status, extracted=extracted,
            embedded_chunks=embedded_chunks, message=message, lease_expires=None, updated_at=utcnow(),
        )  # fmt: skip

    def _update_own_claim(self, run_id: str, key: str, worker: str, **values: object) -> bool:
        """Change a document's row only while `worker` still holds its claim; False if another worker took it."""
        with self.session() as session:
            result = session.execute(
                update(RunDocument)
                .where(
                    RunDocument.run_id == run_id, RunDocument.key == key,
                    RunDocument.claimed_by == worker, RunDocument.state == DocumentState.CLAIMED,
                )
                .values(**values)
            )  # fmt: skip
            return result.rowcount == 1

    def run_documents(self, run_id: str) -> list[RunDocument]:
        with self.session() as session:
            query = select(RunDocument).where(RunDocument.run_id == run_id).order_by(RunDocument.key)
            return list(session.scalars(query))

    def run_progress(self, run_id: str) -> Counter[str]:
        """How many of the run's documents are in each state."""
        with self.session() as session:
            rows = session.execute(
                select(RunDocument.state, func.count())
                .where(RunDocument.run_id == run_id)
                .group_by(RunDocument.state)
            )
            return Counter({state: count for state, count in rows})

    @staticmethod
    def _claimable(run_id: str, worker: str, now: datetime) -> ColumnElement[bool]:
        """Free, or claimed by a worker whose lease lapsed, or by this worker itself (a retry after an error)."""
        claim_void = or_(RunDocument.lease_expires < now, RunDocument.claimed_by == worker)
        return and_(
            RunDocument.run_id == run_id,
            or_(RunDocument.state == DocumentState.PENDING, and_(RunDocument.state == DocumentState.CLAIMED, claim_void)),
        )

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
        missing_tool: str | None = None,
    ) -> None:
        """Insert or update a submission and replace its matches in one transaction."""
        with self.session() as session:
            row = session.scalar(select(Submission).where(Submission.key == key))
            if row is None:
                row = Submission(key=key, year=year, skpd=skpd, filename=shown_filename(filename))
                session.add(row)
            row.etag, row.size, row.sha256 = etag, size, sha256
            row.status, row.message, row.detail = status, message, detail
            row.match_fingerprint, row.removed, row.missing_tool = fingerprint, False, missing_tool
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
        """Keep an extraction's outcome; a date read from an earlier extraction of the content is read again. If
        another process kept the same content's outcome at the same moment (one file uploaded by two SKPD), its row
        stands."""
        try:
            with self.session() as session:
                session.merge(extraction)
                session.execute(delete(DocumentDating).where(DocumentDating.sha256 == extraction.sha256))
        except IntegrityError:
            if self.extraction(extraction.sha256) is None:  # no race after all: a real fault, not to be hidden
                raise

    # Reviewers' verdicts
    def record_verdict(
        self,
        *,
        framework: str,
        sha256: str,
        indicator: int,
        verdict: VerdictKind,
        reviewer: str,
        note: str,
        group: Collection[int] = (),
    ) -> None:
        """Keep a reviewer's verdict; it replaces any earlier one on the same document and indicator, or on another of
        the indicator's group (whose evidence is shared: one verdict decides them all), also one another reviewer
        keeps at the same moment (the insert that loses the race is made an update)."""
        row = dict(framework=framework, sha256=sha256, indicator=indicator, verdict=verdict,
                   reviewer=fitted(reviewer, REVIEWER_CHARS, CUT_MARK), note=note)
        for attempt in range(VERDICT_ATTEMPTS):
            try:
                with self.session() as session:
                    session.execute(self._delete_verdicts(framework, sha256, set(group) - {indicator}))
                    session.merge(Verdict(**row, decided_at=utcnow()))
                return
            except IntegrityError:
                if attempt == VERDICT_ATTEMPTS - 1:
                    raise

    def remove_verdict(self, framework: str, sha256: str, indicators: Collection[int]) -> bool:
        """Take back the verdict on the document for any of these indicators (a group), so the matcher's decision
        stands again; False if there was none."""
        with self.session() as session:
            return bool(session.execute(self._delete_verdicts(framework, sha256, indicators)).rowcount)

    @staticmethod
    def _delete_verdicts(framework: str, sha256: str, indicators: Collection[int]) -> Delete:
        return delete(Verdict).where(
            Verdict.framework == framework, Verdict.sha256 == sha256, Verdict.indicator.in_(list(indicators))
        )

    def verdicts(self, framework: str) -> dict[str, dict[int, Verdict]]:
        """Every verdict under a framework, by content and indicator (a few per document at most)."""
        found: dict[str, dict[int, Verdict]] = {}
        with self.session() as session:
            for row in session.scalars(select(Verdict).where(Verdict.framework == framework)):
                found.setdefault(row.sha256, {})[row.indicator] = row
        return found

    # Embeddings
    def embedding(self, sha256: str, model: str, chunking: str) -> tuple[list[tuple[int, str]], np.ndarray] | None:
        with self.session() as session:
            row = session.get(Embedding, (sha256, stored_model(model), chunking))
            if row is None:
                return None
            vectors = np.frombuffer(row.vectors, dtype=EMBEDDING_DTYPE).reshape(-1, row.dimension)
            return [(page, text) for page, text in row.chunks], vectors

    def document_dates(self, sha256s: Iterable[str], not_after: int, rules: str) -> dict[str, tuple[int | None, str]]:
        """The (year, phrase) these rules already read for these contents and this evaluation year; absent where
        never read."""
        with self.session() as session:
            rows = session.scalars(
                select(DocumentDating).where(
                    DocumentDating.sha256.in_(set(sha256s)),
                    DocumentDating.not_after == not_after,
                    DocumentDating.rules == rules,
                )
            )
            return {row.sha256: (row.year, row.phrase) for row in rows}

    def record_document_dates(self, dates: Mapping[str, tuple[int | None, str]], not_after: int, rules: str) -> None:
        """Keep what was read; if another process kept the same at the same time, its rows stand."""
        try:
            with self.session() as session:
                for sha256, (year, phrase) in dates.items():
                    session.merge(DocumentDating(sha256=sha256, not_after=not_after, rules=rules, year=year, phrase=phrase))
        except IntegrityError:
            pass  # another process kept the same contents' dates meanwhile: theirs stand, read by the same rules

    def record_embedding(
        self, sha256: str, model: str, chunking: str, chunks: list[tuple[int, str]], vectors: np.ndarray
    ) -> None:
        """Keep a content's chunk vectors; if another process kept the same content's at the same moment, its row
        stands (the same chunks of the same model)."""
        model = stored_model(model)
        try:
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
        except IntegrityError:
            if self.embedding(sha256, model, chunking) is None:  # no race after all: a real fault, not to be hidden
                raise


# Deliveries ---------------------------------------------------------------------------------------------------
# Which report content was e-mailed to whom.
#
# "Never twice" rests on one row per (year, report, content hash) for real sends, claimed atomically before the
# message goes out: the row is inserted as 'sending' (the unique constraint lets only one process win), or a
# 'failed' row is switched to 'sending' by a conditional UPDATE. After the SMTP exchange it becomes 'sent' or
# 'failed'. A process that dies between the two leaves 'sending'; the mail may or may not have gone out, so the
# next run does not resend it (it reports it as uncertain) until an operator says so (retry_uncertain).
# Dry runs are recorded in rows of their own (dry_run true), so they never block the real send.

_Statement = TypeVar("_Statement", Select, Update)


class DeliveryStatus(StrEnum):
    SENDING = "sending"  # claimed and being sent; left behind by a crash, it means "maybe sent"
    SENT = "sent"
    FAILED = "failed"  # the server did not accept it; the next run tries again
    DRY_RUN = "dry-run"


class Delivery(Base):
    """One report content's e-mail: to whom, how it went, and under which Message-ID."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("year", "report", "content_hash", "dry_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    report: Mapped[str] = mapped_column(String(SKPD_CODE_CHARS))  # an SKPD code, or the city summary's name
    content_hash: Mapped[str] = mapped_column(String(SHA256_CHARS))
    dry_run: Mapped[bool] = mapped_column(default=False)
    run_id: Mapped[str] = mapped_column(String(RUN_ID_CHARS))  # the run that published the report
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # SMTP tries, over all runs
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    message_id: Mapped[str] = mapped_column(String(255), default="")  # kept across retries of the same content
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryLog:
    """The deliveries table of a state store."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def find(self, year: int, report: str, content_hash: str, dry_run: bool = False) -> Delivery | None:
        with self._state.session() as session:
            return session.scalar(self._where(select(Delivery), year, report, content_hash, dry_run))

    def deliveries(self, year: int) -> list[Delivery]:
        """Every delivery of the year, newest first."""
        with self._state.session() as session:
            query = select(Delivery).where(Delivery.year == year).order_by(Delivery.updated_at.desc(), Delivery.id.desc())
            return list(session.scalars(query))

    def claim(
        self,
        *,
        year: int,
        report: str,
        content_hash: str,
        run_id: str,
        recipients: list[str],
        message_id: str,
        retry_uncertain: bool = False,
    ) -> Delivery | None:
        """Mark this content 'sending' if it is this process's to send; None if it was sent or may have been."""
        try:
            with self._state.session() as session:
                session.add(
                    Delivery(
                        year=year, report=report, content_hash=content_hash, dry_run=False, run_id=run_id,
                        status=DeliveryStatus.SENDING, recipients=recipients, message_id=message_id,
                    )
                )  # fmt: skip
            return self.find(year, report, content_hash)
        except IntegrityError:
            pass  # tried before: claim it only if that try failed
        with self._state.session() as session:
            result = session.execute(
                self._where(update(Delivery), year, report, content_hash, dry_run=False)
                .where(Delivery.status.in_(self._claimable(retry_uncertain)))
                .values(status=DeliveryStatus.SENDING, run_id=run_id, recipients=recipients, updated_at=utcnow())
            )
            if result.rowcount != 1:
                return None
        return self.find(year, report, content_hash)

    @classmethod
    def due(cls, previous: Delivery | None, retry_uncertain: bool = False) -> bool:
        """Whether a content with this earlier delivery (find()) may be claimed now: never tried, or its try failed.
        A report already sent then costs no reading of its files; claim() still decides between two processes."""
        return previous is None or previous.status in cls._claimable(retry_uncertain)

    @staticmethod
    def _claimable(retry_uncertain: bool) -> list[DeliveryStatus]:
        """A failed try may be claimed again; an interrupted one only when the operator says so."""
        return [DeliveryStatus.FAILED] + ([DeliveryStatus.SENDING] if retry_uncertain else [])

    def finish(self, delivery_id: int, status: DeliveryStatus, attempts: int, error: str = "") -> None:
        """What the SMTP exchange came to; `attempts` adds to the tries of earlier runs."""
        with self._state.session() as session:
            row = session.get(Delivery, delivery_id)
            row.status, row.error, row.updated_at = status, error, utcnow()
            row.attempts += attempts

    def record_dry_run(
        self, *, year: int, report: str, content_hash: str, run_id: str, recipients: list[str], message_id: str
    ) -> None:
        with self._state.session() as session:
            row = session.scalar(self._where(select(Delivery), year, report, content_hash, dry_run=True))
            if row is None:
                row = Delivery(year=year, report=report, content_hash=content_hash, dry_run=True, attempts=0)
                session.add(row)
            row.status, row.run_id, row.recipients = DeliveryStatus.DRY_RUN, run_id, recipients
            row.message_id, row.attempts, row.updated_at = message_id, row.attempts + 1, utcnow()

    @staticmethod
    def _where(statement: _Statement, year: int, report: str, content_hash: str, dry_run: bool) -> _Statement:
        return statement.where(
            Delivery.year == year,
            Delivery.report == report,
            Delivery.content_hash == content_hash,
            Delivery.dry_run.is_(dry_run),
        )
