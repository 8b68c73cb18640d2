"""Recipes are data, and data is tested: every YAML under recipes/ and every README command.

- Study recipes (every YAML outside ``recipes/accelerate_configs/``) are parsed by the script
  they belong to, exactly as ``--config`` does, with unknown keys forbidden. A recipe names its
  script with a ``# script: <module>`` line; without one the file name decides (``fewshot_*``,
  ``pretrain_*``, ``sweep_*``). A recipe that maps to no script fails.
- The dataclasses are not listed here: the script's own ``parse_config`` call is intercepted,
  so the check follows the script when it gains or loses argument groups.
- Accelerate configs are read by accelerate's own config loader (unknown keys are an error
  there too) and checked for the keys ``accelerate launch`` needs.
- Every command in a ```bash block of a README under recipes/ is parsed: ``accelerate launch``
  flags by accelerate's parser, the script's flags by the script's parser; the config files
  and recipes it names must exist.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import nlpkit.config
from nlpkit.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"
ACCELERATE_CONFIGS = RECIPES / "accelerate_configs"

STUDY_RECIPES = sorted(p for p in RECIPES.rglob("*.y*ml") if ACCELERATE_CONFIGS not in p.parents)
ACCELERATE_FILES = sorted(ACCELERATE_CONFIGS.glob("*.y*ml"))
READMES = sorted(RECIPES.rglob("README.md"))

# Script module -> its `nlpkit` command (the entry point that parses its arguments).
SCRIPTS = {
    "nlpkit.scripts.fewshot_qa": "fewshot-qa",
    "nlpkit.scripts.splinter_pretrain": "pretrain",
    "nlpkit.sweep": "sweep",
    "nlpkit.scripts.quickstart": "quickstart",
}
# Scripts whose arguments include TrainingArguments: parsed here with --use_cpu, so a GPU
# command (e.g. with --bf16) can be checked on a CPU-only machine.
TRAINER_SCRIPTS = {"nlpkit.scripts.fewshot_qa", "nlpkit.scripts.splinter_pretrain"}
NAME_CONVENTION = {
    "fewshot_": "nlpkit.scripts.fewshot_qa",
    "pretrain_": "nlpkit.scripts.splinter_pretrain",
    "sweep_": "nlpkit.sweep",
}
# What `accelerate launch --config_file` reads to decide how many processes and where.
ACCELERATE_KEYS = {"compute_environment", "distributed_type", "num_processes", "num_machines",
                   "machine_rank", "mixed_precision", "use_cpu"}


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # recipe and README paths are relative to the repository root


def script_of(recipe: Path) -> str | None:
    """The script module a recipe belongs to: its ``# script:`` line, else its file name."""
    for line in recipe.read_text().splitlines():
        match = re.match(r"\s*#\s*script:\s*(\S+)", line)
        if match:
            return match.group(1)
    for prefix, module in NAME_CONVENTION.items():
        if recipe.name.startswith(prefix):
            return module
    return None


class _Parsed(Exception):
    """Raised right after the script parsed its arguments, so nothing else runs."""


def parse_like_script(module_name: str, argv: list[str]):
    """Run the script's entry point until its ``parse_config`` returns; give its result.

    Returns ``(dataclass_types, parsed_instances)``. Parsing errors propagate (ConfigError,
    ValueError, or SystemExit from argparse).
    """
    import nlpkit.cli

    real = nlpkit.config.parse_config
    seen = {}

    def spy(dataclass_types, args=None, return_recipe=False):
        seen["types"] = list(dataclass_types)
        seen["parsed"] = real(dataclass_types, args)
        raise _Parsed

    module = importlib.import_module(module_name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nlpkit.config, "parse_config", spy)
        if hasattr(module, "parse_config"):
            patch.setattr(module, "parse_config", spy)
        try:
            nlpkit.cli.COMMANDS[SCRIPTS[module_name]](list(argv))
        except _Parsed:
            return seen["types"], seen["parsed"]
    pytest.fail(f"{module_name} returned without calling parse_config")


