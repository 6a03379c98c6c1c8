"""toynn_cli.core.seeded: RandomState's first draws for many seeds at once, bit for bit."""

import numpy as np
import pytest

from toynn_cli.core import seeded

EDGES = [0, 1, 2, 3, 42, 12345, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]
SEEDS = np.array([*EDGES, *np.random.RandomState(7).randint(0, 2**32, 300, dtype=np.int64)])


def _reference(seeds: np.ndarray, count: int) -> np.ndarray:
    return np.array([np.random.RandomState(int(s)).random_sample(count) for s in seeds])


@pytest.mark.parametrize("count", [0, 1, 2, 16, 25, 112, seeded.MAX_COUNT])
def test_the_vectorised_draws_are_randomstates_bits(count):
    got = seeded.random_rows(SEEDS, count)
    assert got.shape == (len(SEEDS), count) and got.dtype == np.float64
    assert got.flags.c_contiguous
    assert np.array_equal(got.view(np.uint64), _reference(SEEDS, count).view(np.uint64))


@pytest.mark.parametrize("count", [seeded.MAX_COUNT + 1, 200, 700])
def test_longer_draws_are_randomstates_bits_too(count):
    got = seeded.random_rows(SEEDS[:20], count)
    assert np.array_equal(got.view(np.uint64), _reference(SEEDS[:20], count).view(np.uint64))


def test_max_count_is_what_the_first_regeneration_makes_from_seeded_words():
    assert seeded.MAX_COUNT == 113


def test_a_seed_randomstate_refuses_is_refused_with_its_error():
    with pytest.raises(ValueError, match="Seed must be between 0 and 2\\*\\*32 - 1"):
        seeded.random_rows(np.array([5, 2**32]), 4)
    with pytest.raises(ValueError, match="Seed must be between 0 and 2\\*\\*32 - 1"):
        seeded.random_rows(np.array([-1]), 4)


def test_no_seeds_no_rows():
    assert seeded.random_rows(np.array([], dtype=np.int64), 16).shape == (0, 16)
