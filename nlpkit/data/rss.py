"""Recurring span selection (RSS) pretraining data, as in Splinter (Ram et al., 2021).

In a passage, n-grams (up to ``max_span_length`` tokens, whole words only, not only
stopwords/punctuation) that occur more than once form a group; one occurrence is kept and
every other one is replaced by a single ``[QUESTION]`` token whose labels are the start and
end positions of the kept occurrence. The output feeds ``transformers.SplinterForPreTraining``:
rows hold only their real questions and ``RSSCollator`` pads them per batch, labels with the
model's ``pad_token_id`` (the label its loss ignores; see ``RSSBuilder`` for pad id 1).

Span finding (which n-grams recur, and which occurrences are usable) lives in
``nlpkit.data.rss_spans``; this module tokenizes, masks and batches.

Sequences without any recurring span are dropped (``Dataset.map`` with ``batched=True``
may return fewer rows than it receives).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import random
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any

import numpy as np

from nlpkit.data.rss_spans import find_spans_batch
from nlpkit.data.stopwords import ENGLISH_STOPWORDS

QUESTION_TOKEN = "[QUESTION]"
RSS_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "question_positions",
               "start_positions", "end_positions")


def _skip_table(tokenizer) -> np.ndarray:
    """Per token id: True for stopwords and punctuation (no alphanumeric character)."""
    size = len(tokenizer)
    table = np.ones(size, dtype=bool)
    for i, piece in enumerate(tokenizer.convert_ids_to_tokens(list(range(size)))):
        if piece is None:
            continue
        word = piece.removeprefix("##").lstrip("\u0120\u2581").lower()  # WordPiece/BPE/SP marks
        table[i] = word in ENGLISH_STOPWORDS or not any(ch.isalnum() for ch in word)
    table[list(tokenizer.all_special_ids)] = True
    return table


def _text_seed(seed: int, text: str) -> int:
    """A seed from ``seed`` and the text; stable across processes (unlike ``hash``)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return (seed << 64) | int.from_bytes(digest, "little")


