"""The catalog as a specification: the shipped SPBE 2024 framework, the Banjarmasin registry, the index maths,
and the refusals that keep a broken data file from producing a wrong index or an unreported indicator."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from catalog import (
    AssessmentError,
    CatalogError,
    Framework,
    SkpdRegistry,
    UnknownSelection,
    domain_index,
    index_from_domain_indices,
    load_framework,
    load_skpd_registry,
    rating,
    round_index,
    spbe_index,
)
from settings import CATALOG_DIR

FRAMEWORK_FILE = CATALOG_DIR / "spbe-2024.json"
REGISTRY_FILE = CATALOG_DIR / "skpd-banjarmasin.json"
BANJARMASIN_2024_DOMAINS = {1: 5.00, 2: 3.30, 3: 2.18, 4: 4.88}


@pytest.fixture(scope="module")
def framework() -> Framework:
    return load_framework(FRAMEWORK_FILE)


@pytest.fixture(scope="module")
def framework_data() -> dict[str, Any]:
    return json.loads(FRAMEWORK_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry_data() -> dict[str, Any]:
    return json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))


def write_json(tmp_path: Path, data: dict[str, Any], name: str = "broken.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def all_levels(framework: Framework, level: int) -> dict[int, int]:
    return {indicator.number: level for indicator in framework.indicators}


# The shipped SPBE 2024 framework


def test_shipped_framework_has_47_indicators_numbered_from_1(framework):
    assert [indicator.number for indicator in framework.indicators] == list(range(1, 48))


def test_indicator_weights_sum_to_100(framework):
    assert sum(indicator.weight for indicator in framework.indicators) == pytest.approx(100)


def test_every_indicator_has_levels_1_to_5(framework):
    for indicator in framework.indicators:
        assert [level.level for level in indicator.levels] == [1, 2, 3, 4, 5]


def test_four_domains_with_the_regulation_weights(framework):
    assert {d.number: d.weight for d in framework.domains} == {1: 13, 2: 25, 3: 16.5, 4: 45.5}


def test_eight_aspects_with_the_regulation_weights(framework):
    assert {a.number: a.weight for a in framework.aspects} == {
        1: 13, 2: 10, 3: 10, 4: 5, 5: 12, 6: 4.5, 7: 27.5, 8: 18,
    }  # fmt: skip


def test_public_services_42_to_47_weigh_3_not_the_reports_3_50(framework):
    assert {framework.indicator(n).weight for n in range(42, 48)} == {3.0}


def test_audits_29_to_31_are_in_aspect_6(framework):
    assert {framework.indicator(n).aspect for n in (29, 30, 31)} == {6}
    assert framework.indicator(29).code == "D3 A6 ID-29"


def test_process_and_service_indicators(framework):
    assert {i.maturity_type for i in framework.indicators[:31]} == {"process"}
    assert {i.maturity_type for i in framework.indicators[31:]} == {"service"}
    assert framework.indicator(1).levels[0].name == "Rintisan"
    assert framework.indicator(32).levels[0].name == "Informasi"


def test_indicators_carry_the_2024_guide_wording(framework):
    indicator = framework.indicator(45)
    assert indicator.name == "Tingkat Kematangan Layanan Publik Sektoral 1"
    assert indicator.question and indicator.description and indicator.assessment and indicator.example_evidence
    assert all(level.criteria and level.fulfilment and level.evidence for level in indicator.levels)


def test_framework_names_its_sources(framework):
    assert any("59 Tahun 2020" in source for source in framework.sources)
    assert any("3 Tahun 2024" in source for source in framework.sources)
    assert any("Laporan" in source for source in framework.sources)


def test_evidence_older_than_two_years_is_stale(framework):
    assert framework.evidence_max_age_years == 2


def test_sector_services_form_one_group(framework):
    assert framework.group_of(46) == {45, 46, 47}


def test_an_ungrouped_indicator_is_its_own_group(framework):
    assert framework.group_of(3) == {3}


def test_models_are_frozen(framework):
    with pytest.raises(ValueError):
        framework.indicator(1).weight = 99


# The index


def test_banjarmasin_2024_is_4_06_sangat_baik(framework):
    index = index_from_domain_indices(framework, BANJARMASIN_2024_DOMAINS)
    assert round_index(index) == 4.06
    assert rating(framework, index) == "Sangat Baik"


def test_all_level_5_is_5_memuaskan(framework):
    index = spbe_index(framework, all_levels(framework, 5))
    assert index == pytest.approx(5.0)
    assert rating(framework, index) == "Memuaskan"


def test_all_level_1_is_1_kurang(framework):
    index = spbe_index(framework, all_levels(framework, 1))
    assert index == pytest.approx(1.0)
    assert rating(framework, index) == "Kurang"


def test_index_from_indicators_equals_index_from_domains(framework):
    levels = {i.number: 1 + i.number % 5 for i in framework.indicators}
    by_domain = {d.number: domain_index(framework, levels, d.number) for d in framework.domains}
    assert index_from_domain_indices(framework, by_domain) == pytest.approx(spbe_index(framework, levels))


def test_domain_index_weighs_within_its_domain(framework):
    levels = all_levels(framework, 2) | {n: 4 for n in range(1, 11)}
    assert domain_index(framework, levels, 1) == pytest.approx(4.0)
    assert domain_index(framework, levels, 2) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("index", "predikat"),
    [(4.2, "Memuaskan"), (4.19, "Sangat Baik"), (3.5, "Sangat Baik"), (3.49, "Baik"),
     (2.6, "Baik"), (2.59, "Cukup"), (1.8, "Cukup"), (1.79, "Kurang")],
)  # fmt: skip
def test_band_boundaries(framework, index, predikat):
    assert rating(framework, index) == predikat


def test_a_missing_indicator_is_named(framework):
    levels = all_levels(framework, 3)
    del levels[17]
    with pytest.raises(AssessmentError, match=r"\[17\]"):
        spbe_index(framework, levels)


def test_a_level_off_the_scale_is_refused(framework):
    with pytest.raises(AssessmentError, match="outside 1..5"):
        spbe_index(framework, all_levels(framework, 3) | {5: 6})


def test_a_level_for_an_unknown_indicator_is_refused(framework):
    with pytest.raises(AssessmentError, match=r"\[48\]"):
        spbe_index(framework, all_levels(framework, 3) | {48: 3})


def test_rounding_is_half_up_on_the_printed_digits():
    assert round_index(4.055) == 4.06
    assert round_index(2.675) == 2.68
    assert round_index(4.0549) == 4.05


# Broken framework files


def test_weights_not_summing_to_100_fail(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["indicators"][0]["weight"] = 2.3
    path = write_json(tmp_path, data)
    with pytest.raises(CatalogError, match="indicator weights sum to 101") as failure:
        load_framework(path)
    assert str(path) in str(failure.value)
    assert "aspect 1: weight 13 but its indicators sum to 14" in str(failure.value)


def test_duplicate_indicator_number_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["indicators"][1]["number"] = 1
    with pytest.raises(CatalogError, match="duplicate indicator number 1"):
        load_framework(write_json(tmp_path, data))


def test_a_gap_in_indicator_numbers_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["indicators"][46]["number"] = 48
    with pytest.raises(CatalogError, match=r"missing \[47\]"):
        load_framework(write_json(tmp_path, data))


def test_missing_level_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    del data["indicators"][4]["levels"][2]
    with pytest.raises(CatalogError, match=r"indicator 5: levels \[1, 2, 4, 5\]"):
        load_framework(write_json(tmp_path, data))


def test_unknown_aspect_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["indicators"][0]["aspect"] = 9
    with pytest.raises(CatalogError, match="indicator 1: aspect 9 does not exist"):
        load_framework(write_json(tmp_path, data))


def test_unknown_domain_of_an_aspect_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["aspects"][0]["domain"] = 5
    with pytest.raises(CatalogError, match="aspect 1: domain 5 does not exist"):
        load_framework(write_json(tmp_path, data))


def test_rating_bands_must_descend_and_cover_from_0(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    bands = data["framework"]["rating_bands"]
    bands[0], bands[1] = bands[1], bands[0]
    bands[-1]["min"] = 1
    with pytest.raises(CatalogError, match="highest minimum down") as failure:
        load_framework(write_json(tmp_path, data))
    assert "cover from 0" in str(failure.value)


def test_a_misspelt_key_fails(tmp_path, framework_data):
    data = copy.deepcopy(framework_data)
    data["indicators"][0]["wieght"] = data["indicators"][0].pop("weight")
    with pytest.raises(CatalogError, match=r"indicators\[0\]\.weight: Field required"):
        load_framework(write_json(tmp_path, data))


def test_a_framework_id_longer_than_the_state_store_keeps_fails(tmp_path, framework_data):
    """The id keys the reviewers' verdicts: "indeks-pemerintah-digital-2025" fits, a sentence does not."""
    data = copy.deepcopy(framework_data)
    data["framework"]["id"] = "indeks-pemerintah-digital-" * 3
    with pytest.raises(CatalogError, match="at most 64 characters"):
        load_framework(write_json(tmp_path, data))


