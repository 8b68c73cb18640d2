"""Load Hub datasets by name with a clear error when offline."""

from __future__ import annotations

from typing import Any

from nlpkit.hub_errors import call_hub


def load_hub_dataset(name: str, config_name: str | None = None, split: str | None = None,
                     streaming: bool = False, **kwargs: Any):
    """``datasets.load_dataset`` for a Hub dataset id; raises ``HubUnavailableError`` offline."""
    import datasets

    return call_hub(
        "dataset", name,
        lambda: datasets.load_dataset(name, config_name, split=split, streaming=streaming, **kwargs),
    )
