"""The first draws of ``np.random.RandomState(seed).random_sample(count)`` for many
seeds at once, bit for bit, vectorised over the seeds (pure NumPy).

A sweep's initial weights come from one generator per network, seeded with its seed.
Seeding NumPy's generator and drawing a few numbers costs about 5 us a network, most of
it the per-call work around 624-word state updates of which a small network uses a few
words: 10^6 networks, 5 s. This module runs the same integer arithmetic as NumPy's
legacy MT19937 (``mt19937_seed``, the first ``mt19937_gen``, the tempering, and
``random_sample``'s 53-bit doubles: ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``) on
arrays holding every seed, and only for the state words the first ``count`` doubles
need: 68493 networks of 16 weights in about 0.06 s, not 0.36 s.

It covers ``count`` up to :data:`MAX_COUNT` (the words the first regeneration makes
from the seeded state alone) and seeds in [0, 2**32); :func:`random_rows` draws any
other request network by network with NumPy itself.
"""

from __future__ import annotations

import numpy as np

#: MT19937's state words, and the offset of the word each regenerated word mixes in
N, M = 624, 397
#: doubles whose words the first regeneration makes from seeded words only (word k uses
#: words k, k + 1 and k + M): 2 * count <= N - M
MAX_COUNT = (N - M) // 2
_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER, _LOWER = np.uint32(0x80000000), np.uint32(0x7FFFFFFF)


def random_rows(seeds: np.ndarray, count: int) -> np.ndarray:
    """Row i: ``RandomState(seeds[i]).random_sample(count)``, shape (len(seeds), count)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if count > MAX_COUNT or ((seeds < 0) | (seeds > 0xFFFFFFFF)).any():
        return _one_by_one(seeds, count)
    words = 2 * count
    head, tail = _seeded_words(seeds.astype(np.uint32), words)
    y = (head[:words] & _UPPER) | (head[1:] & _LOWER)
    fresh = tail ^ (y >> np.uint32(1))
    fresh ^= np.where((y & np.uint32(1)) != 0, _MATRIX_A, np.uint32(0))
    out = _tempered(fresh)
    a, b = out[0::2] >> np.uint32(5), out[1::2] >> np.uint32(6)
    rows = (a.astype(np.float64) * 67108864.0 + b.astype(np.float64)) / 9007199254740992.0
    return np.ascontiguousarray(rows.T)


def _seeded_words(seeds: np.ndarray, words: int) -> tuple[np.ndarray, np.ndarray]:
    """Of the state ``mt19937_seed`` makes of each seed (word 0 the seed, word k =
    1812433253 * (w ^ (w >> 30)) + k of the word w before, mod 2**32), words 0 to
    ``words`` and words M to M + ``words`` - 1, each shape (words, seeds)."""
    head = np.empty((words + 1, len(seeds)), dtype=np.uint32)
    tail = np.empty((words, len(seeds)), dtype=np.uint32)
    word, shifted = seeds.copy(), np.empty_like(seeds)
    for k in range(M + words):
        if k:
            np.right_shift(word, np.uint32(30), out=shifted)
            word ^= shifted
            word *= np.uint32(1812433253)
            word += np.uint32(k)
        if k <= words:
            head[k] = word
        if k >= M:
            tail[k - M] = word
    return head, tail


def _tempered(y: np.ndarray) -> np.ndarray:
    y = y ^ (y >> np.uint32(11))
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    return y ^ (y >> np.uint32(18))


def _one_by_one(seeds: np.ndarray, count: int) -> np.ndarray:
    rows = np.empty((len(seeds), count))
    rng = np.random.RandomState(0)
    for i, seed in enumerate(seeds.tolist()):
        rng.seed(seed)  # RandomState(seed)'s stream, its errors for a bad seed
        rows[i] = rng.random_sample(count)
    return rows
