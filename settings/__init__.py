"""All configuration of spbe-evidence: environment variables prefixed SPBE_ (or a .env file).

One object so an operator finds every knob in one place; defaults give the embedded
development setup (local SeaweedFS S3 on loopback, SQLite under var/, the offline model).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MEBIBYTE = 1024 * 1024


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
    supports_threshold: float = Field(0.75, description="score at or above which a document supports an indicator")
    review_threshold: float = Field(0.65, description="score at or above which a match needs human review")
    top_k: int = Field(5, description="candidate indicators kept per document")
    chunk_words: int = Field(120, description="words per chunk embedded")
    chunk_overlap_words: int = Field(30, description="words shared by consecutive chunks")
    max_chunks_per_document: int = Field(300, description="chunks embedded per document, from the start")
    embed_batch_size: int = 32

    # Extraction limits.
    max_upload_bytes: int = 100 * MEBIBYTE
    max_pages: int = 2000

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
