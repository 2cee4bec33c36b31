"""All configuration of spbe-evidence: environment variables prefixed SPBE_ (or a .env file).

One object so an operator finds every knob in one place; defaults give the embedded
development setup (local SeaweedFS S3 on loopback, SQLite under var/, the offline model).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MEBIBYTE = 1024 * 1024
SCORE_RANGE = {"ge": 0.0, "le": 1.0}  # a fused score is a probability-like number in [0, 1]
URL_SCHEMES = ("http://", "https://")


class Settings(BaseSettings):
    """Settings read from SPBE_* environment variables, then .env, then these defaults."""

    model_config = SettingsConfigDict(env_prefix="SPBE_", env_file=".env", extra="ignore")

    # Object storage (any S3: MinIO, SeaweedFS, AWS).
    s3_endpoint: str = Field("127.0.0.1:8333", description="host:port of the S3 API, no scheme")
    s3_access_key: str = "spbe-dev"
    s3_secret_key: str = "spbe-dev-secret"
    s3_bucket: str = "spbe-evidence"
    s3_secure: bool = Field(False, description="use HTTPS to reach the S3 endpoint")
    s3_region: str | None = None

    # State store: any SQLAlchemy URL (postgresql+psycopg://... in production).
    database_url: str | None = Field(None, description="default: a SQLite file in data_dir")
    data_dir: Path = Field(Path("var"), description="local working folder: dev S3 data, report copies")

    # The evaluation framework and the city's work units, as data files.
    framework_file: Path = CATALOG_DIR / "spbe-2024.json"
    skpd_file: Path = CATALOG_DIR / "skpd-banjarmasin.json"
    profiles_file: Path = Field(CATALOG_DIR / "profiles-spbe-2024.json", description="matching profiles of the framework")
    timezone: str = "Asia/Makassar"

    # Matching.
    model: str = Field(DEFAULT_MODEL, description="sentence-transformers model name or local folder")
    model_prompt: str = Field(
        "", description="text put before every text embedded, where the model's card asks for one (\"query: \" for "
        "the E5 family, quoted to keep its space); empty: the model folder's default prompt, if it names one; stored "
        "embeddings are kept per model and prompt",
    )
    supports_threshold: float = Field(0.5, **SCORE_RANGE, description="score at or above which a document supports an indicator")
    review_threshold: float = Field(0.3, **SCORE_RANGE, description="score at or above which a match needs human review")
    best_supports_threshold: float = Field(
        0.25, **SCORE_RANGE,
        description="score at or above which a document supports an indicator its form points to: the best indicator "
        "of a document about electronic government, a Kebijakan Internal indicator its enacted policy's subject names, "
        "an indicator a chapter or part title of a policy on SPBE as a whole names",
    )
    announced_supports_threshold: float = Field(
        0.0, **SCORE_RANGE,
        description="score at or above which a document on electronic government supports the topic its title or "
        "subject announces (its best indicator, by score and by its body's terms), a practice's own work, the practice "
        "of a Kebijakan Internal topic a document that is no policy is about: 0, whatever the score; at most the one "
        "above",
    )
    top_k: int = Field(5, description="candidate indicators kept per document (every supported one is kept besides)")
    chunk_words: int = Field(90, description="words per chunk embedded (Indonesian: ~2.5 tokens a word, 256 fit the default model)")
    chunk_overlap_words: int = Field(20, description="words shared by consecutive chunks")
    max_chunks_per_document: int = Field(300, description="chunks embedded per document, from the start")
    embed_batch_size: int = 32

    # Extraction limits.
    max_upload_bytes: int = 100 * MEBIBYTE
    max_pages: int = 2000
    max_unzipped_bytes: int = Field(
        512 * MEBIBYTE, description="total uncompressed size of a DOCX/XLSX/PPTX; more is a zip bomb (too_large)"
    )
    max_compression_ratio: float = Field(
        200.0, description="uncompressed/compressed size of a DOCX/XLSX/PPTX; XML rarely passes 30, zip bombs 1000"
    )
    max_zip_members: int = Field(10_000, description="files inside one DOCX/XLSX/PPTX")
    max_image_pixels: int = Field(
        100_000_000, description="pixels of an uploaded image (or TIFF page); a PDF page is rendered below it"
    )
    extraction_time_limit_seconds: float = Field(
        600.0, description="per upload; the reader runs in a child process killed at the limit (0: no limit)"
    )
    max_ocr_pages: int = Field(100, description="scanned pages OCRed per upload; later ones are marked not read")
    ocr_languages: str = Field("ind+eng", description="Tesseract languages (tesseract-ocr-ind must be installed)")
    ocr_dpi: int = Field(300, description="resolution scanned PDF pages are rendered at for OCR")
    ocr_workers: int = Field(2, description="pages OCRed at once (one Tesseract process each, single-threaded)")
    pdf_tables: bool = Field(
        False, description="rebuild ruled tables of PDF pages with pdfplumber (rows as 'a | b'); ~60 ms per table page"
    )

    # Delivery (e-mail).
    smtp_host: str | None = Field(None, description="SMTP server the reports are e-mailed through")
    smtp_port: int = Field(587, description="587 for STARTTLS, 465 for SSL, 25 for a relay")
    smtp_tls: str = Field(
        "starttls", pattern="^(starttls|ssl|none)$", description="starttls, ssl, or none (a trusted local relay)"
    )
    smtp_user: str | None = Field(None, description="SMTP login; none: send without logging in")
    smtp_password: str | None = Field(None, repr=False, description="SMTP password (or use smtp_password_block)")
    smtp_password_block: str | None = Field(None, description="name of a Prefect Secret block holding the password")
    smtp_sender: str | None = Field(None, description="From address, e.g. 'SPBE Kota <spbe@kota.go.id>'")
    smtp_timeout_seconds: float = Field(30.0, description="per SMTP connection and reply")
    smtp_attempts: int = Field(3, ge=1, description="tries per message before it is recorded as failed")
    smtp_retry_delay_seconds: float = Field(30.0, ge=0, description="wait before the second try; doubles after each")

    # Operations.
    processes: int = Field(0, ge=0, description="documents processed at once on one machine, a process each; 0: one per 4 CPU cores")
    claim_lease_seconds: float = Field(
        900.0, gt=0, description="a document claimed by a worker that stopped answering is taken over after this"
    )
    run_slot: str = Field(
        "spbe-evidence-run", description="Prefect global concurrency limit (1 slot) that lets one nightly or rerun process at a time"
    )
    helper_deployment: str = Field(
        "spbe-process-documents/helper", description="deployment a run starts `helpers` times to share its documents"
    )
    rerun_deployment: str = Field("spbe-nightly/rerun", description="deployment the upload relay starts")
    relay_host: str = Field("127.0.0.1", description="address the upload relay listens on")
    relay_port: int = Field(8590, description="port of the upload relay")
    relay_token: str | None = Field(
        None, repr=False, description="if set, the S3 webhook must send it (Authorization: Bearer <token>)"
    )
    relay_quiet_seconds: float = Field(
        60.0, ge=0, description="an SKPD's rerun starts this long after its last upload, so a batch gives one rerun"
    )
    relay_max_delay_seconds: float = Field(
        600.0, ge=0, description="an SKPD's rerun starts at the latest this long after its first upload"
    )

    @field_validator("s3_endpoint")
    @classmethod
    def _host_and_port(cls, endpoint: str) -> str:
        """The SDK takes host:port; a URL's scheme and path are the usual slip."""
        if endpoint.lower().startswith(URL_SCHEMES) or "/" in endpoint:
            raise ValueError("give host:port only, such as s3.kota.go.id:443, without http:// or a path "
                             "(SPBE_S3_SECURE=true for HTTPS)")
        return endpoint

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}: give its IANA name, such as Asia/Makassar for WITA") from None
        return name

    def state_url(self) -> str:
        """The state store's SQLAlchemy URL."""
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'state.db'}"

    def today_year(self) -> int:
        """The evaluation year now, in the city's time zone (a run at 00:30 WITA on 1 January is the new year)."""
        return datetime.now(ZoneInfo(self.timezone)).year


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build Settings(...) directly instead."""
    return Settings()
