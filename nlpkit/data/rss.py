"""Recurring span selection (RSS) pretraining data, as in Splinter (Ram et al., 2021).

In a passage, n-grams (up to ``max_span_length`` tokens, whole words only, not only
stopwords/punctuation) that occur more than once form a group; one occurrence is kept and
every other one is replaced by a single ``[QUESTION]`` token whose labels are the start and
end positions of the kept occurrence. The output feeds ``transformers.SplinterForPreTraining``:
rows hold only their real questions and ``RSSCollator`` pads them per batch, labels with the
model's ``pad_token_id`` (the label its loss ignores; see ``RSSBuilder`` for pad id 1).

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

``skip`` must depend on the token only (as with the tokenizer's skip table here).

The implementation finds the same groups for a whole batch of passages at once with numpy
(``RSSBuilder.spans_in_windows``; ``benchmarks/rss_speed.py`` compares it with the pairwise
algorithm): n-grams get exact ids level by level (an n-gram can only recur if its prefix
does) from hash tables that check every match, candidates come from each group's occurrences
rather than from all pairs, and the greedy selection decides, per length, every group that
overlaps no earlier undecided group at once. Calling ``find_recurring_spans`` passage by
passage is much slower than one batched call.

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
from itertools import accumulate, chain, pairwise
from typing import Any

import numpy as np

from nlpkit.data.stopwords import ENGLISH_STOPWORDS

QUESTION_TOKEN = "[QUESTION]"
RSS_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "question_positions",
               "start_positions", "end_positions")


# Odd 64-bit multipliers for multiplicative hashing, as signed int64 (numpy wraps on overflow).
_HASH_MULTIPLIERS = tuple(c - (1 << 64) if c >= 1 << 63 else c for c in (
    0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))


def _group_ids(keys: np.ndarray, region_start: np.ndarray, region_mask: np.ndarray, shift: int,
               table: np.ndarray, attempt: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ids for ``keys`` (int64 >= 0), equal exactly when the keys are equal, and each id's count.

    Linear time, no sorting: every key writes its index into a hash-table slot in
    ``[region_start, region_start + region_mask]`` of ``table`` (one power-of-two region per
    passage keeps memory access local; equal keys must share a region) and a key finding an
    equal key in its slot takes that index as its id. Keys finding a different key there (all
    copies of a key land in the same slot, so these are whole groups) are hashed again with
    another multiplier, or sorted when few. Ids are < 2 * len(keys).
    """
    n = len(keys)
    if n < 1024 or attempt == len(_HASH_MULTIPLIERS):
        _, ids, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return ids.reshape(-1), counts
    slot = region_start + (((keys * _HASH_MULTIPLIERS[attempt]) >> shift) & region_mask)
    table[slot] = np.arange(n, dtype=table.dtype)  # any writer may win a slot
    ids = table[slot].astype(np.intp)
    lost = np.flatnonzero(keys[ids] != keys)
    if len(lost) == 0:
        return ids, np.bincount(ids, minlength=n)
    lost_ids, lost_counts = _group_ids(keys[lost], region_start[lost], region_mask[lost], shift,
                                       table, attempt + 1)
    ids[lost] = n  # counted apart
    counts = np.bincount(ids, minlength=n + 1)[:n]
    ids[lost] = n + lost_ids
    return ids, np.concatenate([counts, lost_counts])


