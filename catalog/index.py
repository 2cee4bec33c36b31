"""The index as PermenPANRB 59/2020 defines it: maturity levels averaged by weight, then rated by band.

Weights, scale and bands come from the framework file, so the same code computes the next framework's index.
Values stay unrounded; round_index is for what the report prints.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_UP, Decimal

from catalog.model import TOTAL_WEIGHT, Framework, Indicator

INDEX_DECIMALS = 2
"""The evaluation report prints indices with 2 decimals."""


class AssessmentError(ValueError):
    """Levels or indices that cannot give an index: one missing, unknown, or off the scale."""


def spbe_index(framework: Framework, levels: Mapping[int, int]) -> float:
    """Σ level × weight / 100 over every indicator of the framework."""
    unknown = sorted(set(levels) - {indicator.number for indicator in framework.indicators})
    if unknown:
        raise AssessmentError(f"levels given for indicators {unknown}, which {framework.id} does not have")
    return _weighted_level(framework, framework.indicators, levels) / TOTAL_WEIGHT


def domain_index(framework: Framework, levels: Mapping[int, int], domain_number: int) -> float:
    """The domain's own index: its indicators' levels weighted within the domain's weight."""
    domain = framework.domain(domain_number)
    return _weighted_level(framework, framework.indicators_in_domain(domain_number), levels) / domain.weight


def index_from_domain_indices(framework: Framework, domain_indices: Mapping[int, float]) -> float:
    """Σ domain index × domain weight / 100: the route the published report takes (Banjarmasin 2024 → 4.06)."""
    numbers = {domain.number for domain in framework.domains}
    missing = sorted(numbers - set(domain_indices))
    unknown = sorted(set(domain_indices) - numbers)
    if missing or unknown:
        raise AssessmentError(f"domain indices missing for domains {missing}, given for unknown domains {unknown}")
    return math.fsum(domain_indices[d.number] * d.weight for d in framework.domains) / TOTAL_WEIGHT


def rating(framework: Framework, index: float) -> str:
    """The predikat of an index. Pass round_index(x) to rate the figure the report prints."""
    for band in framework.rating_bands:
        if index >= band.min:
            return band.name
    raise AssessmentError(f"index {index} is below every rating band of {framework.id}")


def round_index(value: float) -> float:
    """Half-up to the printed decimals on the decimal digits, so 4.055 prints 4.06 as a person would round it."""
    step = Decimal(1).scaleb(-INDEX_DECIMALS)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _weighted_level(framework: Framework, indicators: Collection[Indicator], levels: Mapping[int, int]) -> float:
    missing = [indicator.number for indicator in indicators if indicator.number not in levels]
    if missing:
        raise AssessmentError(f"no level given for indicators {missing}")
    scale = framework.index_scale
    off_scale = {i.number: levels[i.number] for i in indicators if levels[i.number] not in scale.levels}
    if off_scale:
        raise AssessmentError(f"levels outside {scale.min}..{scale.max}: {off_scale} (indicator: level)")
    return math.fsum(levels[i.number] * i.weight for i in indicators)
