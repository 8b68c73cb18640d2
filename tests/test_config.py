"""nlpkit.config: recipe YAML as defaults, command line wins, unknown keys named, types coerced."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from nlpkit.config import ConfigError, config_to_dict, load_recipe, parse_config


@dataclass
class ModelArgs:
    model_name_or_path: str = field(metadata={"help": "required, no default"})
    head: str = field(default="standard", metadata={"help": "span head"})


@dataclass
class RunArgs:
    learning_rate: float = field(default=1e-3, metadata={"help": "lr"})
    max_steps: int = field(default=1, metadata={"help": "steps"})
    use_lora: bool = field(default=False, metadata={"help": "lora"})
    seeds: list[int] = field(default_factory=lambda: [1], metadata={"help": "seeds"})
    eval_file: str | None = field(default=None, metadata={"help": "optional"})


TYPES = [ModelArgs, RunArgs]


def write(tmp_path, text, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_recipe_sets_defaults_and_command_line_wins(tmp_path):
    recipe = write(tmp_path, "model_name_or_path: from-yaml\nhead: qass\nlearning_rate: 0.5\n"
                             "max_steps: 7\nseeds: [42, 43]\n")
    model, run = parse_config(TYPES, ["--config", str(recipe), "--learning_rate", "0.25",
                                      "--seeds", "1", "2", "3"])
    assert model.model_name_or_path == "from-yaml"  # required field satisfied by the recipe
    assert model.head == "qass"
    assert run.learning_rate == 0.25  # CLI beats YAML
    assert run.seeds == [1, 2, 3]
    assert run.max_steps == 7  # YAML beats the dataclass default
    assert run.eval_file is None


def test_config_equals_form_and_return_recipe(tmp_path):
    recipe = write(tmp_path, "model_name_or_path: m\n")
    model, run, path = parse_config(TYPES, [f"--config={recipe}", "--use_lora", "true"],
                                    return_recipe=True)
    assert path == str(recipe) and model.model_name_or_path == "m" and run.use_lora is True
    *_, none = parse_config(TYPES, ["--model_name_or_path", "m"], return_recipe=True)
    assert none is None


def test_unknown_yaml_key_names_key_file_line_and_hint(tmp_path):
    recipe = write(tmp_path, "model_name_or_path: m\n\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError) as info:
        parse_config(TYPES, ["--config", str(recipe)])
    message = str(info.value)
    assert "'learning_rat'" in message
    assert f"{recipe}:3" in message  # file and 1-based line
    assert "did you mean 'learning_rate'" in message


def test_unknown_command_line_flag_is_an_error_naming_it():
    with pytest.raises(ValueError, match="--no_such_flag"):
        parse_config(TYPES, ["--model_name_or_path", "m", "--no_such_flag", "1"])


def test_shortened_flag_is_not_taken_for_a_longer_one():
    # argparse would otherwise read --learning_rat as --learning_rate without a word.
    with pytest.raises(ValueError, match="--learning_rat"):
        parse_config(TYPES, ["--model_name_or_path", "m", "--learning_rat", "0.1"])


def test_missing_required_field_without_recipe_fails():
    with pytest.raises(SystemExit):
        parse_config(TYPES, [])


def test_recipe_values_are_coerced_to_field_types(tmp_path):
    # PyYAML reads 3e-5 (no dot) as a string and '8' is quoted: both must become numbers;
    # an int where a float is wanted becomes a float; a scalar for a list field a list.
    recipe = write(tmp_path, "model_name_or_path: 123\nlearning_rate: 3e-5\nmax_steps: '8'\n"
                             "seeds: 5\nuse_lora: 'yes'\n")
    model, run = parse_config(TYPES, ["--config", str(recipe)])
    assert model.model_name_or_path == "123"
    assert run.learning_rate == pytest.approx(3e-5) and isinstance(run.learning_rate, float)
    assert run.max_steps == 8 and isinstance(run.max_steps, int)
    assert run.seeds == [5]
    assert run.use_lora is True
    recipe = write(tmp_path, "model_name_or_path: m\nlearning_rate: 1\n")
    _, run = parse_config(TYPES, ["--config", str(recipe)])
    assert isinstance(run.learning_rate, float)


def test_recipe_value_of_wrong_type_names_key_and_file(tmp_path):
    recipe = write(tmp_path, "model_name_or_path: m\nmax_steps: 2.5\n")
    with pytest.raises(ConfigError, match=rf"{recipe}:2.*'max_steps'"):
        parse_config(TYPES, ["--config", str(recipe)])


def test_command_line_values_are_coerced():
    _, run = parse_config(TYPES, ["--model_name_or_path", "m", "--max_steps", "4",
                                  "--learning_rate", "1e-4", "--use_lora"])
    assert run.max_steps == 4 and run.learning_rate == pytest.approx(1e-4) and run.use_lora


def test_load_recipe_allowed_keys(tmp_path):
    recipe = write(tmp_path, "a: 1\nb: [x, y]\n")
    assert load_recipe(recipe) == {"a": 1, "b": ["x", "y"]}  # no check without allowed_keys
    assert load_recipe(recipe, allowed_keys={"a", "b", "c"}) == {"a": 1, "b": ["x", "y"]}
    with pytest.raises(ConfigError, match=r"unknown key 'b' at .*recipe.yaml:2"):
        load_recipe(recipe, allowed_keys={"a"})


@pytest.mark.parametrize("text, match", [
    ("- a\n- b\n", "mapping"),
    ("a: [1, 2\n", "not valid YAML"),
])
def test_load_recipe_rejects_bad_files(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_recipe(write(tmp_path, text))


def test_load_recipe_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="needs a path"):
        parse_config(TYPES, ["--config"])


def test_empty_recipe_is_allowed(tmp_path):
    model, _ = parse_config(TYPES, ["--config", str(write(tmp_path, "")),
                                    "--model_name_or_path", "m"])
    assert model.model_name_or_path == "m"


def test_training_arguments_from_recipe(tmp_path):
    """The real dataclasses: TrainingArguments fields (choices, floats) come through the recipe."""
    from nlpkit.training.arguments import NlpkitTrainingArguments

    recipe = write(tmp_path, f"output_dir: {tmp_path / 'out'}\nsave_strategy: steps\n"
                             "save_steps: 3\nwarmup_steps: 0.1\nlearning_rate: 3e-5\n")
    (args,) = parse_config([NlpkitTrainingArguments],
                           ["--config", str(recipe), "--use_cpu", "true"])
    assert args.save_strategy == "steps" and args.save_steps == 3
    assert args.learning_rate == pytest.approx(3e-5) and args.use_cpu is True
    flat = config_to_dict(args)
    assert flat["learning_rate"] == pytest.approx(3e-5)
    assert flat["output_dir"] == str(tmp_path / "out")