def _cpu_safe(module_name: str, argv: list[str]) -> list[str]:
    if module_name in TRAINER_SCRIPTS and "--use_cpu" not in argv:
        return [*argv, "--use_cpu", "true"]
    return argv


def check_study_recipe(recipe: Path):
    """Parse a study recipe with its script, unknown keys forbidden; return the parse."""
    module = script_of(recipe)
    if module is None:
        pytest.fail(f"{recipe}: no '# script: <module>' line and no known name prefix "
                    f"({', '.join(NAME_CONVENTION)}): which script reads it?")
    if module not in SCRIPTS:
        pytest.fail(f"{recipe}: '# script: {module}' is not one of {sorted(SCRIPTS)}")
    types, parsed = parse_like_script(module, _cpu_safe(module, ["--config", str(recipe)]))
    # the same check, stated directly: every key is a field of the script's dataclasses
    nlpkit.config.load_recipe(recipe, nlpkit.config.field_names(types))
    for value in yaml.safe_load(recipe.read_text()).values():
        if isinstance(value, str) and value.startswith("recipes/"):
            assert (ROOT / value).exists(), f"{recipe}: names {value}, which does not exist"
    return module, parsed


def _argparse(parser, argv: list[str], command: str):
    try:
        return parser.parse_args(argv)
    except SystemExit as err:
        pytest.fail(f"`{command}`: {parser.prog} rejects its arguments (exit {err.code})")


def _must_exist(path: str, command: str) -> Path:
    if not (ROOT / path).exists():
        pytest.fail(f"`{command}` names {path}, which does not exist")
    return ROOT / path


def check_script_args(module: str, argv: list[str], command: str) -> None:
    if module not in SCRIPTS:
        pytest.fail(f"`{command}`: unknown script module {module} (known: {sorted(SCRIPTS)})")
    if "--config" in argv:
        recipe = _must_exist(argv[argv.index("--config") + 1], command)
        if script_of(recipe) != module:
            pytest.fail(f"`{command}`: {recipe.name} is a {script_of(recipe)} recipe, "
                        f"not a {module} one")
    try:
        types, _ = parse_like_script(module, _cpu_safe(module, argv))
    except (ValueError, SystemExit) as err:
        pytest.fail(f"`{command}`: {module} rejects its arguments: {err}")
    # argparse accepts abbreviations (--learning_rat); a README should spell flags out
    _exact_flags(argv, nlpkit.config.field_names(types) | {"config"}, command)


def _exact_flags(argv: list[str], names: set[str], command: str) -> None:
    for token in argv:
        if token.startswith("--") and token[2:].split("=")[0] not in names:
            pytest.fail(f"`{command}`: {token} is not a field name (an abbreviation or typo)")


