"""Recurring span finding for RSS (Splinter, Ram et al., 2021): which n-grams of a passage
recur, and which of their occurrences can be masked.

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

``skip`` must depend on the token only (as with ``nlpkit.data.rss.RSSBuilder``'s skip table).

The implementation finds the same groups for a whole batch of passages at once with numpy
(``find_spans_batch``, which ``RSSBuilder.spans_in_windows`` calls; ``benchmarks/rss_speed.py`` compares it with the pairwise
algorithm): n-grams get exact ids level by level (an n-gram can only recur if its prefix
does) from hash tables that check every match, candidates come from each group's occurrences
rather than from all pairs, and the greedy selection decides, per length, every group that
overlaps no earlier undecided group at once. Calling ``find_recurring_spans`` passage by
passage is much slower than one batched call.
"""

from __future__ import annotations

import gc
import threading

import numpy as np

# Odd 64-bit multipliers for multiplicative hashing, as signed int64 (numpy wraps on overflow).
_HASH_MULTIPLIERS = tuple(c - (1 << 64) if c >= 1 << 63 else c for c in (
    0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93))
_SCRATCH_MAX = 1 << 24  # entries of the largest work array kept between calls (see _scratch)


_SCRATCH = threading.local()  # per thread: name -> array


def _scratch(name: str, size: int, dtype, arange: bool = False) -> np.ndarray:
    """An array of ``size`` entries (uninitialized, or ``0, 1, ...`` with ``arange``) that is
    kept for the next call in this thread (up to ``_SCRATCH_MAX`` entries).

    For the hash table and the large work arrays of ``_group_ids``: freshly allocated, they
    cost a page fault (the OS zeroing a page) per 4 KiB touched, every call.
    """
    buffers = _SCRATCH.__dict__
    array = buffers.get(name)
    if array is None or array.dtype != dtype or len(array) < size:
        array = np.arange(size, dtype=dtype) if arange else np.empty(size, dtype=dtype)
        if size <= _SCRATCH_MAX:
            buffers[name] = array
    return array[:size]


def _group_ids(keys: np.ndarray, base_shift: int, shift: int, table: np.ndarray,
               attempt: int = 0) -> np.ndarray:
    """Per key (int64 >= 0), the index of one key equal to it (the same one for all equal
    keys): an id that is equal exactly when the keys are equal, and < ``len(keys)``.

    Linear time, no sorting: every key writes its index into the hash-table slot
    ``(key >> base_shift) + (hash(key) >> shift)`` of ``table`` (keys holding a text
    position in their high bits: nearby positions use nearby slots, which keeps memory access
    local) and a key finding an equal key in its slot takes that index as its id. Keys
    finding a different key there (all copies of a key land in the same slot, so these are
    whole groups) are hashed again with another multiplier, or sorted when few.
    """
    n = len(keys)
    if n < 1024 or attempt == len(_HASH_MULTIPLIERS):
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return first[inverse.reshape(-1)]
    # Work arrays kept between calls (see _scratch), written in place with ``out``.
    slot = np.multiply(keys, _HASH_MULTIPLIERS[attempt], out=_scratch("slot", n, np.int64))
    slot >>= shift  # the top bits of a multiplicative hash are the well-mixed ones
    slot &= (1 << (64 - shift)) - 1  # (the shift was arithmetic)
    work = np.right_shift(keys, base_shift, out=_scratch("work", n, np.int64))
    slot += work
    table[slot] = _scratch("arange", n, table.dtype, arange=True)  # any writer may win a slot
    ids = np.take(table, slot, out=_scratch("winner", n, table.dtype), mode="clip")
    ids = ids.astype(np.intp)
    np.take(keys, ids, out=work, mode="clip")
    lost = np.flatnonzero(np.not_equal(work, keys, out=_scratch("lost", n, bool)))
    if len(lost):
        ids[lost] = lost[_group_ids(keys[lost], base_shift, shift, table, attempt + 1)]
    return ids


