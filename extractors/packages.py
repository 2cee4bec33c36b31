"""Office Open XML packages (DOCX, XLSX, PPTX) checked before any library opens them.

A package is a zip of XML parts, and both layers can be turned into weapons: a zip bomb
(a few KB that unpack to gigabytes) and XML entity expansion ("billion laughs", or an
external entity that reads a local file or a URL). python-docx, openpyxl and python-pptx
would unpack and parse whatever they are given, so each reader calls check() first:

- the zip directory's declared sizes are bounded (member count, total unpacked size, ratio);
  zipfile stops reading a member at its declared size, so a lying header cannot get past;
- every XML part is streamed once through expat with any DOCTYPE refused: OOXML parts never
  carry one, so refusing it stops every entity trick before it starts, in whatever encoding.

External relationships (a linked image, an attached template on a server) are never fetched:
the three libraries only record their targets, and no part is parsed with network access.
"""
from __future__ import annotations

import io
import pyexpat
import zipfile
import zlib

from defusedxml import DTDForbidden

from extractors.document import Status
from extractors.failures import ExtractionFailure, corrupt
from extractors.limits import ExtractionLimits

# Parts holding XML: all but media (images, fonts, embedded objects).
XML_PART_SUFFIXES = (".xml", ".rels", ".vml")

# Below this unpacked size the ratio says nothing: a tiny part of repeated markup packs 100:1.
RATIO_CHECKED_FROM_BYTES = 1024 * 1024

ZIP_BOMB_MESSAGE = (
    "Berkas {label} ini membengkak menjadi sangat besar saat dibuka (ciri berkas berbahaya atau rusak). "
    "Simpan ulang dokumennya dari aplikasi Office, atau simpan sebagai PDF, lalu unggah lagi."
)

# What reading a damaged package, or one with a DOCTYPE, raises.
UNREADABLE_PACKAGE = (
    DTDForbidden,
    pyexpat.ExpatError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # a compression method zipfile does not know
    OSError,
)


def _refuse_doctype(name: str, system_id: str | None, public_id: str | None, *_: object) -> None:
    raise DTDForbidden(name, system_id, public_id)


def _check_xml(stream: io.BufferedIOBase) -> None:
    """Stream one part through expat (C speed, no tree kept); a DOCTYPE raises DTDForbidden."""
    parser = pyexpat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.ParseFile(stream)


def _too_large(label: str, detail: str) -> ExtractionFailure:
    return ExtractionFailure(Status.TOO_LARGE, ZIP_BOMB_MESSAGE.format(label=label), detail)


def _check_sizes(members: list[zipfile.ZipInfo], limits: ExtractionLimits, label: str) -> None:
    if len(members) > limits.max_zip_members:
        raise _too_large(label, f"{len(members)} zip members, limit max_zip_members={limits.max_zip_members}")
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if unpacked > limits.max_unzipped_bytes:
        raise _too_large(label, f"unpacks to {unpacked} bytes, limit max_unzipped_bytes={limits.max_unzipped_bytes}")
    ratio = unpacked / max(packed, 1)
    if unpacked >= RATIO_CHECKED_FROM_BYTES and ratio > limits.max_compression_ratio:
        raise _too_large(
            label, f"compression ratio {ratio:.0f}:1, limit max_compression_ratio={limits.max_compression_ratio:g}"
        )


def check(data: bytes, limits: ExtractionLimits, label: str) -> None:
    """Raise TOO_LARGE for a zip bomb, CORRUPT for a damaged zip or an XML part with a DOCTYPE."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_sizes(members, limits, label)
            for member in members:
                if member.filename.lower().endswith(XML_PART_SUFFIXES):
                    with archive.open(member) as stream:
                        _check_xml(stream)
    except UNREADABLE_PACKAGE as error:
        raise corrupt(error, label) from error
