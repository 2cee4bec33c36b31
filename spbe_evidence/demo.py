"""`make demo`: the main job on embedded defaults — local S3, SQLite, offline model, sample submissions."""
from __future__ import annotations

from collections.abc import Callable

from settings import Settings
from spbe_evidence.samples import load_samples, write_sample
from storage import layout, local_server
from storage.objects import ObjectStore


def upload_samples(store: ObjectStore, settings: Settings, year: int, progress: Callable[[str], None]) -> None:
    """Put the sample submissions in the bucket once; a rerun finds them there and uploads nothing."""
    folder = settings.data_dir / "demo-submissions"
    for sample in load_samples():
        key = layout.submission_key(year, sample.skpd, sample.filename)
        if store.exists(key):
            continue
        store.put_file(key, write_sample(sample, folder))
        progress(f"uploaded sample {key}")


def run_demo(settings: Settings, progress: Callable[[str], None]) -> dict:
    from flows.nightly import nightly

    progress(local_server.up(settings))
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    year = settings.today_year()
    upload_samples(store, settings, year, progress)
    progress(f"running the nightly flow for {year} (the first run loads the model and Prefect: ~30 s)")
    return nightly(year=year)