def find_spans_batch(tokens: np.ndarray, word_start: np.ndarray, skip: np.ndarray,
                      offsets: np.ndarray,
                      max_span_length: int) -> list[list[tuple[int, list[int]]]]:
    """``find_recurring_spans`` for many passages concatenated; ``offsets`` has P + 1 entries.

    Returns, per passage, the selected groups with positions relative to the passage start.
    (Filters use index arrays rather than boolean masks: much faster in numpy. Nothing here
    is per token position of the whole batch unless it has to be: arrays of that size are
    the cost.)
    """
    n_total, num_passages = len(tokens), len(offsets) - 1
    if n_total == 0:
        return [[] for _ in range(num_passages)]
    offsets = np.asarray(offsets, dtype=np.intp)
    lengths = np.diff(offsets)
    boundary = np.ones(n_total + 1, dtype=bool)
    boundary[:n_total] = word_start
    boundary[offsets[1:]] = True  # a passage end is a word boundary
    # Token ids from 0, as int32 where they fit (cheaper to gather); one extra entry, read
    # only by the k-gram running past the end of the batch (which is discarded).
    low, high = int(tokens.min()), int(tokens.max())
    vocab = high - low + 1
    tok = np.zeros(n_total + 1, dtype=np.int32 if vocab < 2**31 else np.int64)
    np.subtract(tokens, low, out=tok[:n_total], casting="unsafe")
    # Level k: word-start positions whose k-gram occurs at >= 2 word starts of its passage
    # (an n-gram can only recur if its prefix does). The key of a k-gram is (rep << bits) |
    # its last token, ``rep`` being a position of its prefix (level 1: the passage start),
    # which identifies (passage, k-gram) exactly. Kept per level: the valid occurrences of
    # n-grams that have >= 2 of them, with group ids (indices into that level's positions).
    bits = max(vocab.bit_length(), 2)  # so 2**bits - 1 is no token: ``no_token`` below
    if bits > 40 or n_total >= 1 << (62 - bits):
        raise ValueError("Too many tokens in one batch for span finding.")
    # Hash table for _group_ids: key >> (bits - 2) is 4 * rep + 0..3, plus a hash below
    # 4 * the longest passage.
    window_bits = max(int(4 * lengths.max() - 1).bit_length(), 1)
    table = _scratch("table", 4 * n_total + (1 << window_bits),
                     np.int32 if n_total < 2**31 else np.int64)
    no_token = (1 << bits) - 1
    levels = []  # (k, positions (ascending), group ids, bound on the ids)
    pos = np.flatnonzero(word_start)
    keys = np.repeat(offsets[:-1] << bits, np.diff(np.searchsorted(pos, offsets)))
    for k in range(1, max_span_length + 1):
        if len(pos) < 2:
            break
        keys |= tok[pos + (k - 1)] if k > 1 else tok[pos]
        if k > 1:
            # Only one k-gram per passage can run past its end (at end - k + 1: its prefix
            # ended there; later positions went at earlier levels). It read the next
            # passage's first token: a key of its own instead, so that it does not recur.
            cross = offsets[1:][lengths >= k] - (k - 1)
            at = np.minimum(np.searchsorted(pos, cross), len(pos) - 1)
            at = at[pos[at] == cross]
            keys[at] = (pos[at] << bits) | no_token
        ids = _group_ids(keys, bits - 2, 64 - window_bits, table)
        recurring = np.flatnonzero((np.bincount(ids, minlength=len(pos)) >= 2)[ids])
        if len(recurring) == 0:
            break
        n_ids = len(pos)
        ids = ids[recurring]
        keys = pos[ids]
        keys <<= bits
        pos = pos[recurring]
        valid = boundary[pos + k]
        keep = np.flatnonzero(valid & (np.bincount(ids.compress(valid), minlength=n_ids) >= 2)[ids])
        levels.append((k, pos[keep], ids[keep], n_ids))

    # Candidates: n-grams, not all skip, with a pair of valid occurrences that are not both
    # valid occurrences of one longer such n-gram (for that pair the greedy match, shortened
    # to word boundaries, ends here). A group with an occurrence that has no longer valid
    # recurring n-gram at all has such a pair; otherwise pairs are checked one by one.
    # A group's id becomes the index of its first occurrence (ids in selection order).
    # The pair checks of all lengths are made at once (one call: fewer, larger numpy calls).
    longest = np.zeros(n_total, dtype=np.int8)
    for k, vpos, _, _ in levels:
        longest[vpos] = k
    nonskip_cum = np.zeros(n_total + 1, dtype=np.int32)
    np.cumsum(~skip, out=nonskip_cum[1:])
    found = []  # (k, positions, group ids, number of groups, is candidate, first global id)
    unsure_pos, unsure_gid, unsure_k = [], [], []
    n_all = 0
    for k, vpos, vgid, n_ids in levels:
        if k == 1:
            eligible = np.flatnonzero(~skip[vpos])
        else:
            eligible = np.flatnonzero(nonskip_cum[vpos + k] > nonskip_cum[vpos])
        if len(eligible) == 0:
            continue
        epos, egid = vpos[eligible], vgid[eligible]
        # New group id: the index of the group's first occurrence (selection order).
        first = np.full(n_ids, len(epos))
        np.minimum.at(first, egid, np.arange(len(epos)))
        egid = first[egid]
        n_groups = len(epos)  # a bound on the ids
        is_cand = np.bincount(egid.compress(longest[epos] == k), minlength=n_groups) > 0
        unsure = np.flatnonzero(~is_cand[egid])
        if len(unsure):
            unsure_pos.append(epos[unsure])
            unsure_gid.append(egid[unsure] + n_all)
            unsure_k.append(np.full(len(unsure), k))
        found.append((k, epos, egid, n_groups, is_cand, n_all))
        n_all += n_groups
    separate = None
    if unsure_pos:
        separate = _has_separate_pair(np.concatenate(unsure_pos), np.concatenate(unsure_gid),
                                      np.concatenate(unsure_k), n_all, tok, boundary, offsets,
                                      max_span_length)
    candidates = []
    for k, epos, egid, n_groups, is_cand, start in found:
        if separate is not None:
            is_cand |= separate[start:start + n_groups]
        take = np.flatnonzero(is_cand[egid])
        if len(take):
            candidates.append((k, epos[take], egid[take], n_groups))

    # Greedy selection, longest first, then by first occurrence. The selected occurrences go
    # into one flat array: each level's groups in selection order (by first occurrence, so by
    # passage too), positions ascending in each group.
    used = np.zeros(n_total, dtype=bool)
    flat, sizes, group_k = [], [], []
    for k, cpos, cgid, n_groups in reversed(candidates):
        sel_pos, sel_gid = _select_level(cpos, cgid, k, n_groups, used)
        if len(sel_pos) == 0:
            continue
        key = np.sort(sel_gid * n_total + sel_pos)  # by group (first occurrence), then position
        bounds = np.flatnonzero(np.diff(key // n_total)) + 1
        flat.append(key % n_total)
        sizes.append(np.diff(bounds, prepend=0, append=len(key)))
        group_k.append(np.full(len(bounds) + 1, k))
    if not flat:
        return [[] for _ in range(num_passages)]
    return _per_passage(np.concatenate(flat), np.concatenate(sizes), np.concatenate(group_k),
                        offsets)


def _per_passage(flat: np.ndarray, sizes: np.ndarray, group_k: np.ndarray,
                 offsets: np.ndarray) -> list[list[tuple[int, list[int]]]]:
    """The result of ``find_spans_batch`` from the selected groups: lengths ``group_k``,
    occurrences ``flat`` (``sizes`` each), longest first, then by first occurrence.

    With as little Python-level work per group as possible (there are many): the groups are
    slices of one list of positions and each passage's list a slice of one list of groups,
    taken by ``map``/``zip`` rather than a loop.
    """
    ends = np.cumsum(sizes)
    starts = ends - sizes
    passage = np.searchsorted(offsets, flat[starts], side="right") - 1
    relative = (flat - np.repeat(offsets[passage], sizes)).tolist()
    order = np.argsort(passage, kind="stable")  # per passage, keeping the selection order
    lengths, starts, ends = group_k[order].tolist(), starts[order].tolist(), ends[order].tolist()
    cuts = np.cumsum(np.bincount(passage, minlength=len(offsets) - 1), dtype=np.intp).tolist()
    # Two new containers per group, none of them garbage: pause the cyclic garbage collector,
    # which otherwise runs (over all tracked objects now and then) every 700 of them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        groups = list(zip(lengths, map(relative.__getitem__, map(slice, starts, ends))))
        return list(map(groups.__getitem__, map(slice, [0] + cuts[:-1], cuts)))
    finally:
        if collecting:
            gc.enable()


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


def _has_separate_pair(pos: np.ndarray, gid: np.ndarray, length: np.ndarray, n_ids: int,
                       tokens: np.ndarray, boundary: np.ndarray, offsets: np.ndarray,
                       max_span_length: int) -> np.ndarray:
    """Per group id: whether two of its occurrences (``pos``, all valid at the group's
    ``length``) share no valid occurrence of a longer n-gram, i.e. their match never again
    ends at a word boundary for both before it breaks (or reaches ``max_span_length``).
    ``tokens`` has one entry more than ``boundary`` has positions (read, never used, at the
    end of the batch)."""
    order = np.argsort(gid, kind="stable")
    pos, gid, length = pos[order], gid[order], length[order]
    counts = np.bincount(gid, minlength=n_ids)
    first = np.cumsum(counts) - counts
    rank = np.arange(len(pos)) - first[gid]
    n_after = counts[gid] - 1 - rank
    left = np.repeat(np.arange(len(pos)), n_after)
    right = left + 1 + np.arange(len(left)) - np.repeat(np.cumsum(n_after) - n_after, n_after)
    # Pairs p < q (same passage) after their common n-gram, while the match goes on.
    k = length[left]
    p, q = pos[left], pos[right]
    q_end = offsets[np.searchsorted(offsets, q, side="right")]  # its passage's end
    p += k
    q += k
    room = max_span_length - k  # how much longer the match may get
    alive = np.arange(len(p))
    shared = np.zeros(len(p), dtype=bool)
    for d in range(max_span_length):
        # In range: q + d <= q_end (<= the batch end), since the match held up to here.
        go = np.flatnonzero((room > d) & (q + d < q_end) & (tokens[p + d] == tokens[q + d]))
        if len(go) == 0:
            break
        alive, p, q, room, q_end = alive[go], p[go], q[go], room[go], q_end[go]
        shared[alive[boundary[p + (d + 1)] & boundary[q + (d + 1)]]] = True
    return np.bincount(gid[left[~shared]], minlength=n_ids) > 0


def find_recurring_spans(token_ids, word_start, skip,
                         max_span_length: int = 10) -> list[tuple[int, list[int]]]:
    """Selected recurring span groups of one passage, longest first.

    Returns ``(span_length, sorted start positions of the usable occurrences)`` per group;
    see the module docstring for the exact definition. Deterministic (no randomness).
    """
    tokens = np.asarray(token_ids, dtype=np.int64)
    offsets = np.array([0, len(tokens)], dtype=np.int64)
    return find_spans_batch(tokens, np.asarray(word_start, dtype=bool),
                             np.asarray(skip, dtype=bool), offsets, max_span_length)[0]