def test_invalid_json_fails_naming_the_file(tmp_path):
    path = tmp_path / "truncated.json"
    path.write_text('{"framework": ', encoding="utf-8")
    with pytest.raises(CatalogError, match="truncated.json: not valid UTF-8 JSON"):
        load_framework(path)


# The Banjarmasin SKPD registry


def test_shipped_registry_covers_every_indicator(framework):
    registry = load_skpd_registry(REGISTRY_FILE, framework)
    assert registry.city == "Kota Banjarmasin"
    for indicator in framework.indicators:
        assert registry.responsible_for(indicator.number), indicator.number


def test_diskominfotik_coordinates(framework):
    registry = load_skpd_registry(REGISTRY_FILE, framework)
    assert registry.coordinator.code == "diskominfotik"
    assert registry.coordinator_emails


def test_registry_uses_reserved_example_addresses_only(registry_data):
    addresses = [*registry_data["coordinator_emails"], *(e for unit in registry_data["skpd"] for e in unit["emails"])]
    assert all(address.endswith(".example.go.id") for address in addresses)


def test_responsibilities_follow_the_indicators(framework):
    registry = load_skpd_registry(REGISTRY_FILE, framework)
    assert [unit.code for unit in registry.responsible_for(44)] == ["setda-hukum"]
    assert [unit.code for unit in registry.responsible_for(34)] == ["bpkpad"]
    assert "inspektorat" in {unit.code for unit in registry.responsible_for(30)}


