"""Model cards rendered from ``model_cards/`` and pushing a finished run to the Hub."""

from __future__ import annotations

import json
import logging
import string
from pathlib import Path

from nlpkit.hub_errors import HubUnavailableError

logger = logging.getLogger(__name__)
CARD_DIR = Path(__file__).resolve().parents[1] / "model_cards"
CHECKPOINT_PATTERNS = ["checkpoint-*", "checkpoint-*/**", "runs/**", "*.pt", "optimizer*", "rng_state*"]


def metrics_table(metrics: dict[str, float]) -> str:
    rows = ["| metric | value |", "|---|---|"]
    for key, value in sorted(metrics.items()):
        rows.append(f"| {key} | {value:.2f} |" if isinstance(value, float) else f"| {key} | {value} |")
    return "\n".join(rows)


def render_model_card(template: str, results: dict, card_dir: Path = CARD_DIR) -> str:
    """Fill ``model_cards/<template>.md`` from a run's results.json content.

    Placeholders (``$name``): repo_id, base_model, head, recipe, metrics_table, data, versions,
    config_json. A template naming anything else is an error, not a silent blank.
    """
    path = card_dir / f"{template}.md"
    if not path.is_file():
        raise FileNotFoundError(f"No model card template {path}")
    config = results.get("config", {})
    values = {
        "repo_id": config.get("hub_model_id") or Path(config.get("output_dir", "model")).name,
        "base_model": config.get("model_name_or_path", "unknown"),
        "head": config.get("head", "standard"),
        "recipe": results.get("recipe") or "command-line arguments only",
        "metrics_table": metrics_table(results.get("metrics", {})),
        "data": "\n".join(f"- `{k}` (sha256 `{v[:12]}`)" for k, v in results.get("data", {}).items())
        or "- (none recorded)",
        "versions": ", ".join(f"{k} {v}" for k, v in results.get("versions", {}).items() if v),
        "config_json": json.dumps(config, indent=2, sort_keys=True, default=str),
    }
    try:
        return string.Template(path.read_text()).substitute(values)
    except KeyError as err:
        raise ValueError(f"{path}: unknown placeholder {err}; known: {sorted(values)}") from err


def push_run_to_hub(output_dir: str | Path, repo_id: str, card: str, private: bool = True,
                    is_main_process: bool = True) -> str | None:
    """Write README.md (the card) into ``output_dir`` and upload it without checkpoints.

    Only the main process does anything. The card and files are written first, so an
    offline push fails after everything is ready to upload again.
    """
    if not is_main_process:
        return None
    output_dir = Path(output_dir)
    (output_dir / "README.md").write_text(card)
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(output_dir),
                                 ignore_patterns=CHECKPOINT_PATTERNS,
                                 commit_message="Upload nlpkit run")
    except Exception as err:  # huggingface_hub raises many types for "no network"/"no token"
        raise HubUnavailableError(
            f"Could not push {output_dir} to the Hub repo '{repo_id}': {type(err).__name__}: {err}. "
            f"The model card and files are ready in {output_dir}; run `nlpkit push {output_dir} "
            f"--repo_id {repo_id}` when online and logged in (`hf auth login`)."
        ) from err
    return getattr(info, "commit_url", str(info))
