"""``nlpkit``: run a study's script or recipe, a sweep, a report, a push, or the quickstart.

    nlpkit quickstart                              # embedded default, no data or weights needed
    nlpkit fewshot-qa --config recipes/splinter/fewshot_qa_tiny.yaml [--flag value ...]
    nlpkit pretrain --config recipes/splinter/pretrain_tiny.yaml
    nlpkit sweep --config recipes/splinter/sweep_splinter_base.yaml
    nlpkit report outputs/sweep                    # results.md + f1_vs_k.png from results.json
    nlpkit push outputs/run --repo_id me/my-model  # card from results.json, then upload

Multi-process runs go through accelerate: ``accelerate launch -m nlpkit.scripts.fewshot_qa``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _push(argv: list[str]) -> None:
    from nlpkit.hub import push_run_to_hub, render_model_card

    parser = argparse.ArgumentParser(prog="nlpkit push")
    parser.add_argument("output_dir")
    parser.add_argument("--repo_id", required=True)
    parser.add_argument("--public", action="store_true")
    args = parser.parse_args(argv)
    results_path = Path(args.output_dir) / "results.json"
    if not results_path.is_file():
        raise SystemExit(f"{results_path} not found: push a finished nlpkit run.")
    results = json.loads(results_path.read_text())
    template = results["config"].get("model_card", "splinter_fewshot_qa")
    card = render_model_card(template, results)
    print(push_run_to_hub(args.output_dir, args.repo_id, card, private=not args.public))


def _sweep(argv: list[str]) -> None:
    from nlpkit.config import parse_config
    from nlpkit.sweep import SweepArguments, run_sweep

    (sweep,) = parse_config([SweepArguments], argv)
    run_sweep(sweep)


def _report(argv: list[str]) -> None:
    from nlpkit.sweep import aggregate

    parser = argparse.ArgumentParser(prog="nlpkit report")
    parser.add_argument("folder")
    aggregate(parser.parse_args(argv).folder)


def _script(module: str):
    def run(argv: list[str]) -> None:
        import importlib

        importlib.import_module(module).main(argv)

    return run


COMMANDS = {
    "quickstart": _script("nlpkit.scripts.quickstart"),
    "fewshot-qa": _script("nlpkit.scripts.fewshot_qa"),
    "pretrain": _script("nlpkit.scripts.splinter_pretrain"),
    "sweep": _sweep,
    "report": _report,
    "push": _push,
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__)
        if argv and argv[0] not in ("-h", "--help"):
            raise SystemExit(f"Unknown command '{argv[0]}'; choose from {', '.join(COMMANDS)}.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
