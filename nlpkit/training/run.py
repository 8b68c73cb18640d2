"""The boilerplate around ``trainer.train()``, written once for every nlpkit script.

Step count (max of epochs and a minimum number of steps), resuming from the last checkpoint,
saving, results.json with provenance, the model card and the Hub push.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from transformers.trainer_utils import get_last_checkpoint

from nlpkit.config import config_to_dict
from nlpkit.training.provenance import data_hashes, git_state, package_versions

logger = logging.getLogger(__name__)


def setup_logging(args) -> None:
    if args.log_level != "passive" and args.should_log:
        level = args.get_process_log_level()  # an explicit --log_level wins
    else:
        level = logging.INFO if args.should_log else logging.WARNING
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity(level)
    datasets.utils.logging.set_verbosity(logging.WARNING)


def apply_step_rule(args, num_train_rows: int) -> int:
    """Set ``args.max_steps`` to max(num_train_epochs epochs, min_train_steps); return it."""
    if args.max_steps > 0:
        return args.max_steps
    per_step = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    steps_per_epoch = max(1, math.ceil(num_train_rows / per_step))
    args.max_steps = max(math.ceil(args.num_train_epochs * steps_per_epoch), args.min_train_steps)
    return args.max_steps


def checkpoint_to_resume(args) -> str | None:
    if args.resume_from_checkpoint:
        return args.resume_from_checkpoint
    if args.auto_resume and Path(args.output_dir).is_dir():
        return get_last_checkpoint(args.output_dir)
    return None


def train_with_resume(trainer, args) -> dict[str, Any]:
    """Train, resuming from the last checkpoint when there is one; save the final model."""
    checkpoint = checkpoint_to_resume(args)
    if checkpoint:
        logger.info("Resuming from %s", checkpoint)
    start = time.time()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model()
    trainer.save_state()
    metrics = dict(result.metrics)
    metrics["train_wall_seconds"] = round(time.time() - start, 1)
    metrics["global_step"] = trainer.state.global_step
    metrics["resumed_from_checkpoint"] = checkpoint
    return metrics


def write_results(args, configs: tuple, metrics: dict[str, Any], data_sources: list[str | None],
                  recipe: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``results.json`` (main process only) and return its content."""
    results = {
        "config": config_to_dict(*configs),
        "recipe": recipe,
        "versions": package_versions(),
        "git": git_state(),
        "data": data_hashes(data_sources),
        "world_size": args.world_size,
        "metrics": metrics,
        **(extra or {}),
    }
    if args.process_index == 0:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / args.results_file).write_text(json.dumps(results, indent=2, default=str) + "\n")
        logger.info("Wrote %s", out / args.results_file)
    return results


def card_and_push(args, results: dict[str, Any], template: str, push_requested: bool) -> None:
    """Render the model card into output_dir; push when asked (main process only)."""
    from nlpkit.hub import push_run_to_hub, render_model_card

    if args.process_index != 0:
        return
    card = render_model_card(template, results)
    (Path(args.output_dir) / "README.md").write_text(card)
    if push_requested:
        repo_id = args.hub_model_id or Path(args.output_dir).name
        url = push_run_to_hub(args.output_dir, repo_id, card, private=bool(args.hub_private_repo))
        logger.info("Pushed to %s", url)


def take_push_request(args) -> bool:
    """Trainer would create the repo at start-up and push checkpoints; nlpkit pushes once at the
    end with its own card, so the flag is taken over here."""
    requested = bool(args.push_to_hub)
    args.push_to_hub = False
    return requested
