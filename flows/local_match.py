"""Match files on the local disk: no object storage, no state store, no Prefect server."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from catalog import load_framework, load_skpd_registry
from extractors import ExtractionLimits, extract_path
from matching.engine import Matcher
from settings import Settings


def match_files(
    paths: Sequence[Path], settings: Settings, top_k: int, progress: Callable[[str], None] | None = None
) -> list[dict]:
    """The stable `match` contract: one result per file, in order; a bad file gets a status, never an exception.
    Matched as the nightly run matches them: as evidence of the registry's city."""
    framework = load_framework(settings.framework_file)
    region = load_skpd_registry(settings.skpd_file, framework).region
    matcher = Matcher(settings, framework, top_k=top_k, region=region)
    limits = ExtractionLimits.from_settings(settings)
    results = []
    for number, path in enumerate(paths, start=1):
        document = extract_path(path, limits=limits)
        matches = matcher.match(*matcher.embed(document), filename=path.name) if document.ok else []
        results.append(
            {
                "file": str(path),
                "status": str(document.status),
                "message": document.message,
                "matches": [match.to_dict() for match in matches],
            }
        )
        if progress and len(paths) > 1:
            progress(f"[{number}/{len(paths)}] {path.name}: {document.status}")
    return results