def _find_spans_batch(tokens: np.ndarray, word_start: np.ndarray, skip: np.ndarray,
                      offsets: np.ndarray,
                      max_span_length: int) -> list[list[tuple[int, list[int]]]]:
    """``find_recurring_spans`` for many passages concatenated; ``offsets`` has P + 1 entries.

    Returns, per passage, the selected groups with positions relative to the passage start.
    (Filters use index arrays rather than boolean masks: much faster in numpy.)
    """
    n_total, num_passages = len(tokens), len(offsets) - 1
    result: list[list[tuple[int, list[int]]]] = [[] for _ in range(num_passages)]
    if n_total == 0:
        return result
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    boundary = np.ones(n_total + 1, dtype=bool)
    boundary[:n_total] = word_start
    boundary[offsets[1:]] = True  # a passage end is a word boundary
    tokens = tokens - tokens.min()
    vocab = int(tokens.max()) + 1
    passage_id = np.repeat(np.arange(num_passages), lengths)
    passage_start = np.repeat(offsets[:-1], lengths)
    passage_end = np.repeat(offsets[1:], lengths)
    # Hash table: per passage a power-of-two region of 4 to 8 slots per token.
    bits = np.ceil(np.log2(np.maximum(4 * lengths, 2))).astype(np.int64)
    region_start = np.concatenate([[0], np.cumsum(1 << bits)])
    table = np.empty(int(region_start[-1]), dtype=np.int32 if n_total < 2**31 else np.int64)
    shift = 64 - max(int(bits.max()), 1)
    region_start = np.repeat(region_start[:-1], lengths)
    region_mask = np.repeat((1 << bits) - 1, lengths)

    # Level k: word-start positions whose k-gram occurs at >= 2 word starts of its passage
    # (an n-gram can only recur if its prefix does); ``gid`` identifies (passage, k-gram)
    # exactly. Kept per level: the valid occurrences of n-grams that have >= 2 of them.
    levels = []  # (k, positions (ascending), group ids, number of ids)
    pos = np.flatnonzero(word_start)
    gid = passage_id[pos]
    for k in range(1, max_span_length + 1):
        if k > 1:
            inside = np.flatnonzero(pos + k <= passage_end[pos])
            pos, gid = pos[inside], gid[inside]
        if len(pos) < 2:
            break
        gid, counts = _group_ids(gid * vocab + tokens[pos + (k - 1)], region_start[pos],
                                 region_mask[pos], shift, table)
        recurring = np.flatnonzero(counts[gid] >= 2)
        pos, gid = pos[recurring], gid[recurring]
        if len(pos) == 0:
            break
        valid = boundary[pos + k]
        valid_count = np.bincount(gid.compress(valid), minlength=len(counts))
        keep = np.flatnonzero(valid & (valid_count[gid] >= 2))
        levels.append((k, pos[keep], gid[keep], len(counts)))

    # Candidates: n-grams, not all skip, with a pair of valid occurrences that are not both
    # valid occurrences of one longer such n-gram (for that pair the greedy match, shortened
    # to word boundaries, ends here). A group with an occurrence that has no longer valid
    # recurring n-gram at all has such a pair; otherwise pairs are checked one by one.
    # Groups are renumbered 0.. in order of first occurrence (the selection order).
    longest = np.zeros(n_total, dtype=np.int8)
    for k, vpos, _, _ in levels:
        longest[vpos] = k
    nonskip_cum = np.concatenate([[0], np.cumsum(~skip)])
    candidates = []
    for k, vpos, vgid, n_ids in levels:
        eligible = np.flatnonzero(nonskip_cum[vpos + k] > nonskip_cum[vpos])
        if len(eligible) == 0:
            continue
        epos, egid = vpos[eligible], vgid[eligible]
        index = np.arange(len(epos))
        first = np.full(n_ids, len(epos))
        np.minimum.at(first, egid, index)
        first = first[egid]
        is_first = first == index
        egid = (np.cumsum(is_first) - 1)[first]
        n_groups = int(np.count_nonzero(is_first))
        is_cand = np.bincount(egid.compress(longest[epos] == k), minlength=n_groups) > 0
        unsure = np.flatnonzero(~is_cand[egid])
        if len(unsure):
            is_cand |= _has_separate_pair(epos[unsure], egid[unsure], k, n_groups, tokens,
                                          boundary, passage_end, max_span_length)
        take = np.flatnonzero(is_cand[egid])
        if len(take):
            candidates.append((k, epos[take], egid[take], n_groups))

    # Greedy selection, longest first, then by first occurrence; per passage, positions
    # relative to the passage start.
    used = np.zeros(n_total, dtype=bool)
    for k, cpos, cgid, n_groups in reversed(candidates):
        sel_pos, sel_gid = _select_level(cpos, cgid, k, n_groups, used)
        if len(sel_pos) == 0:
            continue
        key = np.sort(sel_gid * n_total + sel_pos)  # by group (first occurrence), then position
        sel_gid = key // n_total
        sel_pos = key - sel_gid * n_total
        bounds = np.flatnonzero(np.diff(sel_gid)) + 1
        passages = passage_id[sel_pos[np.concatenate([[0], bounds])]].tolist()
        relative = (sel_pos - passage_start[sel_pos]).tolist()
        bounds = [0] + bounds.tolist() + [len(relative)]
        for p, a, b in zip(passages, bounds[:-1], bounds[1:]):
            result[p].append((k, relative[a:b]))
    return result


