"""Training arguments shared by nlpkit's scripts: Trainer's own plus what every run needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments


@dataclass
class NlpkitTrainingArguments(TrainingArguments):
    """``TrainingArguments`` with research-run defaults (no trackers, checkpoints kept small)."""

    output_dir: str = field(default="outputs/run", metadata={"help": "Where checkpoints, the "
                            "final model and results.json go."})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Trackers to "
                                              "log to (e.g. 'wandb', 'tensorboard')."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept."})
    logging_steps: float = field(default=10, metadata={"help": "Log every N steps."})
    min_train_steps: int = field(default=0, metadata={"help": "Train for max(num_train_epochs, "
                                 "min_train_steps): the paper's few-shot rule is max(10 epochs, 200 steps)."})
    auto_resume: bool = field(default=True, metadata={"help": "Resume from the last checkpoint in "
                              "output_dir when there is one."})
    results_file: str = field(default="results.json", metadata={"help": "Results file name "
                              "inside output_dir."})

    def __post_init__(self):
        super().__post_init__()
        if self.min_train_steps < 0:
            raise ValueError(f"min_train_steps must be >= 0, got {self.min_train_steps}.")
