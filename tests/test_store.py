"""The run folder's writer and reader at scale: the batch-wise records equal the
one-network ones (NaN and infinities too), results.json's layout, weights.npz."""

from __future__ import annotations

import io
import json

import numpy as np

from toynn_cli.core import engine
from toynn_cli.core.network import BatchResult, NetworkSpec
from toynn_cli.run.executor import Chunk, ChunkResult
from toynn_cli.store import results


def _batch(xor, specs: list[NetworkSpec], iterations: int = 300) -> BatchResult:
    return engine.train_batch(xor.x, xor.y, specs, iterations, 100)


def _blown_up(batch: BatchResult) -> BatchResult:
    """The batch with NaN and infinities where a blown-up network has them."""
    nan, inf = float("nan"), float("inf")
    batch.final_error[0] = nan
    batch.checkpoint_errors[0, -1] = inf
    batch.history_errors[0, 3:] = nan
    batch.history_errors[1, 2] = -inf
    batch.weights[0][0, 0, 0] = nan
    batch.weights[1][1, 0, 0] = -inf
    batch.outputs[0] = nan
    return batch


def test_batch_records_are_the_one_network_records(xor):
    specs = [NetworkSpec(a, 4, s) for a in (0.5, 10.0) for s in (1, 2)]
    batch = _blown_up(_batch(xor, specs))
    one_by_one = [results.network_record(batch.network(b), None, "xor") for b in range(4)]
    assert results.batch_records(batch, "xor") == one_by_one
    assert json.dumps(results.batch_records(batch, "xor")) == json.dumps(one_by_one)


def test_the_document_of_chunks_is_the_document_of_networks(xor):
    specs = [NetworkSpec(a, 4, s) for a in (0.5, 10.0) for s in (1, 2, 3)]
    batch = _blown_up(_batch(xor, specs))
    chunk = ChunkResult(Chunk(0, 0, 6), batch, np.array(["learning"] * 6))
    _, networks, labels = results.collect([chunk.chunk], {0: chunk})
    fast = results.document({"name": "x"}, None, networks, labels, "xor")
    slow = results.document({"name": "x"}, None, list(networks), labels, "xor")
    assert fast == slow
    text = results.to_json(fast)
    assert json.loads(text) == json.loads(json.dumps(slow))
    # the head indented, one line per network
    assert text.startswith('{\n "format"')
    assert len([line for line in text.splitlines() if line.startswith('  {"alpha"')]) == 6


def test_weights_npz_reads_back_every_array(xor):
    specs = [NetworkSpec(0.5, 4, s) for s in (1, 2, 3)]
    batch = _batch(xor, specs)
    nets = batch.networks()
    with np.load(io.BytesIO(results.weights_npz(nets, [4, 5, 6])), allow_pickle=False) as data:
        assert data["network"].tolist() == [4, 5, 6]
        assert data["seed"].tolist() == [1, 2, 3]
        for i, net in zip((4, 5, 6), nets):
            for k in range(2):
                assert (
                    data[f"n{i}_W{k}"].tobytes() == np.ascontiguousarray(net.weights[k]).tobytes()
                )
                assert data[f"n{i}_W{k}"].dtype == np.float64
                assert np.array_equal(data[f"n{i}_W{k}_initial"], net.weights_initial[k])
                assert np.array_equal(data[f"n{i}_changes{k}"], net.direction_changes[k])