def _select_level(pos: np.ndarray, gid: np.ndarray, k: int, n_groups: int,
                  used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The greedy rule for the groups of one length ``k`` (ids in selection order, positions
    ascending), marking what it selects in ``used``.

    Sequentially, a group's usable occurrences are those overlapping nothing used and not its
    previous usable one; it is selected with >= 2. Here, in rounds: a group none of whose
    remaining occurrences overlaps one of an earlier undecided group is decided (they do not
    overlap each other, so all at once), then occurrences overlapping what was selected drop.
    """
    selected_pos, selected_gid = [], []
    while len(pos):
        free = ~used[pos]
        for j in range(1, k):
            free &= ~used[pos + j]
        free = np.flatnonzero(free)
        pos, gid = pos[free], gid[free]
        if len(pos) == 0:
            break
        waits = np.zeros(n_groups, dtype=bool)
        self_overlap = None
        for d in range(1, k):  # pairs of occurrences d apart in position order that overlap
            pair = np.flatnonzero(pos[d:] < pos[:-d] + k)
            if len(pair) == 0:
                break  # positions are distinct and ascending: none further apart either
            a, b = gid[pair], gid[pair + d]
            waits[np.maximum(a, b).compress(a != b)] = True
            if (a == b).any():
                self_overlap = np.zeros(n_groups, dtype=bool) if self_overlap is None \
                    else self_overlap
                self_overlap[a.compress(a == b)] = True
        now = np.flatnonzero(~waits[gid])
        now_pos, now_gid = pos[now], gid[now]
        if self_overlap is not None and self_overlap[now_gid].any():
            now_pos, now_gid = _drop_self_overlaps(now_pos, now_gid, k, self_overlap)
        take = np.flatnonzero(np.bincount(now_gid, minlength=n_groups)[now_gid] >= 2)
        if len(take):
            selected_pos.append(now_pos[take])
            selected_gid.append(now_gid[take])
            used[(now_pos[take][:, None] + np.arange(k)).reshape(-1)] = True
        later = np.flatnonzero(waits[gid])
        pos, gid = pos[later], gid[later]
    if not selected_pos:
        return pos[:0], gid[:0]
    return np.concatenate(selected_pos), np.concatenate(selected_gid)


def _drop_self_overlaps(pos: np.ndarray, gid: np.ndarray, k: int,
                        self_overlap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop occurrences overlapping the previous kept one of the same group (few groups)."""
    keep = np.ones(len(pos), dtype=bool)
    last_end: dict[int, int] = {}
    for i in np.flatnonzero(self_overlap[gid]).tolist():
        g, p = int(gid[i]), int(pos[i])
        if p < last_end.get(g, -1):
            keep[i] = False
        else:
            last_end[g] = p + k
    keep = np.flatnonzero(keep)
    return pos[keep], gid[keep]


def _has_separate_pair(pos: np.ndarray, gid: np.ndarray, k: int, n_ids: int, tokens: np.ndarray,
                       boundary: np.ndarray, passage_end: np.ndarray,
                       max_span_length: int) -> np.ndarray:
    """Per group id: whether two of its occurrences (``pos``, all valid at length ``k``) share
    no valid occurrence of a longer n-gram, i.e. their match never again ends at a word
    boundary for both before it breaks (or reaches ``max_span_length``)."""
    order = np.argsort(gid, kind="stable")
    pos, gid = pos[order], gid[order]
    counts = np.bincount(gid, minlength=n_ids)
    first = np.cumsum(counts) - counts
    rank = np.arange(len(pos)) - first[gid]
    n_after = counts[gid] - 1 - rank
    left = np.repeat(np.arange(len(pos)), n_after)
    right = left + 1 + np.arange(len(left)) - np.repeat(np.cumsum(n_after) - n_after, n_after)
    p, q = pos[left], pos[right]  # p < q, same passage
    q_end = passage_end[q]
    last = len(tokens) - 1
    matching = np.ones(len(p), dtype=bool)
    shared = np.zeros(len(p), dtype=bool)
    for j in range(k, max_span_length):  # does the match extend to length j + 1?
        matching &= (q + j < q_end) & (tokens[np.minimum(p + j, last)]
                                       == tokens[np.minimum(q + j, last)])
        shared |= matching & boundary[np.minimum(p + j + 1, last + 1)] \
            & boundary[np.minimum(q + j + 1, last + 1)]
        if not matching.any():
            break
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
        bounds = [a for _, a, _ in windows] + [windows[-1][2]]
        if bounds[0] != 0 or bounds[-1] != len(tokens) or any(
                b != a for (_, _, b), (_, a, _) in pairwise(windows)):
            index = np.concatenate([np.arange(a, b) for _, a, b in windows])  # not contiguous
            tokens, word_start = tokens[index], word_start[index]
            bounds = np.array([0] + [b - a for _, a, b in windows], dtype=np.int64).cumsum()
        return _find_spans_batch(tokens, word_start, self.skip[tokens], np.asarray(bounds),
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