def test_find_an_skpd_by_code(framework):
    registry = load_skpd_registry(REGISTRY_FILE, framework)
    assert registry.find("arsip").name == "Dinas Perpustakaan dan Kearsipan"
    assert registry.find("tidak-ada") is None


@pytest.mark.parametrize(
    ("city", "region"),
    [("Kota Banjarmasin", "Banjarmasin"), ("Kabupaten Hulu Sungai Selatan", "Hulu Sungai Selatan"),
     ("Pemerintah Kota Banjarmasin", "Banjarmasin"), ("Banjarmasin", "Banjarmasin"),
     ("Kab. Hulu Sungai Selatan", "Hulu Sungai Selatan")],
)  # fmt: skip
def test_the_region_is_the_city_as_its_own_regulations_name_it(framework, registry_data, city, region):
    """"PERATURAN WALI KOTA BANJARMASIN": a policy whose heading lacks it is another government's."""
    assert SkpdRegistry.model_validate({**registry_data, "city": city}).region == region


def test_selections_of_unknown_skpd_or_indicators_are_refused_naming_what_exists(framework):
    registry = load_skpd_registry(REGISTRY_FILE, framework)
    registry.check_codes(["bappeda"])
    framework.check_numbers([1, 47])
    with pytest.raises(UnknownSelection, match="unknown SKPD dinas-entah; the registry has: .*bappeda"):
        registry.check_codes(["bappeda", "dinas-entah"])
    with pytest.raises(UnknownSelection, match="no indicator 0, 48 in .*: its indicators are 1–47"):
        framework.check_numbers([48, 0, 12])


