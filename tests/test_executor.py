"""Chunks and workers: the split of a grid never changes a network's numbers."""

from __future__ import annotations

import itertools
import multiprocessing

import numpy as np
import pytest

from toynn_cli.config import grid
from toynn_cli.core import blocks
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.run import cost, executor
from toynn_cli.store import chunks

XOR = BUILTIN["xor"]
SPECS = grid.expand([2, 4, 3], [0.1, 1.0, 10.0, 1000.0], range(1, 31))  # 360 networks


def train(chunks, workers, iterations=400):
    done = {
        r.chunk.index: r
        for r in executor.LocalExecutor(workers).run(
            executor.Job(XOR.x, XOR.y, SPECS, iterations, 100), chunks
        )
    }
    return [done[c.index] for c in chunks]


def columns(chunk_results, name):
    return np.concatenate([getattr(r.batch, name) for r in chunk_results])


def per_network_arrays(chunk_results) -> list[bytes]:
    """Every network's weights, initial weights and direction counts, as bytes."""
    out = []
    for r in chunk_results:
        for b in range(len(r.batch)):
            net = r.batch.network(b)
            arrays = [*net.weights, *net.weights_initial, *net.direction_changes]
            out.append(b"".join(a.tobytes() for a in arrays))
    return out


def test_plan_covers_the_grid_in_order_without_mixing_hidden_sizes():
    chunks = executor.plan(SPECS, 50)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].stop == len(SPECS)
    assert all(a.stop == b.start for a, b in itertools.pairwise(chunks))
    assert all(len(c) <= 50 for c in chunks)
    for c in chunks:
        assert len({s.hidden for s in SPECS[c.start : c.stop]}) == 1
    assert [len(c) for c in chunks] == [50, 50, 20] * 3


def test_chunk_size_follows_the_memory_budget_and_the_workers():
    per = executor.bytes_per_network([3, 4, 1], 4, 400, 100)
    assert executor.chunk_size(SPECS, 3, 1, 4, 400, 100, 100 * per, 1) == 100
    # two workers: each holds a chunk, and this process one it is receiving (twice the
    # result: serialised and loaded)
    training, result = executor.footprint([3, 4, 1], 4, 400, 100)
    assert per == training + 2 * result
    both = 2 * per + 2 * result
    assert executor.chunk_size(SPECS, 3, 1, 4, 400, 100, 100 * both, 2) == 100
    assert executor.chunk_size(SPECS, 3, 1, 4, 400, 100, 100 * both - 1, 2) == 99
    big = 1 << 40
    assert executor.chunk_size(SPECS, 3, 1, 4, 400, 100, big, 1) == len(SPECS)
    # two workers: half the grid each, but never chunks below MIN_CHUNK networks
    assert executor.chunk_size(SPECS, 3, 1, 4, 400, 100, big, 2) == executor.MIN_CHUNK
    assert executor.chunk_size(SPECS * 4, 3, 1, 4, 400, 100, big, 2) == len(SPECS) * 2


@pytest.mark.slow
def test_any_chunking_and_any_number_of_workers_give_identical_networks(monkeypatch):
    monkeypatch.setattr(executor, "PARALLEL_MIN_WORK", 0)  # use the pool even for this
    reference = train(executor.plan(SPECS, len(SPECS)), workers=1)
    for size, workers in [(7, 1), (50, 2), (120, 3)]:
        other = train(executor.plan(SPECS, size), workers)
        for name in ("checkpoint_errors", "final_error", "history_errors", "outputs"):
            assert columns(other, name).tobytes() == columns(reference, name).tobytes(), name
        assert per_network_arrays(other) == per_network_arrays(reference)
        assert (
            np.concatenate([r.statuses for r in other]).tolist()
            == np.concatenate([r.statuses for r in reference]).tolist()
        )


@pytest.mark.slow
def test_stopping_early_terminates_the_workers(monkeypatch):
    monkeypatch.setattr(executor, "PARALLEL_MIN_WORK", 0)
    job = executor.Job(XOR.x, XOR.y, SPECS, 3000, 1000)
    stream = executor.LocalExecutor(2).run(job, executor.plan(SPECS, 20))
    first = next(stream)
    assert len(first.chunk) == 20
    stream.close()  # what an interrupt does to the generator
    assert multiprocessing.active_children() == []


