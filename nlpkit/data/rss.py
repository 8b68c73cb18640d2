"""Recurring span selection (RSS) pretraining data, as in Splinter (Ram et al., 2021).

In a passage, n-grams (up to ``max_span_length`` tokens, whole words only, not only
stopwords/punctuation) that occur more than once form a group; one occurrence is kept and
every other one is replaced by a single ``[QUESTION]`` token whose labels are the start and
end positions of the kept occurrence. The output feeds ``transformers.SplinterForPreTraining``.

Span finding (``find_recurring_spans``) is deterministic and is defined exactly as the
original pairwise algorithm, written out in ``benchmarks/rss_speed.py``:

* an occurrence of an n-gram at ``p`` of length ``k`` is *valid* when ``word_start[p]`` and
  position ``p + k`` is the passage end or a word start;
* every pair ``p < q`` of word-start positions with equal tokens is extended to its longest
  common match (at most ``max_span_length``), then shortened to the longest length at which
  both occurrences end at a word boundary; if that span is not all ``skip`` tokens, its
  n-gram is a *candidate* and its group is every valid occurrence of that n-gram;
* groups are taken longest first (ties: earliest first occurrence); an occurrence overlapping
  an already selected one (or an earlier usable one of its own group) is not usable; a group
  is selected when it has at least two usable occurrences.

The implementation finds the same groups for a whole batch at once with numpy: n-grams are
given exact ids level by level (an n-gram can only recur if its prefix does), and Python
only loops over the few candidate groups in the final greedy selection.

Sequences without any recurring span are dropped (``Dataset.map`` with ``batched=True``
may return fewer rows than it receives).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from nlpkit.data.stopwords import ENGLISH_STOPWORDS

QUESTION_TOKEN = "[QUESTION]"
RSS_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "question_positions",
               "start_positions", "end_positions")


def _find_spans_batch(tokens: np.ndarray, word_start: np.ndarray, skip: np.ndarray,
                      offsets: np.ndarray, max_span_length: int) -> list[list[tuple[int, list[int]]]]:
    """``find_recurring_spans`` for many passages concatenated; ``offsets`` has P + 1 entries.

    Returns, per passage, the selected groups with positions relative to the passage start.
    """
    n_total, num_passages = len(tokens), len(offsets) - 1
    result: list[list[tuple[int, list[int]]]] = [[] for _ in range(num_passages)]
    if n_total == 0:
        return result
    lengths = np.diff(offsets)
    pid = np.repeat(np.arange(num_passages, dtype=np.int64), lengths)
    end = np.repeat(offsets[1:], lengths)
    boundary = np.ones(n_total + 1, dtype=bool)
    boundary[:n_total] = word_start
    boundary[offsets[1:]] = True  # a passage end is a word boundary
    nonskip_cum = np.concatenate([[0], np.cumsum(~skip)])
    tokens = tokens - tokens.min()
    vocab = int(tokens.max()) + 1

    # Level k: word-start positions whose k-gram occurs at >= 2 word starts of its passage.
    # ``gid`` is an exact dense id of the (passage, k-gram); no hashing, so no collisions.
    levels = []  # (k, positions of valid occurrences of valid-recurring n-grams, local ids)
    pos = np.flatnonzero(word_start)
    gid = pid[pos]
    for k in range(1, max_span_length + 1):
        inside = pos + k <= end[pos]
        pos, gid = pos[inside], gid[inside]
        if len(pos) < 2:
            break
        _, inv, counts = np.unique(gid * vocab + tokens[pos + k - 1], return_inverse=True,
                                   return_counts=True)
        recurring = counts[inv] >= 2
        pos, gid = pos[recurring], inv[recurring]
        if len(pos) == 0:
            break
        valid = boundary[pos + k]
        valid_count = np.bincount(gid[valid], minlength=len(counts))
        keep = valid & (valid_count[gid] >= 2)
        levels.append((k, pos[keep], gid[keep], len(counts)))

    # Candidates: a pair of valid occurrences is "maximal" unless both are also valid
    # occurrences of one longer recurring n-gram. ``longer_ids[p, j]`` is the id of the
    # valid recurring (j + 1)-gram at p (or -1).
    longer_ids = np.full((n_total, max_span_length), -1, dtype=np.int64)
    id_offset = 0
    for k, rpos, rgid, n_ids in levels:
        longer_ids[rpos, k - 1] = rgid + id_offset
        id_offset += n_ids
    cand_parts = []
    id_offset = 0
    for k, rpos, rgid, n_ids in levels:
        rgid_global = rgid + id_offset
        id_offset += n_ids
        ext = (longer_ids[rpos, k:] >= 0).any(axis=1) if k < max_span_length else \
            np.zeros(len(rpos), dtype=bool)
        eligible = nonskip_cum[rpos + k] > nonskip_cum[rpos]
        is_cand = np.bincount(rgid[eligible & ~ext], minlength=n_ids) > 0
        # Groups where every occurrence extends further: check all pairs exactly.
        unsure = eligible & ~is_cand[rgid]
        if unsure.any():
            is_cand |= _any_maximal_pair(rpos[unsure], rgid[unsure], k, longer_ids, n_ids)
        take = is_cand[rgid]
        cand_parts.append((np.full(take.sum(), k), rpos[take], rgid_global[take]))
    if not cand_parts:
        return result
    klen = np.concatenate([c[0] for c in cand_parts])
    cpos = np.concatenate([c[1] for c in cand_parts])
    ctype = np.concatenate([c[2] for c in cand_parts])
    if len(cpos) == 0:
        return result
    first = np.full(id_offset, n_total, dtype=np.int64)
    np.minimum.at(first, ctype, cpos)
    order = np.lexsort((cpos, first[ctype], -klen))  # positions are global: passages apart
    cpos, ctype, klen = cpos[order], ctype[order], klen[order]
    cut = np.flatnonzero(np.diff(ctype)) + 1
    starts = np.concatenate([[0], cut]).tolist()
    stops = np.concatenate([cut, [len(ctype)]]).tolist()

    # Greedy longest-first selection; ``used`` is shared by all passages (disjoint ranges).
    used = bytearray(n_total)
    ones = [b"\x01" * k for k in range(max_span_length + 1)]
    pos_list, k_list, pid_list = cpos.tolist(), klen.tolist(), pid[cpos].tolist()
    base = offsets.tolist()
    for a, b in zip(starts, stops):
        k = k_list[a]
        usable, last_end = [], -1
        for p in pos_list[a:b]:
            if p >= last_end and used.find(1, p, p + k) < 0:
                usable.append(p)
                last_end = p + k
        if len(usable) >= 2:
            for p in usable:
                used[p:p + k] = ones[k]
            passage = pid_list[a]
            result[passage].append((k, [p - base[passage] for p in usable]))
    return result


def _any_maximal_pair(pos: np.ndarray, gid: np.ndarray, k: int, longer_ids: np.ndarray,
                      n_ids: int) -> np.ndarray:
    """For groups of occurrences (``gid``), whether some pair shares no longer valid n-gram."""
    order = np.argsort(gid, kind="stable")
    pos, gid = pos[order], gid[order]
    counts = np.bincount(gid, minlength=n_ids)
    first = np.cumsum(counts) - counts
    rank = np.arange(len(pos)) - first[gid]
    n_after = counts[gid] - 1 - rank
    left = np.repeat(np.arange(len(pos)), n_after)
    step = np.arange(len(left)) - np.repeat(np.cumsum(n_after) - n_after, n_after)
    right = left + 1 + step
    ids_left, ids_right = longer_ids[pos[left], k:], longer_ids[pos[right], k:]
    shared = ((ids_left == ids_right) & (ids_left >= 0)).any(axis=1)
    return np.bincount(gid[left[~shared]], minlength=n_ids) > 0


def find_recurring_spans(token_ids, word_start, skip,
                         max_span_length: int = 10) -> list[tuple[int, list[int]]]:
    """Selected recurring span groups of one passage, longest first.

    Returns ``(span_length, sorted start positions of the usable occurrences)`` per group;
    see the module docstring for the exact definition. Deterministic (no randomness).
    """
    tokens = np.asarray(token_ids, dtype=np.int64)
    offsets = np.array([0, len(tokens)], dtype=np.int64)
    return _find_spans_batch(tokens, np.asarray(word_start, dtype=bool),
                             np.asarray(skip, dtype=bool), offsets, max_span_length)[0]


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

    With ``debug=True`` two extra columns are returned per row: ``source_ids`` (the window's
    token ids before masking) and ``masked_spans`` (``[start, end)`` in ``source_ids`` of the
    occurrence each question replaced).
    """

    def __init__(self, tokenizer, max_seq_length: int = 512, max_span_length: int = 10,
                 max_questions: int = 30, seed: int = 0, *, debug: bool = False):
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"RSSBuilder needs a fast tokenizer (for word_ids()); got "
                f"{type(tokenizer).__name__}. Load it with AutoTokenizer.from_pretrained(...).")
        question_id = tokenizer.convert_tokens_to_ids(QUESTION_TOKEN)
        if question_id is None or question_id == tokenizer.unk_token_id:
            raise ValueError(
                f"The tokenizer has no {QUESTION_TOKEN} token. Add it with "
                f'tokenizer.add_special_tokens({{"additional_special_tokens": ["{QUESTION_TOKEN}"]}})'
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
        self.skip = _skip_table(tokenizer)

    def find_spans(self, texts: list[str]):
        """Tokenize ``texts`` and find span groups per window.

        Returns ``(token list, windows as (text index, start, end), groups per window)``.
        """
        enc = self.tokenizer(texts, add_special_tokens=False, return_attention_mask=False,
                             return_token_type_ids=False, verbose=False)
        lengths = [len(ids) for ids in enc["input_ids"]]
        total = sum(lengths)
        tokens = np.fromiter(chain.from_iterable(enc["input_ids"]), np.int64, total)
        words = np.array([-1 if w is None else w for w in
                          chain.from_iterable(e.word_ids for e in enc.encodings)], np.int64)
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
        offsets = np.array([0] + [b - a for _, a, b in windows], dtype=np.int64).cumsum()
        groups = _find_spans_batch(tokens, word_start, self.skip[tokens], offsets,
                                   self.max_span_length)
        return tokens.tolist(), windows, groups

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
        masked, kept, budget = [], [], self.max_questions  # masked: (pos, length, group)
        for k, occ in groups:
            if len(occ) - 1 > budget:
                continue
            keep = rng.randrange(len(occ))
            kept.append((occ[keep], k))
            masked.extend((p, k, len(kept) - 1) for j, p in enumerate(occ) if j != keep)
            budget -= len(occ) - 1
        if not masked:
            return
        masked.sort()
        new_ids, questions, cursor = [self.tokenizer.cls_token_id], [], 0
        for p, k, g in masked:
            new_ids.extend(ids[cursor:p])
            questions.append((len(new_ids), g))
            new_ids.append(self.question_token_id)
            cursor = p + k
        new_ids.extend(ids[cursor:])
        new_ids.append(self.tokenizer.sep_token_id)
        # New position of an original position x: 1 ([CLS]) + x - tokens removed before x.
        kept_start = [1 + x - sum(k - 1 for p, k, _ in masked if p < x) for x, _ in kept]
        pad = [0] * (self.max_questions - len(questions))
        out["input_ids"].append(new_ids)
        out["attention_mask"].append([1] * len(new_ids))
        out["token_type_ids"].append([0] * len(new_ids))
        out["question_positions"].append([q for q, _ in questions] + pad)
        out["start_positions"].append([kept_start[g] for _, g in questions] + pad)
        out["end_positions"].append([kept_start[g] + kept[g][1] - 1 for _, g in questions] + pad)
        if self.debug:
            out["source_ids"].append(list(ids))
            out["masked_spans"].append([[p, p + k] for p, k, _ in masked])


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
    with 0; the question/label columns already have ``max_questions`` entries.
    """

    pad_token_id: int = 0
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = {}
        for name, value in (("input_ids", self.pad_token_id), ("attention_mask", 0),
                            ("token_type_ids", 0)):
            batch[name] = torch.tensor(
                [list(f[name]) + [value] * (length - len(f[name])) for f in features])
        for name in RSS_COLUMNS[3:]:
            batch[name] = torch.tensor([list(f[name]) for f in features])
        return batch