def test_registry_with_an_unknown_indicator_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][1]["indicators"].append(48)
    with pytest.raises(CatalogError, match=r"SKPD 'bappeda': indicators \[48\] do not exist"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_with_a_bad_email_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][2]["emails"] = ["bpkpad-at-banjarmasin"]
    with pytest.raises(CatalogError, match=r"skpd\[2\]\.emails: not valid email addresses"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_with_a_duplicate_code_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][3]["code"] = "bappeda"
    with pytest.raises(CatalogError, match="duplicate SKPD code 'bappeda'"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_code_must_be_a_slug(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][3]["code"] = "BKPSDM Kota"
    with pytest.raises(CatalogError, match="not a lowercase slug"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_code_longer_than_the_state_store_keeps_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][3]["code"] = "badan-kepegawaian-dan-pengembangan-sumber-daya-manusia-kota-banjarmasin"
    with pytest.raises(CatalogError, match="at most 64 characters"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_leaving_an_indicator_uncovered_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    for unit in data["skpd"]:
        unit["indicators"] = [n for n in unit["indicators"] if n != 37]
    with pytest.raises(CatalogError, match=r"indicators \[37\] have no responsible SKPD"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_needs_exactly_one_coordinator(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data)
    data["skpd"][1]["role"] = "coordinator"
    with pytest.raises(CatalogError, match="exactly one SKPD must have role 'coordinator'"):
        load_skpd_registry(write_json(tmp_path, data), framework)


def test_registry_for_another_framework_fails(tmp_path, framework, registry_data):
    data = copy.deepcopy(registry_data) | {"framework": "ipd-2025"}
    with pytest.raises(CatalogError, match="registry is for framework 'ipd-2025'"):
        load_skpd_registry(write_json(tmp_path, data), framework)


# The next framework is a data file, not code

TINY_FRAMEWORK = {
    "framework": {
        "id": "contoh-kecil",
        "name": "Kerangka contoh",
        "sources": ["Dibuat untuk pengujian"],
        "index_scale": {"min": 1, "max": 4},
        "rating_bands": [{"name": "Tinggi", "min": 3}, {"name": "Sedang", "min": 2}, {"name": "Rendah", "min": 0}],
        "evidence_max_age_years": 1,
    },
    "domains": [{"number": 1, "name": "Tata Kelola", "weight": 60}, {"number": 2, "name": "Layanan", "weight": 40}],
    "aspects": [
        {"number": 1, "name": "Kebijakan", "weight": 60, "domain": 1},
        {"number": 2, "name": "Layanan Digital", "weight": 40, "domain": 2},
    ],
    "indicators": [
        {
            "number": number, "name": f"Indikator {number}", "domain": domain, "aspect": domain, "weight": weight,
            "maturity_type": "process",
            "levels": [{"level": level, "name": f"Tingkat {level}", "criteria": "…"} for level in range(1, 5)],
        }
        for number, domain, weight in ((1, 1, 30), (2, 1, 30), (3, 2, 40))
    ],
}  # fmt: skip


def test_a_second_framework_file_computes_its_own_index(tmp_path):
    tiny = load_framework(write_json(tmp_path, TINY_FRAMEWORK, "contoh-kecil.json"))
    index = spbe_index(tiny, {1: 4, 2: 2, 3: 3})
    assert index == pytest.approx(3.0)
    assert rating(tiny, index) == "Tinggi"
    assert domain_index(tiny, {1: 4, 2: 2, 3: 3}, 1) == pytest.approx(3.0)
    assert tiny.group_of(2) == {2}


def test_a_second_framework_has_its_own_scale(tmp_path):
    tiny = load_framework(write_json(tmp_path, TINY_FRAMEWORK, "contoh-kecil.json"))
    with pytest.raises(AssessmentError, match="outside 1..4"):
        spbe_index(tiny, {1: 5, 2: 2, 3: 3})
