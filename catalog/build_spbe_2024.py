"""Build catalog/spbe-2024.json from the reference extraction of the SPBE 2024 indicators.

    python -m catalog.build_spbe_2024 /work/shared/reference/spbe-2024

The output is committed and is all the runtime reads. Wording follows the 2024 guide (Pedoman
MenPANRB 3/2024) and falls back to PermenPANRB 59/2020; the reference README's known corrections
are applied; the extraction's keyword tags and observed-unit hints stay out (they are not official).
The result is validated as a Framework before it is written, so a bad reference never lands.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from catalog.model import Framework

OUTPUT = Path(__file__).with_name("spbe-2024.json")
REFERENCE_FILE = "indicators.json"

SOURCES = (
    "PermenPANRB Nomor 59 Tahun 2020 tentang Pemantauan dan Evaluasi Sistem Pemerintahan Berbasis Elektronik, "
    "beserta lampirannya: struktur domain/aspek/indikator, bobot, pertanyaan, kriteria tingkat versi 2020, "
    "rumus indeks, dan predikat.",
    "Pedoman MenPANRB Nomor 3 Tahun 2024 (pedoman evaluasi SPBE 2024): nama indikator, deskripsi, "
    "ketentuan penilaian, contoh bukti dukung, dan kriteria tingkat versi 2024. Pedoman mencetak kode "
    "indikator 29-31 di Aspek 5; di sini Aspek 6 (Pelaksanaan Audit TIK) sesuai PermenPANRB 59/2020 dan "
    "Laporan 2024, dengan kode D3 A6.",
    "Laporan Pelaksanaan Evaluasi SPBE 2024, Kementerian PANRB: konfirmasi struktur, bobot, dan indeks "
    "Kota Banjarmasin 2024. Laporan mencetak bobot indikator 42-47 = 3,50%; di sini 3,00% sesuai "
    "PermenPANRB 59/2020 (6 x 3,00 = 18, bobot Aspek 8).",
)
CORRECTED_WEIGHTS = {number: 3.0 for number in range(42, 48)}
CORRECTED_ASPECTS = {number: 6 for number in (29, 30, 31)}

FRAMEWORK_HEADER = {
    "id": "spbe-2024",
    "name": "Evaluasi SPBE 2024",
    "sources": list(SOURCES),
    "index_scale": {"min": 1, "max": 5},
    "rating_bands": [
        {"name": "Memuaskan", "min": 4.2},
        {"name": "Sangat Baik", "min": 3.5},
        {"name": "Baik", "min": 2.6},
        {"name": "Cukup", "min": 1.8},
        {"name": "Kurang", "min": 0},
    ],
    "evidence_max_age_years": 2,
}
INDICATOR_GROUPS = [{"name": "Layanan Publik Sektor", "indicators": [45, 46, 47]}]
MATURITY_TYPES = {"kapabilitas proses": "process", "kapabilitas layanan": "service"}


def build(reference: list[dict[str, Any]]) -> dict[str, Any]:
    """The framework file's content from the reference records, corrections applied."""
    domains: dict[int, dict[str, Any]] = {}
    aspects: dict[int, dict[str, Any]] = {}
    for record in reference:
        domain, aspect = record["domain"], record["aspek"]
        _record_once(domains, {"number": domain["no"], "name": domain["nama"], "weight": domain["bobot_persen"]}, record)
        _record_once(
            aspects,
            {"number": aspect["no"], "name": aspect["nama"], "weight": aspect["bobot_persen"], "domain": domain["no"]},
            record,
        )
    return {
        "framework": FRAMEWORK_HEADER,
        "domains": [domains[number] for number in sorted(domains)],
        "aspects": [aspects[number] for number in sorted(aspects)],
        "indicator_groups": INDICATOR_GROUPS,
        "indicators": [_indicator(record) for record in sorted(reference, key=lambda record: record["no"])],
    }


def _indicator(record: dict[str, Any]) -> dict[str, Any]:
    number = record["no"]
    aspect = record["aspek"]["no"]
    code = record["kode_pedoman_2024"]
    if number in CORRECTED_ASPECTS:
        if aspect != CORRECTED_ASPECTS[number]:
            raise SystemExit(
                f"indicator {number}: reference puts it in aspect {aspect}, the README's correction says "
                f"{CORRECTED_ASPECTS[number]}; check the reference before building"
            )
        code = re.sub(r"\bA\d+\b", f"A{aspect}", code)
    return {
        "number": number,
        "code": code,
        "name": record.get("nama_indikator_pedoman_3_2024") or record["nama_indikator"],
        "domain": record["domain"]["no"],
        "aspect": aspect,
        "weight": CORRECTED_WEIGHTS.get(number, record["bobot_indikator_persen"]),
        "maturity_type": MATURITY_TYPES[record["jenis_tingkat_kematangan"]],
        "question": record.get("pertanyaan_permenpanrb_59_2020") or "",
        "description": record.get("deskripsi_indikator_pedoman_3_2024") or "",
        "assessment": record.get("ketentuan_penilaian_pedoman_3_2024") or "",
        "example_evidence": record.get("contoh_bukti_dukung_pedoman_3_2024") or "",
        "levels": [
            {
                "level": level["level"],
                "name": level["nama_tingkat"],
                "criteria": level.get("kriteria_level_pedoman_3_2024") or level["kriteria_permenpanrb_59_2020"],
                "fulfilment": level.get("kriteria_pemenuhan_level_pedoman_3_2024") or "",
                "evidence": level.get("kriteria_bukti_dukung_pedoman_3_2024") or "",
            }
            for level in sorted(record["levels"], key=lambda level: level["level"])
        ],
    }


def _record_once(table: dict[int, dict[str, Any]], entry: dict[str, Any], record: dict[str, Any]) -> None:
    """Domains and aspects are repeated on every indicator; refuse a reference whose copies disagree."""
    known = table.setdefault(entry["number"], entry)
    if known != entry:
        raise SystemExit(f"indicator {record['no']}: {entry} disagrees with {known} given by an earlier indicator")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help=f"reference folder holding {REFERENCE_FILE}, or the file itself")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    args = parser.parse_args(argv)
    source = args.reference / REFERENCE_FILE if args.reference.is_dir() else args.reference
    content = build(json.loads(source.read_text(encoding="utf-8")))
    framework = Framework.model_validate(content)
    args.output.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(framework.indicators)} indicators from {source}")


if __name__ == "__main__":
    main()
