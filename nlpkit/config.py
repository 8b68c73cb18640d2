"""The one path from a recipe YAML and the command line to dataclasses.

``--config recipe.yaml`` sets the defaults of every field of the script's dataclasses;
flags given on the command line override them. A key in the YAML that no dataclass has is
an error naming the key, the file and the line, with the closest known key as a hint.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from transformers import HfArgumentParser


class ConfigError(ValueError):
    """A recipe file that cannot be used as it is (unknown key, wrong shape)."""


def _key_lines(path: Path, text: str) -> dict[str, int]:
    """Line number (1-based) of every top-level key, for error messages."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value}


def load_recipe(path: str | Path, allowed_keys: set[str] | None = None) -> dict[str, Any]:
    """Read a recipe YAML as a flat mapping; check its keys when ``allowed_keys`` is given."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Recipe file not found: {path}")
    text = path.read_text()
    try:
        values = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of field names to values.")
    if allowed_keys is not None:
        lines = _key_lines(path, text)
        unknown = [k for k in values if k not in allowed_keys]
        if unknown:
            parts = []
            for key in unknown:
                hint = difflib.get_close_matches(key, sorted(allowed_keys), n=1)
                where = f"{path}:{lines[key]}" if key in lines else str(path)
                parts.append(
                    f"unknown key '{key}' at {where}"
                    + (f" (did you mean '{hint[0]}'?)" if hint else "")
                )
            raise ConfigError("Recipe has keys no argument accepts: " + "; ".join(parts))
    return values


def field_names(dataclass_types: Sequence[type]) -> set[str]:
    return {f.name for dc in dataclass_types for f in dataclasses.fields(dc) if f.init}


def _pop_config_flag(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--config":
            if i + 1 >= len(argv):
                raise ConfigError("--config needs a path to a recipe YAML.")
            path = argv[i + 1]
            del argv[i : i + 2]
            return path
        if arg.startswith("--config="):
            del argv[i]
            return arg.split("=", 1)[1]
    return None


def _coerce_recipe_values(parser, values: dict[str, Any], path: str) -> dict[str, Any]:
    """Give recipe values the field types, as if they had been typed on the command line.

    argparse converts only string defaults, so without this ``max_steps: 2.5`` would reach an
    ``int`` field unchanged and ``lr: 1`` would stay an int; a value that does not fit the
    field's type is an error naming the key and the file.
    """
    lines = _key_lines(Path(path), Path(path).read_text())
    out = dict(values)
    for action in parser._actions:
        if action.dest not in values or not callable(action.type):
            continue
        value = values[action.dest]
        if value is None or isinstance(value, dict):
            continue
        is_list = action.nargs in ("+", "*")
        if isinstance(value, list) and not is_list:
            continue  # e.g. report_to: [wandb, tensorboard] on a str|list field
        items = value if isinstance(value, list) else [value]
        try:
            converted = [action.type(str(v)) if v is not None else None for v in items]
        except (TypeError, ValueError, argparse.ArgumentTypeError) as err:
            where = f"{path}:{lines[action.dest]}" if action.dest in lines else path
            raise ConfigError(
                f"{where}: value {value!r} of '{action.dest}' does not fit its type ({err})."
            ) from err
        out[action.dest] = converted if is_list else converted[0]
    return out


def parse_config(
    dataclass_types: Sequence[type], args: Sequence[str] | None = None,
    return_recipe: bool = False,
) -> tuple[Any, ...]:
    """Parse ``--config x.yaml`` plus command-line overrides into instances of ``dataclass_types``.

    Unknown command-line flags are an error too (argparse names them). With ``return_recipe``
    the recipe path (or ``None``) is appended to the returned tuple.
    """
    argv = list(sys.argv[1:] if args is None else args)
    parser = HfArgumentParser(list(dataclass_types), allow_abbrev=False)  # no silent prefixes
    config_path = _pop_config_flag(argv)
    if config_path is not None:
        values = load_recipe(config_path, field_names(dataclass_types))
        values = _coerce_recipe_values(parser, values, config_path)
        parser.set_defaults(**values)
        # A value from the recipe satisfies a field that has no default.
        for action in parser._actions:
            if action.dest in values:
                action.required = False
    parsed = tuple(parser.parse_args_into_dataclasses(args=argv))
    return (*parsed, config_path) if return_recipe else parsed


def config_to_dict(*instances: Any) -> dict[str, Any]:
    """Flatten the resolved dataclasses into one JSON-friendly mapping (for results.json)."""
    out: dict[str, Any] = {}
    for obj in instances:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dataclasses.asdict(obj)
        for key, value in data.items():
            if isinstance(value, (str, int, float, bool, type(None), list, dict)):
                out[key] = value
            else:
                out[key] = str(value)
    return out
