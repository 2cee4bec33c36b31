"""What each indicator is matched against: its own words from the framework data file."""
from __future__ import annotations

from dataclasses import dataclass

from catalog import Framework


@dataclass(frozen=True)
class IndicatorProfile:
    indicator: int
    texts: tuple[str, ...]


def build_profiles(framework: Framework) -> list[IndicatorProfile]:
    """Name, question, description and example evidence: the ways the regulation describes an indicator."""
    profiles = []
    for indicator in framework.indicators:
        texts = (indicator.name, indicator.question, indicator.description, indicator.example_evidence)
        profiles.append(IndicatorProfile(indicator.number, tuple(text for text in texts if text)))
    return profiles
