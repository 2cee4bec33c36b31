"""Formats only an office suite reads: Word/Excel/PowerPoint 97-2003, RTF and OpenDocument.

With LibreOffice on PATH (`soffice` or `libreoffice`, looked up at run time) the upload is
converted to PDF and read as one; without it the clerk is told what to save it as. Office
also uses the old container for a password-protected DOCX/XLSX/PPTX: that one is ENCRYPTED,
whatever is installed.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from extractors import packages, pdf
from extractors.document import Page, Status
from extractors.failures import ExtractionFailure
from extractors.limits import ExtractionLimits
from extractors.sniff import OLE_MAGIC, RTF_MAGIC, ZIP_MAGIC

logger = logging.getLogger(__name__)

CONVERTERS = ("soffice", "libreoffice")
LIBREOFFICE = "LibreOffice"
INSTALL_HINT = "install LibreOffice (Debian: libreoffice-writer libreoffice-calc libreoffice-impress) to convert it"
# A conversion normally takes seconds; the upload's time limit, when set, cuts it shorter.
CONVERT_TIMEOUT_SECONDS = 300

# An OLE container names its streams in UTF-16; the main stream tells the application.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

LOCKED_MESSAGE = (
    "Berkas Office ini dilindungi kata sandi. Buka berkasnya, hapus kata sandinya "
    "(File > Info > Lindungi Dokumen), simpan, lalu unggah lagi."
)
UNSUPPORTED_MESSAGE = "Berkas ini berformat {label}. Buka berkasnya, simpan sebagai {save_as}, lalu unggah lagi."
UNCONVERTIBLE_MESSAGE = (
    "Berkas {label} ini tidak dapat dibuka; mungkin rusak atau dilindungi kata sandi. "
    "Buka berkasnya, simpan sebagai {save_as}, lalu unggah lagi."
)


@dataclass(frozen=True)
class LegacyFormat:
    label: str  # as the clerk knows it
    suffix: str  # LibreOffice picks its import filter partly by the name
    save_as: str  # what the clerk should save it as instead


WORD_97 = LegacyFormat("Microsoft Word lama (.doc)", "doc", "PDF atau DOCX")
EXCEL_97 = LegacyFormat("Microsoft Excel lama (.xls)", "xls", "PDF atau XLSX")
POWERPOINT_97 = LegacyFormat("Microsoft PowerPoint lama (.ppt)", "ppt", "PDF atau PPTX")
OFFICE_97 = LegacyFormat("Microsoft Office lama (.doc, .xls atau .ppt)", "doc", "PDF atau DOCX")
RICH_TEXT = LegacyFormat("RTF", "rtf", "PDF atau DOCX")
OPENDOCUMENT = LegacyFormat("OpenDocument (LibreOffice)", "odt", "PDF atau DOCX")

# The main stream of each Office 97-2003 application.
OLE_MAIN_STREAMS = (
    ("WordDocument", WORD_97),
    ("Workbook", EXCEL_97),
    ("Book", EXCEL_97),  # Excel 5/95
    ("PowerPoint Document", POWERPOINT_97),
)


def _identify(data: bytes) -> LegacyFormat:
    if data.startswith(RTF_MAGIC):
        return RICH_TEXT
    if data.startswith(ZIP_MAGIC):
        return OPENDOCUMENT
    return next((kind for stream, kind in OLE_MAIN_STREAMS if stream.encode("utf-16-le") in data), OFFICE_97)


def converter() -> str | None:
    """The LibreOffice on PATH, looked up at each call so that one installed since is found."""
    return next(filter(None, map(shutil.which, CONVERTERS)), None)


def _run_converter(command: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run LibreOffice in its own process group, so a timeout also stops the soffice.bin it starts."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _to_pdf(converter: str, data: bytes, kind: LegacyFormat, limits: ExtractionLimits) -> bytes:
    """The upload converted by LibreOffice, in a private folder and profile (runs may overlap)."""
    with tempfile.TemporaryDirectory(prefix="spbe-convert-") as folder:
        source = Path(folder) / f"upload.{kind.suffix}"
        source.write_bytes(data)
        command = [
            converter, f"-env:UserInstallation={(Path(folder) / 'profile').as_uri()}",
            "--headless", "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", folder, str(source),
        ]  # fmt: skip
        timeout = min(CONVERT_TIMEOUT_SECONDS, limits.time_limit_seconds or CONVERT_TIMEOUT_SECONDS)
        try:
            done = _run_converter(command, timeout)
        except subprocess.TimeoutExpired as error:
            raise ExtractionFailure(
                Status.TOO_LARGE, UNCONVERTIBLE_MESSAGE.format(label=kind.label, save_as=kind.save_as),
                f"LibreOffice took over {timeout:g} s converting {kind.label}",
            ) from error  # fmt: skip
        converted = source.with_suffix(".pdf")
        if not converted.is_file():
            raise ExtractionFailure(
                Status.CORRUPT, UNCONVERTIBLE_MESSAGE.format(label=kind.label, save_as=kind.save_as),
                f"LibreOffice exit {done.returncode}, no PDF: {done.stderr.decode(errors='replace').strip()[-500:]}",
            )  # fmt: skip
        logger.info("converted %s to PDF with %s", kind.label, converter)
        return converted.read_bytes()


def read(data: bytes, limits: ExtractionLimits) -> list[Page]:
    """The pages of the upload converted to PDF, or why it cannot be read here."""
    if data.startswith(OLE_MAGIC) and ENCRYPTED_PACKAGE in data:
        raise ExtractionFailure(
            Status.ENCRYPTED, LOCKED_MESSAGE, "OLE container with an EncryptedPackage stream: password-protected OOXML"
        )
    kind = _identify(data)
    if kind is OPENDOCUMENT:
        packages.check(data, limits, kind.label)
    program = converter()
    if program is None:
        raise ExtractionFailure(
            Status.UNSUPPORTED,
            UNSUPPORTED_MESSAGE.format(label=kind.label, save_as=kind.save_as),
            f"{kind.label}: no LibreOffice on PATH ({' or '.join(CONVERTERS)}); {INSTALL_HINT}",
            LIBREOFFICE,
        )
    return pdf.read(_to_pdf(program, data, kind, limits), limits)