class RSSBuilder:
    """Batched ``Dataset.map`` function: ``text`` column -> SplinterForPreTraining inputs.

    Texts are tokenized without special tokens and cut into windows of at most
    ``max_seq_length - 2`` tokens (at word starts where possible). In each window, the groups
    of ``find_recurring_spans`` are masked: a random occurrence is kept and the others become
    ``[QUESTION]``. If the groups hold more than ``max_questions`` questions, groups are taken
    in random order while they fit. Randomness comes from ``seed`` and a hash of the text, so
    results do not depend on batching or ``num_proc``. Windows without questions are dropped.

    Each row holds only its real questions (1 to ``max_questions``, in position order):
    ``question_positions`` (where each ``[QUESTION]`` is) and ``start_positions`` /
    ``end_positions`` (the kept occurrence, inclusive, in the masked sequence); ``RSSCollator``
    pads them per batch.

    ``SplinterForPreTraining`` ignores labels equal to ``config.pad_token_id`` (its
    ``CrossEntropyLoss(ignore_index=pad_token_id)``), so a real label at that position would be
    silently lost. ``label_pad_id`` (default: the tokenizer's ``pad_token_id``, which must equal
    the model's) guards against it: with BERT-style pad id 0 nothing happens (position 0 is
    ``[CLS]``); with RoBERTa-style pad id 1, an occurrence at position 1 (the window's first
    token) is never the kept one, another occurrence of its group is kept instead; if that
    one also lands on the pad position the group is left unmasked.

    With ``debug=True`` two extra columns are returned per row: ``source_ids`` (the window's
    token ids before masking) and ``masked_spans`` (``[start, end)`` in ``source_ids`` of the
    occurrence each question replaced, in question order).
    """

    def __init__(self, tokenizer, max_seq_length: int = 512, max_span_length: int = 10,
                 max_questions: int = 30, seed: int = 0, *, debug: bool = False,
                 label_pad_id: int | None = None):
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"RSSBuilder needs a fast tokenizer (for word_ids()); got "
                f"{type(tokenizer).__name__}. Load it with AutoTokenizer.from_pretrained(...).")
        question_id = tokenizer.convert_tokens_to_ids(QUESTION_TOKEN)
        if question_id is None or question_id == tokenizer.unk_token_id:
            raise ValueError(
                f"The tokenizer has no {QUESTION_TOKEN} token. Add it with "
                f'tokenizer.add_special_tokens({{"additional_special_tokens": '
                f'["{QUESTION_TOKEN}"]}})'
                " and resize the model's embeddings (model.resize_token_embeddings(len(tokenizer)))"
                f" and set config.question_token_id to tokenizer.convert_tokens_to_ids("
                f'"{QUESTION_TOKEN}").')
        if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
            raise ValueError("RSSBuilder needs a tokenizer with cls and sep tokens (BERT-style).")
        if max_seq_length < 3 or max_span_length < 1 or max_questions < 1:
            raise ValueError("max_seq_length must be >= 3, max_span_length and max_questions >= 1.")
        self.tokenizer = tokenizer
        self.max_seq_length, self.max_span_length = max_seq_length, max_span_length
        self.max_questions, self.seed, self.debug = max_questions, seed, debug
        self.question_token_id = question_id
        if label_pad_id is None:
            label_pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.label_pad_id = label_pad_id
        self.skip = _skip_table(tokenizer)

    def tokenize(self, texts: list[str]
                 ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Tokenize ``texts`` (no special tokens) and cut them into windows.

        Returns ``(tokens, word_start, windows)``: the token ids of all texts concatenated,
        whether each token starts a word, and ``(text index, start, end)`` per window.
        """
        enc = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False,
                             return_token_type_ids=False, verbose=False)
        lengths = [len(ids) for ids in enc["input_ids"]]
        total = sum(lengths)
        tokens = np.fromiter(chain.from_iterable(enc["input_ids"]), np.int64, total)
        try:
            words = np.fromiter(chain.from_iterable(e.word_ids for e in enc.encodings), np.int64,
                                total)
        except TypeError:  # None: a special token written in the text
            words = np.fromiter((-1 if w is None else w for w in chain.from_iterable(
                e.word_ids for e in enc.encodings)), np.int64, total)
        word_start = np.ones(total, dtype=bool)
        word_start[1:] = (words[1:] != words[:-1]) | (words[1:] < 0)
        starts = np.cumsum([0] + lengths)
        word_start[starts[:-1][np.array(lengths) > 0]] = True
        width = self.max_seq_length - 2
        windows = []
        for i, (a, b) in enumerate(zip(starts[:-1].tolist(), starts[1:].tolist())):
            while b - a > width:  # cut at the last word start that fits
                inner = np.flatnonzero(word_start[a + 1:a + width + 1])
                cut = a + 1 + int(inner[-1]) if len(inner) else a + width
                windows.append((i, a, cut))
                a = cut
            if b > a:
                windows.append((i, a, b))
        return tokens, word_start, windows

    def spans_in_windows(self, tokens: np.ndarray, word_start: np.ndarray,
                         windows: list[tuple[int, int, int]]) -> list[list[tuple[int, list[int]]]]:
        """``find_recurring_spans`` of every window at once (positions relative to the window)."""
        if not windows:
            return []
        _, starts, ends = zip(*windows)  # (tuple comparisons below: no Python-level loop)
        bounds = starts + ends[-1:]
        if bounds[0] != 0 or bounds[-1] != len(tokens) or starts[1:] != ends[:-1]:
            index = np.concatenate([np.arange(a, b) for _, a, b in windows])  # not contiguous
            tokens, word_start = tokens[index], word_start[index]
            bounds = np.array([0] + [b - a for _, a, b in windows], dtype=np.int64).cumsum()
        return find_spans_batch(tokens, word_start, self.skip[tokens], np.asarray(bounds),
                                 self.max_span_length)

    def find_spans(self, texts: list[str]):
        """Tokenize ``texts`` and find span groups per window.

        Returns ``(token list, windows as (text index, start, end), groups per window)``.
        """
        tokens, word_start, windows = self.tokenize(texts)
        return tokens.tolist(), windows, self.spans_in_windows(tokens, word_start, windows)

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        texts = [t for t in batch["text"] if t is not None and t.strip()]
        columns = RSS_COLUMNS + (("source_ids", "masked_spans") if self.debug else ())
        out: dict[str, list] = {name: [] for name in columns}
        if not texts:
            return out
        tokens, windows, groups = self.find_spans(texts)
        window_index: dict[int, int] = defaultdict(int)
        for (text_index, a, b), window_groups in zip(windows, groups):
            part = window_index[text_index]
            window_index[text_index] += 1
            if window_groups:
                rng = random.Random(_text_seed(self.seed, texts[text_index]) + part)
                self._mask(tokens[a:b], window_groups, rng, out)
        return out

    def _mask(self, ids: list[int], groups, rng: random.Random, out: dict[str, list]) -> None:
        if sum(len(occ) - 1 for _, occ in groups) > self.max_questions:
            groups = list(groups)
            rng.shuffle(groups)
        chosen, budget = [], self.max_questions  # [length, occurrences, kept index, re-chosen]
        for k, occ in groups:
            if len(occ) - 1 <= budget:
                chosen.append([k, occ, rng.randrange(len(occ)), False])
                budget -= len(occ) - 1
        while True:
            masked, kept_start = _layout(chosen)
            # A label equal to label_pad_id is ignored by the loss: keep another occurrence
            # instead, or drop the group if that one lands there too (only when pad id >= 1).
            clash = next((g for g, (k, _, _, _) in enumerate(chosen)
                          if self.label_pad_id in (kept_start[g], kept_start[g] + k - 1)), None)
            if clash is None:
                break
            k, occ, keep, rechosen = chosen[clash]
            if rechosen:
                del chosen[clash]
            else:
                chosen[clash][2:] = [rng.choice([j for j in range(len(occ)) if j != keep]), True]
        if not masked:
            return
        new_ids, questions, cursor = [self.tokenizer.cls_token_id], [], 0
        for p, k, g in masked:
            new_ids.extend(ids[cursor:p])
            questions.append((len(new_ids), g))
            new_ids.append(self.question_token_id)
            cursor = p + k
        new_ids.extend(ids[cursor:])
        new_ids.append(self.tokenizer.sep_token_id)
        out["input_ids"].append(new_ids)
        out["attention_mask"].append([1] * len(new_ids))
        out["token_type_ids"].append([0] * len(new_ids))
        out["question_positions"].append([q for q, _ in questions])
        out["start_positions"].append([kept_start[g] for _, g in questions])
        out["end_positions"].append([kept_start[g] + chosen[g][0] - 1 for _, g in questions])
        if self.debug:
            out["source_ids"].append(list(ids))
            out["masked_spans"].append([[p, p + k] for p, k, _ in masked])


def _layout(chosen) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Masked occurrences ``(position, length, group)`` in order, and each group's kept start
    in the masked sequence (1 for [CLS] + position - tokens removed before it)."""
    masked = sorted((p, k, g) for g, (k, occ, keep, _) in enumerate(chosen)
                    for j, p in enumerate(occ) if j != keep)
    starts = [p for p, _, _ in masked]
    removed = [0, *accumulate(k - 1 for _, k, _ in masked)]  # removed before masked[i]
    kept_start = [1 + occ[keep] - removed[bisect_left(starts, occ[keep])]
                  for _, occ, keep, _ in chosen]
    return masked, kept_start


def _jsonl_text_field(path: str, text_column: str) -> str:
    """Check every line of a JSONL file parses; return the field holding the passage."""
    fields: set[str] = set()
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {line_number}: malformed JSON ({err.msg}, "
                                 f"column {err.colno}).") from None
            if not isinstance(record, dict):
                raise TypeError(f"{path}, line {line_number}: expected a JSON object.")
            fields.update(name for name in (text_column, "context") if name in record)
    for name in (text_column, "context"):
        if name in fields:
            return name
    raise ValueError(f"{path}: no record has a '{text_column}' or 'context' field.")


def load_text_corpus(source: str, streaming: bool = False, text_column: str = "text"):
    """Load passages as a (Iterable)Dataset with a ``text`` column; empty passages removed.

    ``source`` is a folder (searched recursively) or a single file:

    * ``.txt``: one passage per non-empty line;
    * ``.jsonl``: one JSON object per line, passage in ``text_column`` (default ``text``),
      or in ``context`` when no record has it (SQuAD-style files); records with neither,
      such as a ``{"header": ...}`` line, are skipped. Every line is parsed once up front so
      a malformed line is reported with its file and line number.

    Anything else is taken as a Hub dataset id (split ``train``, column ``text_column``).
    """
    import datasets

    from nlpkit.data.loading import load_hub_dataset

    if os.path.exists(source):
        files = [source] if os.path.isfile(source) else sorted(
            glob.glob(os.path.join(source, "**", "*.txt"), recursive=True)
            + glob.glob(os.path.join(source, "**", "*.jsonl"), recursive=True))
        if not files or any(not f.endswith((".txt", ".jsonl")) for f in files):
            raise ValueError(f"{source}: expected .txt or .jsonl files (found {files[:3]}).")
        by_field = defaultdict(list)
        for path in files:
            field = "text" if path.endswith(".txt") else _jsonl_text_field(path, text_column)
            by_field[("text" if path.endswith(".txt") else "json", field)].append(path)
        parts = []
        for (builder, field), paths in by_field.items():
            part = datasets.load_dataset(builder, data_files=paths, split="train",
                                         streaming=streaming)
            part = part.select_columns([field])
            parts.append(part.rename_column(field, "text") if field != "text" else part)
        dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    else:
        dataset = load_hub_dataset(source, split="train", streaming=streaming)
        if text_column != "text":
            dataset = dataset.rename_column(text_column, "text")
        dataset = dataset.select_columns(["text"])
    return dataset.filter(_non_empty, batched=True)


def _non_empty(batch: dict[str, list]) -> list[bool]:
    return [t is not None and bool(t.strip()) for t in batch["text"]]


def build_rss_dataset(dataset, builder: RSSBuilder, num_proc: int | None = None):
    """Map a text (Iterable)Dataset to RSS rows; streaming keeps corpora out of memory."""
    import datasets

    if isinstance(dataset, datasets.IterableDataset):
        columns = dataset.column_names or list(next(iter(dataset)).keys())
        return dataset.map(builder, batched=True, remove_columns=columns)
    return dataset.map(builder, batched=True, remove_columns=dataset.column_names,
                       num_proc=num_proc, desc="Recurring span selection")


@dataclass
class RSSCollator:
    """Pads RSS rows into ``torch.long`` tensors for ``SplinterForPreTraining``.

    ``input_ids`` are padded with ``pad_token_id``; ``attention_mask``/``token_type_ids``
    with 0. The question columns are padded to the most questions in the batch:
    ``question_positions`` with 0 (it points at ``[CLS]``) and ``start_positions`` /
    ``end_positions`` with ``label_pad_id``, which must be the model's
    ``config.pad_token_id``: the label its loss ignores (1 for RoBERTa-style models).
    """

    pad_token_id: int = 0
    pad_to_multiple_of: int | None = None
    label_pad_id: int = 0

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        num_questions = max(1, max(len(f["question_positions"]) for f in features))
        batch = {}
        for name, size, value in (
                ("input_ids", length, self.pad_token_id), ("attention_mask", length, 0),
                ("token_type_ids", length, 0), ("question_positions", num_questions, 0),
                ("start_positions", num_questions, self.label_pad_id),
                ("end_positions", num_questions, self.label_pad_id)):
            batch[name] = torch.tensor(
                [list(f[name]) + [value] * (size - len(f[name])) for f in features],
                dtype=torch.long)
        return batch
