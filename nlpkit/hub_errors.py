"""One place that turns "cannot reach the Hugging Face Hub" into an error a user can act on."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class HubUnavailableError(RuntimeError):
    """Raised when a model, tokenizer or dataset id cannot be fetched from the Hub."""


def hub_is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"}


def call_hub(what: str, name: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` (a ``from_pretrained``/``load_dataset`` call) and explain failures to reach the Hub.

    Errors that are not about reaching the Hub (a bad local file, a wrong config name) pass
    through unchanged, so the user still sees what is really wrong.
    """
    try:
        return fn()
    except (OSError, ConnectionError, ValueError, RuntimeError) as err:
        text = f"{type(err).__name__}: {err}"
        network_words = (
            "offline", "connect", "resolve", "Max retries", "couldn't be found on the Hub",
            "not a local folder", "Couldn't reach", "HF_HUB_OFFLINE", "internet", "Network",
            "huggingface.co", "is not a valid model identifier", "LocalEntryNotFound",
        )
        if os.path.exists(name) or not any(w.lower() in text.lower() for w in network_words):
            raise
        mode = "HF_HUB_OFFLINE=1 is set" if hub_is_offline() else "the Hub could not be reached"
        raise HubUnavailableError(
            f"Could not load {what} '{name}': {mode} and it is not in the local cache. "
            f"Connect to the internet once (or copy it to a local folder and pass that path). "
            f"Original error: {text}"
        ) from err