def check_python_file(path: str, argv: list[str], command: str) -> None:
    file = _must_exist(path, command)
    spec = importlib.util.spec_from_file_location(f"_readme_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "build_parser"):  # data_scripts expose their parser
        _argparse(module.build_parser(), argv, command)


def check_command(command: str) -> None:
    """Fail unless ``command`` names existing files and flags its programs accept."""
    tokens = shlex.split(command, comments=True)
    while tokens and re.fullmatch(r"[A-Za-z_]\w*=\S*", tokens[0]):
        tokens.pop(0)  # VAR=value prefixes
    if tokens[:2] == ["accelerate", "launch"]:
        from accelerate.commands.launch import launch_command_parser

        parser = launch_command_parser()
        args = _argparse(parser, tokens[2:], command)
        own = tokens[2:tokens.index(args.training_script)]
        for token in own:
            if token.startswith("-") and token.split("=")[0] not in parser._option_string_actions:
                pytest.fail(f"`{command}`: {token} is not an accelerate launch flag as spelled")
        if args.config_file:
            _must_exist(args.config_file, command)
        if args.module:
            check_script_args(args.training_script, args.training_script_args, command)
        else:
            check_python_file(args.training_script, args.training_script_args, command)
    elif tokens and tokens[0] == "nlpkit":
        import nlpkit.cli

        if len(tokens) < 2 or tokens[1] not in nlpkit.cli.COMMANDS:
            pytest.fail(f"`{command}`: not an nlpkit command ({sorted(nlpkit.cli.COMMANDS)})")
        by_command = {cmd: module for module, cmd in SCRIPTS.items()}
        if tokens[1] in by_command:
            check_script_args(by_command[tokens[1]], tokens[2:], command)
        # `report` and `push` take folders of finished runs: nothing exists before a run
    elif tokens and Path(tokens[0]).name.startswith("python"):
        if tokens[1:2] == ["-m"]:
            check_script_args(tokens[2], tokens[3:], command)
        else:
            check_python_file(tokens[1], tokens[2:], command)
    else:
        pytest.fail(f"`{command}`: not a command this test can check (accelerate launch, "
                    "nlpkit, python); put other shell lines in a ```text block")


def readme_commands(readme: Path) -> list[str]:
    """Commands in the README's ```bash blocks, continuation lines joined, comments dropped."""
    commands, fence, pending = [], None, ""
    for line in readme.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else (stripped[3:].strip() or "text")
            continue
        if fence not in ("bash", "sh", "shell") or not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        commands.append(pending + stripped)
        pending = ""
    return commands


README_COMMANDS = [(readme, command) for readme in READMES for command in readme_commands(readme)]


# ---------------------------------------------------------------------------- study recipes


def test_recipes_are_found():
    assert len(STUDY_RECIPES) >= 6 and len(ACCELERATE_FILES) >= 3 and READMES


@pytest.mark.parametrize("recipe", STUDY_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_study_recipe_parses_with_its_script(recipe):
    module, parsed = check_study_recipe(recipe)
    if module == "nlpkit.sweep":
        # the runs the sweep would launch: launcher flags, recipe and overrides all parse
        from nlpkit.sweep import plan_runs

        (sweep,) = parsed
        runs = plan_runs(sweep)
        assert runs, f"{recipe}: plans no runs"
        for _, args in (runs[0], runs[-1]):
            check_command(shlex.join([*shlex.split(sweep.launcher), sweep.script, *args]))


@pytest.mark.parametrize("recipe", STUDY_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_study_recipe_is_named_in_its_readme(recipe):
    readme = recipe.parent / "README.md"
    assert readme.is_file(), f"{recipe.parent} has no README.md with its launch commands"
    assert recipe.name in readme.read_text(), f"{readme} does not mention {recipe.name}"


def test_misspelled_key_is_an_error_naming_key_and_file(tmp_path):
    recipe = tmp_path / "fewshot_typo.yaml"
    text = (RECIPES / "splinter" / "fewshot_qa_tiny.yaml").read_text()
    recipe.write_text(text.replace("learning_rate:", "learning_rat:"))
    with pytest.raises(ConfigError) as err:
        check_study_recipe(recipe)
    message = str(err.value)
    assert "learning_rat'" in message and str(recipe) in message
    assert "did you mean 'learning_rate'" in message


def test_recipe_without_a_script_fails(tmp_path):
    recipe = tmp_path / "my_setting.yaml"
    recipe.write_text("learning_rate: 1.0e-4\n")
    assert script_of(recipe) is None
    with pytest.raises(pytest.fail.Exception, match="which script reads it"):
        check_study_recipe(recipe)
    recipe.write_text("# script: nlpkit.scripts.fewshot_qa\nlearning_rate: 1.0e-4\n")
    assert script_of(recipe) == "nlpkit.scripts.fewshot_qa"


# ----------------------------------------------------------------------- accelerate configs


@pytest.mark.parametrize("config", ACCELERATE_FILES, ids=lambda p: p.name)
def test_accelerate_config_loads(config):
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType, PrecisionType

    values = yaml.safe_load(config.read_text())
    assert isinstance(values, dict), f"{config}: not a mapping"
    assert ACCELERATE_KEYS <= set(values), f"{config}: lacks {ACCELERATE_KEYS - set(values)}"
    # unquoted `no` is YAML's False, which accelerate cannot lower-case
    assert values["mixed_precision"] in PrecisionType.list(), values["mixed_precision"]
    loaded = load_config_from_file(str(config))  # rejects keys accelerate does not know
    assert isinstance(loaded.distributed_type, DistributedType)
    assert loaded.num_processes >= 1 and loaded.num_machines == 1


def test_cpu_2proc_starts_two_processes_on_cpu():
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    values = yaml.safe_load((ACCELERATE_CONFIGS / "cpu_2proc.yaml").read_text())
    assert values["use_cpu"] is True and values["num_processes"] == 2
    args = launch_command_parser().parse_args(
        ["--config_file", str(ACCELERATE_CONFIGS / "cpu_2proc.yaml"), "script.py"])
    args, _, _ = _validate_launch_command(args)
    # MULTI_CPU would go to accelerate's simple launcher, which starts one process
    assert args.multi_gpu and args.num_processes == 2


@pytest.mark.slow
def test_cpu_2proc_world_size_is_two(tmp_path):
    import socket

    snippet = tmp_path / "world.py"
    snippet.write_text("import torch.distributed as dist\nfrom accelerate import PartialState\n"
                       "s = PartialState(cpu=True)\n"
                       "print(f'WORLD rank {s.process_index} of {s.num_processes} '\n"
                       "      f'{s.distributed_type} {dist.get_backend()}')\n")
    with socket.socket() as sock:  # a free port: other runs may hold accelerate's 29500
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
         str(ACCELERATE_CONFIGS / "cpu_2proc.yaml"), "--main_process_port", str(port),
         str(snippet)], check=False, capture_output=True, text=True, timeout=300)
    # the two processes share stdout; their lines can interleave, so match, don't split
    lines = sorted(re.findall(r"WORLD rank \d of \d \S+ [a-z]+", result.stdout))
    assert result.returncode == 0 and lines == [
        f"WORLD rank {rank} of 2 DistributedType.MULTI_CPU gloo" for rank in (0, 1)
    ], f"exit {result.returncode}\n{result.stdout}\n{result.stderr[-3000:]}"


# ------------------------------------------------------------------------- README commands


@pytest.mark.parametrize("readme,command", README_COMMANDS,
                         ids=[f"{r.parent.name}:{' '.join(c.split())[:100]}"
                              for r, c in README_COMMANDS])
def test_readme_command(readme, command):
    check_command(command)


def test_readme_checker_catches_mistakes():
    good = ("accelerate launch --config_file recipes/accelerate_configs/cpu_2proc.yaml "
            "-m nlpkit.scripts.fewshot_qa --config recipes/splinter/fewshot_qa_tiny.yaml")
    check_command(good)
    for bad in [good + " --learning_rat 1e-4",  # argparse would take it as --learning_rate
                good.replace("cpu_2proc", "cpu_3proc"),  # missing accelerate config
                good.replace("fewshot_qa_tiny", "pretrain_tiny"),  # another script's recipe
                good.replace("--config_file", "--config_fil"),  # abbreviated accelerate flag
                good.replace("-m ", "--num_proc 2 -m "),  # abbreviated accelerate flag
                "nlpkit fewshot --config recipes/splinter/fewshot_qa_tiny.yaml",
                "rm -rf outputs"]:
        with pytest.raises(pytest.fail.Exception):
            check_command(bad)


def test_splinter_readme_has_the_paper_numbers_and_the_reproduction():
    readme = RECIPES / "splinter" / "README.md"
    text = readme.read_text()
    for number in ("54.6", "72.7", "82.8"):
        assert number in text
    assert any("fewshot_splinter_base.yaml" in c and "accelerate launch" in c
               for c in readme_commands(readme))
    assert any("cpu_2proc.yaml" in c and "--use_cpu" in c for c in readme_commands(readme))