def test_chunk_files_round_trip(tmp_path):
    (chunk,) = train([executor.Chunk(0, 30, 60)], workers=1)
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(chunk, "float32"))  # the default: history float32
    rounded = chunks.rounded_history(chunk.batch.history_errors)
    assert chunks.load_chunk(path).batch.history_errors.tobytes() == rounded.tobytes()
    path.write_bytes(chunks.chunk_npz(chunk, "float64"))  # --full-history: every bit
    loaded = chunks.load_chunk(path)
    assert loaded.chunk == chunk.chunk
    assert loaded.batch.specs == SPECS[30:60]
    assert loaded.statuses.tolist() == chunk.statuses.tolist()
    for name in (
        "checkpoint_iterations",
        "checkpoint_errors",
        "final_error",
        "history_errors",
        "outputs",
    ):
        assert np.array_equal(getattr(loaded.batch, name), getattr(chunk.batch, name))
    for name in ("weights", "weights_initial", "direction_changes"):
        for a, b in zip(getattr(loaded.batch, name), getattr(chunk.batch, name), strict=True):
            assert a.tobytes() == b.tobytes() and a.dtype == b.dtype


def test_the_estimate_starts_the_workers_the_executor_starts():
    chunks = executor.plan(SPECS, 180)  # 3 layouts of 120: 3 chunks
    one = executor.estimate(SPECS, chunks, 1, 3, 1, 4, 10000, 1000)
    two = executor.estimate(SPECS, chunks, 2, 3, 1, 4, 10000, 1000)
    assert (one["workers"], two["workers"]) == (1, 2)
    assert executor.processes(chunks, 2, 10000) == 2
    assert two["seconds"] < one["seconds"]
    assert two["memory_bytes"] > one["memory_bytes"] > 0
    # under PARALLEL_MIN_WORK network-iterations the executor stays in this process
    small = executor.estimate(SPECS, chunks, 2, 3, 1, 4, 100, 10)
    assert small["workers"] == 1 == executor.processes(chunks, 2, 100)


H4 = grid.expand([4], [0.1, 1.0], range(1, 301))  # 600 networks of one layout


def test_the_estimate_is_the_engines_cost_model():
    chunks = executor.plan(H4, 300)  # 2 chunks of 300
    sizes, it = [3, 4, 1], 10000
    for name in ("numpy", "numba"):
        model = cost.model_for(name)
        fused = name == "numba"  # the tutorial's 3-4-1 on 4 samples: a fused kernel
        chunk = cost.batch_seconds(model, sizes, 4, 300, it, fused=fused)
        one = executor.estimate(H4, chunks, 1, 3, 1, 4, it, 1000, engine=name)
        two = executor.estimate(H4, chunks, 2, 3, 1, 4, it, 1000, engine=name)
        rest = model.startup + 600 * model.per_network
        assert one["seconds"] == pytest.approx(rest + 2 * chunk, rel=1e-12)
        if name == "numpy":  # two workers, a chunk each, sharing 1 + PARALLEL_EFFICIENCY cores
            shared = chunk * 2 / (1 + cost.PARALLEL_EFFICIENCY)
            assert two["workers"] == 2
            assert two["seconds"] == pytest.approx(rest + model.pool_startup + shared, rel=1e-12)
        else:  # no worker processes: the chunks one after the other, on two threads each
            threaded = cost.batch_seconds(model, sizes, 4, 300, it, threads=2, fused=True)
            assert (two["workers"], two["threads"]) == (1, 2)
            assert two["seconds"] == pytest.approx(rest + 2 * threaded, rel=1e-12)
    numba = executor.estimate(H4, chunks, 1, 3, 1, 4, it, 1000, engine="numba")
    numpy = executor.estimate(H4, chunks, 1, 3, 1, 4, it, 1000, engine="numpy")
    assert numba["seconds"] != numpy["seconds"]
    assert numba["memory_bytes"] == numpy["memory_bytes"]
    assert cost.model_for("numba-fast") is cost.NUMBA


