"""`spbe-evidence eval DATASET`: how well the matcher finds the labelled indicators, next to its baselines."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from settings import get_settings
from spbe_evidence.errors import UserError

EXIT_OK = 0
# A fit needs many labelled documents: the own set has 161. Fewer than this and the weights follow a few texts.
MIN_FIT_DOCUMENTS = 50
BEFORE_FIT_SUFFIX = ".before-fit"  # the profile file as it was before the first fit, kept beside it


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("eval", help="measure matching on labelled datasets (JSONL or folder + labels.json)")
    evaluate.add_argument("datasets", type=Path, nargs="+", metavar="DATASET", help="measured together as one")
    evaluate.add_argument("--format", choices=["json", "table"], default="table")
    evaluate.add_argument("--misses", action="store_true",
                          help="list the documents the full matcher got wrong: a wrong best indicator, a claimed "
                          "negative, a claim the document is not labelled with")
    evaluate.add_argument("--cache", type=Path, default=None,
                          help="SQLite file keeping embeddings between runs (default: none)")
    evaluate.add_argument("--fit", action="store_true",
                          help="fit the fusion weights on this dataset and write them into the profile file")
    evaluate.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from catalog import load_framework
    from extractors import ExtractionLimits
    from matching.engine import Matcher
    from matching.evaluation import DatasetError, EmbeddingCache, evaluate, fit_weights, load_dataset
    from storage.state import StateStore

    settings = get_settings()
    missing = [str(path) for path in args.datasets if not path.exists()]
    if missing:
        raise UserError(f"no such dataset: {', '.join(missing)}")
    framework = load_framework(settings.framework_file)
    limits = ExtractionLimits.from_settings(settings)
    try:
        dataset = [item for path in args.datasets for item in load_dataset(path, limits, framework)]
    except DatasetError as error:
        raise UserError(str(error)) from error
    if not dataset:
        raise UserError(f"no labelled documents in {', '.join(map(str, args.datasets))}: nothing to measure")
    matcher = Matcher(settings, framework)
    name = " + ".join(str(path) for path in args.datasets)
    state = StateStore(f"sqlite:///{args.cache.resolve()}") if args.cache else None
    cache = EmbeddingCache(state, matcher.model_key, matcher.chunking.key)
    if args.fit:
        labelled = len({item.id for item in dataset if item.indicators})  # a dataset given twice is no bigger
        if labelled < MIN_FIT_DOCUMENTS:
            raise UserError(
                f"{labelled} labelled documents are too few to fit the matching weights on (at least "
                f"{MIN_FIT_DOCUMENTS}: weights fitted on a handful undo the matcher); {settings.profiles_file} is unchanged"
            )
        weights = fit_weights(dataset, matcher, framework, cache)
        before = settings.profiles_file.read_text(encoding="utf-8")
        kept = settings.profiles_file.with_name(settings.profiles_file.name + BEFORE_FIT_SUFFIX)
        if not kept.exists():  # the weights before the first fit, however many follow
            kept.write_text(before, encoding="utf-8")
        profile_data = json.loads(before)
        profile_data["fusion"] = weights
        settings.profiles_file.write_text(json.dumps(profile_data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"fitted weights written to {settings.profiles_file} (as it was before the first fit: {kept}): {weights}", file=sys.stderr)
        matcher = Matcher(settings, framework)
    results = evaluate(dataset, matcher, framework, cache)
    figures = {name: scores.figures() for name, scores in results.items()}
    full = results["full"]
    if args.format == "json":
        print(json.dumps({"dataset": name, "documents": len(dataset), "positives": full.positives,
                          "negatives": full.negatives, "variants": figures}, indent=2))
    else:
        print(f"{name}: {len(dataset)} documents ({full.positives} labelled, {full.negatives} negatives), "
              f"model {matcher.model_key}, supports ≥ {matcher.thresholds.supports} "
              f"(an indicator the document's form points to ≥ {matcher.thresholds.best_supports}, "
              f"the topic its title announces ≥ {matcher.thresholds.announced_supports})")
        names = list(next(iter(figures.values())))
        print(f"{'variant':<14}" + "".join(f"{name:>20}" for name in names))
        for variant, values in figures.items():
            print(f"{variant:<14}" + "".join(f"{values[name]:>20.3f}" for name in names))
    if args.misses:
        print("\nMisses of the full matcher:")
        for line in full.misses:
            print(f"  {line}")
    return EXIT_OK
