"""Load tokenizers and models for Splinter-style span selection.

transformers has Splinter (``SplinterForPreTraining``, ``SplinterForQuestionAnswering``) but
no way to start one from a BERT or RoBERTa checkpoint. Their encoders share Splinter's layout,
so the encoder weights are copied over (RoBERTa's position table is shifted: it reserves the
first ``pad_token_id + 1`` rows), a ``[QUESTION]`` token is added to the tokenizer when it lacks
one, and the embeddings are resized.
"""

from __future__ import annotations

import logging

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForQuestionAnswering,
    AutoTokenizer,
    PreTrainedTokenizerBase,
    SplinterConfig,
)

from nlpkit.hub_errors import call_hub

logger = logging.getLogger(__name__)
QUESTION_TOKEN = "[QUESTION]"
_SHARED_CONFIG_FIELDS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
    "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob",
    "max_position_embeddings", "type_vocab_size", "initializer_range", "layer_norm_eps",
    "pad_token_id",
)


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    tokenizer = call_hub("tokenizer", name_or_path, lambda: AutoTokenizer.from_pretrained(name_or_path))
    if not tokenizer.is_fast:
        raise ValueError(f"Tokenizer '{name_or_path}' is not a fast tokenizer; nlpkit needs offsets.")
    return tokenizer


def ensure_question_token(tokenizer: PreTrainedTokenizerBase) -> int:
    """Add ``[QUESTION]`` as a special token when missing; return its id."""
    if QUESTION_TOKEN not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [QUESTION_TOKEN]})
        logger.info("Added %s to the tokenizer (id %d).", QUESTION_TOKEN,
                    tokenizer.convert_tokens_to_ids(QUESTION_TOKEN))
    return tokenizer.convert_tokens_to_ids(QUESTION_TOKEN)


def splinter_config_from(config, question_token_id: int, vocab_size: int) -> SplinterConfig:
    """A SplinterConfig with the encoder shape of ``config`` (BERT/RoBERTa/Splinter)."""
    values = {k: getattr(config, k) for k in _SHARED_CONFIG_FIELDS if hasattr(config, k)}
    if config.model_type in ("roberta", "xlm-roberta", "camembert"):
        values["max_position_embeddings"] -= config.pad_token_id + 1
    if values.get("type_vocab_size", 2) < 2:
        values["type_vocab_size"] = 2
    values.update(vocab_size=vocab_size, question_token_id=question_token_id)
    return SplinterConfig(**values)


def _encoder_state_dict(encoder, source_type: str, pad_token_id: int) -> dict[str, torch.Tensor]:
    state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
    if source_type in ("roberta", "xlm-roberta", "camembert"):
        key = "embeddings.position_embeddings.weight"
        state[key] = state[key][pad_token_id + 1 :]
        type_key = "embeddings.token_type_embeddings.weight"
        if state[type_key].shape[0] < 2:
            state[type_key] = state[type_key].repeat(2, 1)
    return state


def load_splinter(model_class, name_or_path: str, tokenizer: PreTrainedTokenizerBase):
    """``model_class`` (a Splinter head) from a Splinter, BERT or RoBERTa checkpoint."""
    question_id = ensure_question_token(tokenizer)
    config = call_hub("model", name_or_path, lambda: AutoConfig.from_pretrained(name_or_path))
    if config.model_type == "splinter":
        model = call_hub("model", name_or_path, lambda: model_class.from_pretrained(name_or_path))
        if config.question_token_id != question_id:
            raise ValueError(
                f"{name_or_path}: config.question_token_id={config.question_token_id} but the "
                f"tokenizer maps {QUESTION_TOKEN} to {question_id}; use the checkpoint's tokenizer."
            )
    else:
        encoder = call_hub("model", name_or_path, lambda: AutoModel.from_pretrained(name_or_path))
        if encoder.get_input_embeddings().num_embeddings < len(tokenizer):
            encoder.resize_token_embeddings(len(tokenizer))
        model = model_class(splinter_config_from(config, question_id, len(tokenizer)))
        state = _encoder_state_dict(encoder, config.model_type, config.pad_token_id)
        missing, unexpected = model.splinter.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing or unexpected:
            raise ValueError(
                f"{name_or_path} ({config.model_type}) does not match Splinter's encoder: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}."
            )
        logger.info("Initialised %s encoder from %s (%s).", model_class.__name__, name_or_path,
                    config.model_type)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    model.config.question_token_id = question_id
    model.question_token_id = question_id
    return model


def _bert_qa_from_splinter(name_or_path: str, config):
    from transformers import BertConfig, BertForQuestionAnswering, SplinterModel

    encoder = SplinterModel.from_pretrained(name_or_path)
    bert_config = BertConfig(**{k: getattr(config, k) for k in _SHARED_CONFIG_FIELDS})
    model = BertForQuestionAnswering(bert_config)
    missing, unexpected = model.bert.load_state_dict(encoder.state_dict(), strict=False)
    missing = [k for k in missing if not k.startswith("pooler.") and not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"{name_or_path}: Splinter encoder does not fit BERT: {missing[:5]} "
                         f"{unexpected[:5]}")
    return model


def load_span_model(name_or_path: str, tokenizer: PreTrainedTokenizerBase, head: str):
    """The few-shot QA model: ``"standard"`` start/end head or the ``"qass"`` Splinter head."""
    from transformers import SplinterForQuestionAnswering

    if head == "qass":
        return load_splinter(SplinterForQuestionAnswering, name_or_path, tokenizer)
    if head != "standard":
        raise ValueError(f"Unknown head '{head}': use 'standard' or 'qass'.")
    config = call_hub("model", name_or_path, lambda: AutoConfig.from_pretrained(name_or_path))
    if config.model_type == "splinter":
        # transformers maps Splinter to its QASS head; a standard head means a BERT head on
        # the Splinter encoder (e.g. to compare heads on one RSS-pretrained checkpoint).
        model = _bert_qa_from_splinter(name_or_path, config)
    else:
        model = call_hub("model", name_or_path,
                         lambda: AutoModelForQuestionAnswering.from_pretrained(name_or_path))
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return model
