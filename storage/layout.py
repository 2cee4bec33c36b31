"""Where things live in the bucket: every object key is built and parsed here, nowhere else.

Layout (one bucket):

    submissions/{year}/{skpd}/{filename}          evidence uploaded by a work unit (SKPD)
    extracted/{sha256}.json                       extracted text, keyed by content so re-uploads are free
    reports/{year}/{run_id}/{skpd}.{extension}    the report of one nightly run
    reports/{year}/latest/{skpd}.{extension}      a copy of the newest report, at a stable address

Keeping the layout in pure functions lets the flow, the CLI and the tests agree on it
without talking to S3.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from catalog.model import SKPD_CODE_CHARS, is_skpd_code

SUBMISSIONS_ROOT = "submissions"
EXTRACTED_ROOT = "extracted"
REPORTS_ROOT = "reports"
LATEST_RUN = "latest"
SEPARATOR = "/"

_YEAR = re.compile(r"[0-9]{4}")
_CODE_WORD = re.compile(r"[a-z0-9]+")  # the words of an SKPD code, which hyphens join
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXTENSION = re.compile(r"[a-z0-9]+")
_PATH_SEPARATORS = re.compile(r"[\\/]")
_NOT_FILENAMES = frozenset({"", ".", ".."})
_SUBMISSION_KEY_PARTS = 4
_LOOSE_KEY_PARTS = 3  # submissions/{year}/{filename}: an upload that missed its SKPD's folder
# Files that are never a finished upload: parts and temporaries of upload tools, editors' lock files
# (".~lock.Notulen.docx#", "~$Notulen.docx"), hidden files.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload")
TEMPORARY_PREFIXES = (".", "~$")
HIDDEN_FOLDER_PREFIXES = (".", "~", "#", "@", "_")  # .Trash-1000, ~backup, #recycle, @eaDir: no SKPD's folder


@dataclass(frozen=True)
class SubmissionKey:
    """The parts of a submission's object key."""

    year: int
    skpd: str
    filename: str


def submission_prefix(year: int, skpd: str | None = None) -> str:
    """Prefix of all submissions of a year, or of one SKPD in that year (for listing)."""
    prefix = f"{SUBMISSIONS_ROOT}/{_checked_year(year)}/"
    if skpd is None:
        return prefix
    return f"{prefix}{_checked_skpd(skpd)}/"


def submission_key(year: int, skpd: str, filename: str) -> str:
    """Key of one uploaded evidence file.

    Only the base name of `filename` is kept (browsers on Windows may send a full
    C:\\ path), so an upload can never escape its SKPD's folder.
    """
    return f"{submission_prefix(year, skpd)}{safe_filename(filename)}"


def parse_submission_key(key: str) -> SubmissionKey | None:
    """The parts of a submission key, or None for a key outside the layout (so listings can skip it).

    Read as a clerk's S3 client writes it: an SKPD folder typed with capitals ("Bappeda") is the SKPD's code, and
    a file in a folder of its own under the SKPD's ("lampiran/Notulen.pdf") is the SKPD's upload, named with it."""
    parts = key.split(SEPARATOR)
    if len(parts) < _SUBMISSION_KEY_PARTS:
        return None
    root, year, folder, *path = parts
    skpd = folder_code(folder)
    if (
        root != SUBMISSIONS_ROOT
        or not _YEAR.fullmatch(year)
        or not is_skpd_code(skpd)
        or any(part.strip() in _NOT_FILENAMES for part in path)  # a folder placeholder, "..", an empty name
    ):
        return None
    return SubmissionKey(year=int(year), skpd=skpd, filename=SEPARATOR.join(path))


def loose_upload_name(key: str) -> str | None:
    """The file name of an upload put straight into a year's submissions folder, in no SKPD's folder
    ("submissions/2026/Perwal.pdf"): no SKPD's evidence, so it is shown to Kominfotik to move. None for any other key,
    a folder placeholder, or a part or lock file."""
    parts = key.split(SEPARATOR)
    if len(parts) != _LOOSE_KEY_PARTS:
        return None
    root, year, name = parts
    if root != SUBMISSIONS_ROOT or not _YEAR.fullmatch(year) or name.strip() in _NOT_FILENAMES:
        return None
    return None if is_unfinished_upload(name) else name


def folder_code(folder: str) -> str:
    """An SKPD folder's name as the code it stands for: "Bappeda" is bappeda. A folder named otherwise ("Dinas
    Kesehatan", "bappeda_2026") reads as a code of the same form (dinas-kesehatan, bappeda-2026): its uploads are
    not skipped but count city-wide, and where no SKPD has that code the city summary shows Kominfotik the folder."""
    if folder.startswith(HIDDEN_FOLDER_PREFIXES):  # a hidden, trash or backup copy, or a NAS's own folder
        return ""
    plain = unicodedata.normalize("NFKD", folder).encode("ascii", "ignore").decode()  # "Café" is cafe
    return "-".join(_CODE_WORD.findall(plain.lower()))


def is_unfinished_upload(filename: str) -> bool:
    """A part, temporary or lock file that an upload tool or an editor left beside the real upload: no evidence."""
    name = filename.rsplit(SEPARATOR, 1)[-1]
    return name.endswith(TEMPORARY_SUFFIXES) or name.startswith(TEMPORARY_PREFIXES)


def extraction_key(sha256: str) -> str:
    """Key of the extraction result of a document, by the SHA-256 of its bytes (hex)."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex SHA-256 digest: {sha256!r}")
    return f"{EXTRACTED_ROOT}/{sha256}.json"


def report_key(year: int, run_id: str, skpd: str, extension: str) -> str:
    """Key of an SKPD's report from one run; runs never overwrite each other."""
    if not _RUN_ID.fullmatch(run_id) or run_id == LATEST_RUN:
        raise ValueError(f"run id must be a plain name other than {LATEST_RUN!r}: {run_id!r}")
    return _report_key(year, run_id, skpd, extension)


def latest_report_key(year: int, skpd: str, extension: str) -> str:
    """Key of the newest report of an SKPD, an address that stays the same between runs."""
    return _report_key(year, LATEST_RUN, skpd, extension)


def safe_filename(filename: str) -> str:
    """The base name of an uploaded file name; ValueError if nothing usable is left."""
    base = _PATH_SEPARATORS.split(filename)[-1]
    if base.strip() in _NOT_FILENAMES:
        raise ValueError(f"not a usable file name: {filename!r}")
    return base


def _report_key(year: int, run: str, skpd: str, extension: str) -> str:
    """Shared shape of report keys."""
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"extension must be lowercase letters/digits without a dot: {extension!r}")
    return f"{REPORTS_ROOT}/{_checked_year(year)}/{run}/{_checked_skpd(skpd)}.{extension}"


def _checked_year(year: int) -> str:
    """The year as four digits; ValueError otherwise (a typo would scatter files)."""
    text = str(year)
    if not _YEAR.fullmatch(text):
        raise ValueError(f"year must be a four-digit number: {year!r}")
    return text


def _checked_skpd(skpd: str) -> str:
    """The SKPD code, which must be a lowercase slug like 'bappeda', of at most SKPD_CODE_CHARS characters."""
    if not is_skpd_code(skpd):
        raise ValueError(
            f"SKPD code must be a lowercase slug like 'bappeda', at most {SKPD_CODE_CHARS} characters: {skpd!r}"
        )
    return skpd
