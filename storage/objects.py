"""The only code that talks to S3 object storage (MinIO, SeaweedFS or AWS), through the minio SDK.

Everything else uses ObjectStore, so S3 quirks and SDK errors stay in this file and callers
see two exceptions: StorageError (with endpoint, bucket, key and what failed, for the
operator) and its subclass ObjectNotFound.
"""
from __future__ import annotations

import io
import logging
import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

if TYPE_CHECKING:
    from settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_CONTENT_TYPE = "application/octet-stream"

# The SDK's own client waits 5 minutes and retries 5 times, so a wrong endpoint hangs a
# nightly run or a test for a long time; these fail within seconds instead.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 120.0  # a large upload part on a slow office link
MAX_RETRIES = 2
RETRY_BACKOFF_SECONDS = 0.2
RETRY_ON_STATUS = (500, 502, 503, 504)
CONNECTION_POOL_SIZE = 10

NOT_FOUND_CODES = frozenset({"NoSuchKey"})
BUCKET_TAKEN_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
NO_BUCKET_CODE = "NoSuchBucket"
NO_BUCKET_HINT = ("; check SPBE_S3_BUCKET and SPBE_S3_ENDPOINT, or create the bucket in the S3 service (on the local "
                  "development server: `spbe-evidence storage up`)")
# S3 refuses the request itself: the key, the secret or the permissions are wrong, which no retry fixes.
REFUSED_CODES = frozenset({"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "AllAccessDisabled",
                           "InvalidToken", "ExpiredToken"})
REFUSED_HINT = "; check SPBE_S3_ACCESS_KEY, SPBE_S3_SECRET_KEY and the key's permissions on the bucket"
DIRECTORY_MARKER_SUFFIX = "/"


class StorageError(Exception):
    """Object storage failed; the message names the endpoint, bucket, key and operation."""


class ObjectNotFound(StorageError):
    """The requested key does not exist in the bucket."""


class StorageRefused(StorageError):
    """S3 answered and refused: wrong credentials or permissions, or no such bucket. Waiting does not fix it."""


@dataclass(frozen=True)
class StoredObject:
    """One object in a listing.

    The ETag is an opaque change marker (an MD5 only for single-part uploads), good for
    "has this file changed since last night?" but not as a content hash.
    """

    key: str
    etag: str
    size: int
    last_modified: datetime


class ObjectStore:
    """One bucket of an S3 service."""

    def __init__(self, client: Minio, bucket: str, *, endpoint: str | None = None) -> None:
        """Wrap a configured client; `endpoint` only labels error messages (the SDK does not expose it)."""
        self._client = client
        self.bucket = bucket
        self.endpoint = endpoint or "the configured S3 endpoint"

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        """A store for settings.s3_bucket, with short timeouts so an unreachable endpoint fails fast."""
        http_client = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
            retries=urllib3.Retry(
                total=MAX_RETRIES,
                backoff_factor=RETRY_BACKOFF_SECONDS,
                status_forcelist=RETRY_ON_STATUS,
            ),
            maxsize=CONNECTION_POOL_SIZE,
            # Passing our own pool drops the SDK's CA setup, so repeat it for HTTPS endpoints.
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        client = Minio(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http_client,
        )
        return cls(client, settings.s3_bucket, endpoint=settings.s3_endpoint)

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; another process creating it at the same moment is fine."""
        with self._errors("check or create the bucket"):
            if self._client.bucket_exists(bucket_name=self.bucket):
                return
            try:
                self._client.make_bucket(bucket_name=self.bucket)
            except S3Error as exc:
                # SeaweedFS answers BucketAlreadyExists even to its owner, and on AWS that code
                # means someone else owns the name: only accept it if we can reach the bucket.
                if exc.code not in BUCKET_TAKEN_CODES or not self._client.bucket_exists(
                    bucket_name=self.bucket
                ):
                    raise
                logger.debug("bucket %s was created concurrently", self.bucket)
                return
            logger.info("created bucket %s at %s", self.bucket, self.endpoint)

    def put_bytes(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Store `data` under `key` (replacing any object there); returns the new ETag."""
        with self._errors("upload", key):
            result = self._client.put_object(
                bucket_name=self.bucket,
                object_name=key,
                data=io.BytesIO(data),
                length=len(data),
                content_type=content_type,
            )
        return result.etag or ""

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> str:
        """Upload a local file under `key` (large files go multipart); returns the new ETag."""
        content_type = content_type or mimetypes.guess_type(path.name)[0] or DEFAULT_CONTENT_TYPE
        with self._errors(f"upload local file {path}", key):
            result = self._client.fput_object(
                bucket_name=self.bucket,
                object_name=key,
                file_path=str(path),
                content_type=content_type,
            )
        return result.etag or ""

    def get_bytes(self, key: str) -> bytes:
        """The whole content of `key`; ObjectNotFound if it does not exist."""
        with self._errors("download", key):
            response = self._client.get_object(bucket_name=self.bucket, object_name=key)
            try:
                return response.read()
            finally:
                # The SDK leaves the pooled connection checked out until both are called.
                response.close()
                response.release_conn()

    def list_objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every object whose key starts with `prefix`, at any depth, skipping folder placeholders."""
        with self._errors(f"list objects under prefix {prefix!r}"):
            for item in self._client.list_objects(
                bucket_name=self.bucket, prefix=prefix, recursive=True
            ):
                if item.is_dir or item.object_name.endswith(DIRECTORY_MARKER_SUFFIX):
                    continue
                yield StoredObject(
                    key=item.object_name,
                    etag=(item.etag or "").strip('"'),
                    size=item.size or 0,
                    last_modified=item.last_modified,
                )

    def exists(self, key: str) -> bool:
        """Whether `key` exists (a HEAD request; no content is transferred)."""
        try:
            with self._errors("look up", key):
                self._client.stat_object(bucket_name=self.bucket, object_name=key)
        except ObjectNotFound:
            return False
        return True

    @contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn SDK and network errors into StorageError messages an operator can act on."""
        where = f"bucket {self.bucket!r} at {self.endpoint}"
        if key is not None:
            where = f"key {key!r} in {where}"
        try:
            yield
        except S3Error as exc:
            if key is not None and exc.code in NOT_FOUND_CODES:
                raise ObjectNotFound(f"cannot {action}: there is no {where}") from exc
            refused = exc.code in REFUSED_CODES or exc.code == NO_BUCKET_CODE
            hint = NO_BUCKET_HINT if exc.code == NO_BUCKET_CODE else REFUSED_HINT if refused else ""
            error = StorageRefused if refused else StorageError
            raise error(f"cannot {action} ({where}): S3 said {exc.code}: {exc.message}{hint}") from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StorageError(
                f"cannot {action} ({where}): the S3 endpoint did not answer properly;"
                f" is it running, and are SPBE_S3_ENDPOINT/SPBE_S3_SECURE right? ({exc})"
            ) from exc