def test_the_numba_estimate_prices_the_kernel_the_engine_runs():
    model, it = cost.NUMBA, 1000
    assert model.fused and model.fused != model.coefficients
    assert cost.NUMPY.fused == ()  # one set for the NumPy engine

    def guess(specs: list, samples: int = 4) -> float:
        chunks = executor.plan(specs, len(specs))
        return executor.estimate(specs, chunks, 1, 3, 1, samples, it, 100, engine="numba")[
            "seconds"
        ]

    def priced(sizes: list[int], fused: bool, samples: int = 4) -> float:
        rest = model.startup + 140 * model.per_network
        return rest + cost.batch_seconds(model, sizes, samples, 140, it, fused=fused)

    wide = grid.expand([32], [0.1, 1.0], range(70))  # W3's hidden 32: looped over its units
    assert guess(wide) == pytest.approx(priced([3, 32, 1], True), rel=1e-12)
    tanh = grid.expand([32], [0.1, 1.0], range(70), architectures=({"activation": "tanh"},))
    assert guess(tanh) == pytest.approx(priced([3, 32, 1], False), rel=1e-12)
    deep = grid.expand([(16, 16)], [0.1, 1.0], range(70))  # two wide layers: segment kernels
    assert guess(deep) == pytest.approx(priced([3, 16, 16, 1], False), rel=1e-12)
    many = grid.expand([32], [0.1, 1.0], range(70))  # 100 samples: segment kernels
    assert guess(many, 100) == pytest.approx(priced([3, 32, 1], False, 100), rel=1e-12)


def test_numba_blocks_are_evened_out_for_the_threads():
    assert blocks.block_size(7000, 1) == blocks.BLOCK == 128
    assert blocks.block_size(7000, 2) == 128  # 55 blocks: 28 and 27 a thread
    assert blocks.block_size(140, 2) == 72  # 72 + 68 networks, not 128 + 12 (W3's chunks)
    assert blocks.block_size(300, 2) == 80  # 4 blocks, two a thread
    assert blocks.block_size(1, 2) == blocks.LANES
    # what run.json and the dry run say: the threads the engine runs (100 networks: 2)
    for n, expected in ((7, 1), (100, 2), (140, 2), (7000, 2)):
        chunk = [executor.Chunk(0, 0, n)]
        assert executor.threads(chunk, 2, 10, "numba") == expected, n
        assert executor.threads(chunk, 2, 10, "numpy") == 1
    # the cost model counts the blocks the engine runs: 140 networks gain from 2 threads
    one, two = (cost.batch_seconds(cost.NUMBA, [3, 32, 1], 4, 140, 10, t) for t in (1, 2))
    assert two == pytest.approx(one / (1 + cost.PARALLEL_EFFICIENCY), rel=0.1)


def test_numba_costs_a_block_of_lanes_and_its_threads_share_the_blocks():
    model = cost.NUMBA
    sizes = [3, 4, 1]
    block = cost.block_seconds(model, sizes, 4, model.block)
    # a network alone costs its own block: more than its share of a full one
    assert cost.batch_seconds(model, sizes, 4, 1, 10) > 10 * block / model.block
    assert cost.batch_seconds(model, sizes, 4, 2 * model.block, 10) == pytest.approx(20 * block)
    assert cost.batch_seconds(model, sizes, 4, 2 * model.block, 10, threads=2) == (
        pytest.approx(20 * block / (1 + cost.PARALLEL_EFFICIENCY))
    )
    # the NumPy engine runs the batch as one, on one thread
    assert cost.NUMPY.block == 0
    assert cost.batch_seconds(cost.NUMPY, sizes, 4, 256, 10, threads=2) == pytest.approx(
        10 * cost.block_seconds(cost.NUMPY, sizes, 4, 256)
    )
    # in this process with workers > 1, the numba engine's threads share a chunk's blocks
    chunks = executor.plan(H4, 600)
    guess = executor.estimate(H4, chunks, 2, 3, 1, 4, 1000, 100, engine="numba")
    assert (guess["workers"], guess["threads"]) == (1, 2)
