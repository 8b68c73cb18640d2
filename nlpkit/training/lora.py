"""Optional LoRA adapters (peft) for the span-selection models."""

from __future__ import annotations

from dataclasses import dataclass, field

# Heads that must stay fully trainable next to the adapters.
HEAD_MODULES = {"standard": ["qa_outputs"], "qass": ["splinter_qass"]}


@dataclass
class LoraArguments:
    use_lora: bool = field(default=False, metadata={"help": "Train LoRA adapters instead of "
                           "all weights (the span head stays fully trainable)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.1, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: list[str] = field(default_factory=lambda: ["query", "value"],
                                           metadata={"help": "Linear layers to adapt."})

    def __post_init__(self):
        if self.use_lora and self.lora_r <= 0:
            raise ValueError(f"lora_r must be positive, got {self.lora_r}.")


def maybe_wrap_lora(model, args: LoraArguments, head: str):
    if not args.use_lora:
        return model
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                        target_modules=list(args.lora_target_modules),
                        modules_to_save=HEAD_MODULES[head])
    model = get_peft_model(model, config)
    model.print_trainable_parameters()
    return model
