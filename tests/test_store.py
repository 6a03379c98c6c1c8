"""The run folder's writer and reader at scale: the batch-wise records equal the
one-network ones (NaN and infinities too), results.json's layout, weights.npz."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from clitools import as_older_chunk, invoke, invoke_ok

from toynn_cli.config.grid import expand
from toynn_cli.core import engine, engines, network
from toynn_cli.core.network import BatchResult, NetworkSpec
from toynn_cli.run.executor import Chunk, ChunkResult
from toynn_cli.store import chunks, metrics, results


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


def test_metrics_csv_of_a_runs_batches_is_that_of_its_records(xor):
    specs = [NetworkSpec(a, 4, s, "adam") for a in (0.5, 10.0) for s in (1, 2)]
    first, second = _blown_up(_batch(xor, specs)), _batch(xor, specs[:3], 300)
    second.final_accuracy[1] = np.nan  # a network whose targets were not 0/1
    done = {
        0: ChunkResult(Chunk(0, 0, 4), first, np.array(["stuck"] * 4)),
        1: ChunkResult(Chunk(1, 4, 7), second, np.array(["learning"] * 3)),
    }
    indices, networks, _ = results.collect([Chunk(0, 0, 4), Chunk(1, 4, 7)], done)
    column_wise = metrics.metrics_csv(networks, indices)
    assert column_wise == metrics.metrics_csv(list(networks), indices)
    lines = column_wise.splitlines()
    assert (
        lines[0] == "network,alpha,hidden,seed,optimizer,optimizer_params,iteration,error,accuracy"
    )
    assert len(lines) == 1 + 7 * 4  # 3 checkpoints and the final error a network
    assert lines[4] == f"0,0.5,4,1,adam,,300,nan,{float(first.final_accuracy[0])!r}"
    assert lines[-5].endswith(f",300,{float(second.final_error[1])!r},")  # no accuracy: empty


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
    archive = results.weights_npz(nets, [4, 5, 6])
    assert zipfile.ZipFile(io.BytesIO(archive)).testzip() is None
    with np.load(io.BytesIO(archive), allow_pickle=False) as data:
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


# --- chunk files: the error history at float32 (the default) or float64 ---------------


def _chunk_result(xor, huge: bool = False) -> ChunkResult:
    specs = [NetworkSpec(a, 4, s) for a in (0.5, 10.0, 1000.0) for s in (1, 2)]
    batch = _blown_up(_batch(xor, specs, 500))
    if huge:  # beyond float32's range
        batch.history_errors[2] = 1e39
    return ChunkResult(Chunk(0, 0, 6), batch, np.array(["learning"] * 6))


def test_a_float32_chunk_gives_back_the_history_rounded_to_float32_as_float64(xor, tmp_path):
    result = _chunk_result(xor, huge=True)
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(result, "float32"))
    back = chunks.load_chunk(path).batch
    with np.errstate(over="ignore"):
        want = result.batch.history_errors.astype(np.float32).astype(np.float64)
    assert back.history_errors.dtype == np.float64
    assert back.history_errors.tobytes() == want.tobytes()  # NaN and infinities too
    assert np.isinf(back.history_errors[2]).all()
    # everything else as trained, float64 bit for bit
    for name in ("final_error", "checkpoint_errors", "outputs"):
        assert getattr(back, name).tobytes() == getattr(result.batch, name).tobytes()
    for got, want_w in zip(
        back.weights + back.weights_initial, result.batch.weights + result.batch.weights_initial
    ):
        assert got.dtype == np.float64 and got.tobytes() == want_w.tobytes()
    with np.load(path) as data:
        assert "history_errors" not in data.files


def test_a_chunk_file_is_an_npz_of_entries_at_fixed_times(xor, tmp_path):
    # np.load reads it as np.savez_compressed's; every entry deflated but the trained
    # weights and outputs (noise to deflate: stored), the same bytes for the same chunk
    result = _chunk_result(xor)
    first, again = chunks.chunk_npz(result), chunks.chunk_npz(result)
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    stored = {i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED}
    assert stored == {"W0_planes.npy", "W1_planes.npy", "outputs_planes.npy"}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED}
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    names = {i.filename for i in infos}
    assert {"W0_planes.npy", "outputs_planes.npy"} <= names
    assert not any("_initial" in n for n in names)  # drawn again from the seeds (format 5)
    assert "history_float32_delta3.npy" in names and "spec_seed.npy" in names
    assert [chunks._level(n) for n in ("W1", "outputs", "history_float32_delta3", "spec_seed")] == [
        0, 0, 1, 6,
    ]  # fmt: skip
    path = tmp_path / "00000.npz"
    path.write_bytes(first)
    with np.load(path, allow_pickle=False) as data:
        assert data["spec_seed"].tolist() == [1, 2, 1, 2, 1, 2]


def test_a_float64_chunk_gives_back_the_exact_history(xor, tmp_path):
    result = _chunk_result(xor)
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(result, "float64"))
    back = chunks.load_chunk(path).batch
    assert back.history_errors.tobytes() == result.batch.history_errors.tobytes()


@pytest.mark.parametrize("format", [2, 3])
def test_an_older_chunk_file_still_reads(xor, tmp_path, format):
    result = _chunk_result(xor)
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(result))
    as_older_chunk(path, format, result.batch.history_errors if format == 2 else None)
    with np.load(path) as data:
        assert not any(k.endswith(chunks.PLANES) for k in data.files)
    back = chunks.load_chunk(path).batch
    new = chunks.load_chunk(_written(result, tmp_path / "new.npz")).batch
    for name in ("final_error", "checkpoint_errors", "outputs"):
        assert getattr(back, name).tobytes() == getattr(new, name).tobytes(), name
    for got, want in zip(back.weights + back.weights_initial, new.weights + new.weights_initial):
        assert got.tobytes() == want.tobytes()
    history = result.batch.history_errors if format == 2 else new.history_errors
    assert back.history_errors.tobytes() == history.tobytes()


def _written(result: ChunkResult, path: Path) -> Path:
    path.write_bytes(chunks.chunk_npz(result))
    return path


def test_byte_planes_give_back_every_float64_bit(tmp_path):
    values = np.array(
        [[0.0, -0.0, 1e-310, np.inf], [-np.inf, np.nan, 5e-324, 1.7976931348623157e308]]
    )
    planes = chunks.byte_planes(values)
    assert planes.dtype == np.uint8 and planes.shape == (8, 2, 4)
    assert planes[7, 0, 1] == 0x80  # the sign bit of -0.0, in the last plane
    assert chunks.from_byte_planes(planes).tobytes() == values.tobytes()


@pytest.mark.parametrize("order", [2, 3])
def test_the_history_code_is_lossless_for_float32_values(order):
    rng = np.random.RandomState(0)
    errors = np.concatenate(
        [
            np.sort(rng.random_sample((3, 50)))[:, ::-1],
            [[np.inf, np.nan, 0.0, -0.0] * 12 + [1e-45, 3e38]],
        ]
    ).astype(np.float32)
    back = chunks.decode_history(chunks.encode_history(errors.astype(np.float64), order), order)
    assert back.dtype == np.float64
    assert back.astype(np.float32).tobytes() == errors.tobytes()
    # the code is the documented one: order-th differences of the bit patterns (modulo
    # 2**32), zigzag-mapped, as byte planes; a float32 input is left as it was
    kept = errors.copy()
    bits = errors.view(np.uint32)
    for _ in range(order):
        bits = np.diff(bits, axis=1, prepend=np.zeros((len(bits), 1), dtype=np.uint32))
    signed = bits.view(np.int32)
    zigzag = ((signed << 1) ^ (signed >> 31)).view(np.uint32).astype("<u4")
    expected = np.moveaxis(zigzag.view(np.uint8).reshape(*bits.shape, 4), -1, 0)
    assert chunks.encode_history(errors, order).tobytes() == expected.tobytes()
    assert errors.tobytes() == kept.tobytes()


def test_a_grids_spec_columns_are_those_of_its_networks_one_by_one():
    """Read once a run of one setting, repeated: the same arrays as spec by spec."""
    grid = expand(
        [4, (3, 2)],
        [0.5, 10.0],
        [1, 2, 3],
        optimizers=[("sgd", ()), ("adam", (("betas", (0.8, 0.9)),))],
        architectures=[{}, {"bias": True, "activation": "tanh"}],
    )
    assert len(network.runs(grid)) == 8
    one_by_one = chunks._spec_columns(network.as_list(grid))
    by_runs = chunks._spec_columns(grid)
    assert by_runs.keys() == one_by_one.keys()
    assert {"spec_hidden_json", "spec_optimizer_params_json", "spec_alpha"} <= by_runs.keys()
    for key, column in one_by_one.items():
        assert by_runs[key].dtype == column.dtype and by_runs[key].tolist() == column.tolist()


SWEEP_2000 = ("sweep", "--alphas", "0.001..1000:10", "--seeds", "1..200", "--iterations", "1000",
              "--chunk-size", "1000", "--workers", "2", "--no-figures", "-q")  # fmt: skip


def _folder(out: Path) -> Path:
    (run_dir,) = list(out.iterdir())
    return run_dir


def _chunk_bytes(run_dir: Path) -> int:
    return sum(p.stat().st_size for p in (run_dir / "chunks").glob("*.npz"))


def test_a_float32_chunk_of_2000_networks_is_under_a_third_of_a_float64_one(xor):
    specs = [NetworkSpec(a, 4, s) for a in (0.01, 0.1, 1.0, 10.0) for s in range(500)]
    batch = _batch(xor, specs, 1000)  # 200 history points a network
    result = ChunkResult(Chunk(0, 0, 2000), batch, np.array(["learning"] * 2000))
    compact, full = (len(chunks.chunk_npz(result, h)) for h in ("float32", "float64"))
    assert compact < 450 * 2000  # under 450 bytes a network (format 3: 530)
    assert full > 1200 * 2000  # the float64 history alone is 1600 bytes, 950 deflated
    assert compact < full / 3


@pytest.mark.slow
def test_a_sweep_keeps_its_history_compact_unless_asked_for_all_of_it(cli_env):
    """2000 networks of 1000 iterations: float32 chunk files under 0.7 MB (about 315
    bytes a network), float64 ones over 2 MB; read back, the compact history is the
    full one rounded to float32, every other number the same bits."""
    invoke_ok(*SWEEP_2000, "--out", "compact")
    invoke_ok(*SWEEP_2000, "--full-history", "--out", "full")
    compact, full = _folder(cli_env / "compact"), _folder(cli_env / "full")
    assert _chunk_bytes(compact) < 700_000
    assert _chunk_bytes(full) > 2_000_000
    info = json.loads((compact / "run.json").read_text())
    assert (info["history_precision"], info["format"]) == ("float32", 5)
    # two chunks, 2e6 iterations: two worker processes, or none (threads) with numba
    expected = 0 if engines.get(info["engine"]).threaded else 2
    assert (info["workers"], info["processes"]) == (2, expected)
    assert json.loads((full / "run.json").read_text())["history_precision"] == "float64"
    a, b = (json.loads(invoke_ok("show", d, "--json").stdout)["networks"] for d in (compact, full))
    assert len(a) == len(b) == 2000
    for run_dir, records in ((compact, a), (full, b)):  # the chunk files say what results.json does
        paths = sorted((run_dir / "chunks").glob("*.npz"))
        history = np.concatenate([chunks.load_chunk(p).batch.history_errors for p in paths])
        want = np.array([n["history"]["errors"] for n in records], dtype=np.float64)
        assert history.tobytes() == want.tobytes()
    for x, y in zip(a, b):
        rounded = np.array(y["history"]["errors"], dtype=np.float64).astype(np.float32)
        assert x["history"]["errors"] == rounded.astype(np.float64).tolist()
        x["history"]["errors"] = y["history"]["errors"] = None
        assert x == y  # weights, errors, checkpoints, outputs: the same bits


def test_resume_keeps_the_folders_history_precision(cli_env):
    result = invoke("sweep", "--resume", "somewhere", "--full-history")
    assert result.exit_code == 2
    assert "--full-history" in result.stderr


def test_a_stored_npz_is_a_valid_zip_and_past_65535_entries_a_zip64_one():
    small = {f"n{i}_W0": np.full((2, 3), float(i)) for i in range(5)}
    data = results._npz_bytes(small, compressed=False)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
    many = {f"a{i}": np.array([i]) for i in range(70_000)}  # zip64: zipfile writes it
    with np.load(io.BytesIO(results._npz_bytes(many, compressed=False))) as back:
        assert len(back.files) == 70_000 and back["a69999"].tolist() == [69999]


@pytest.mark.parametrize(
    "value",
    [0, -3, 10**20, 0.1, 1e-300, float("nan"), float("inf"), None, True, "sgd", "8x4", "",
     "a,b", 'say "hi"', "two\nlines", "cr\r", " leading", "trailing ", "{'k': 1}", np.float64(0.5)],
)  # fmt: skip
def test_a_metrics_csv_field_is_what_csv_writer_writes(value):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["first", value, "last"])
    assert f"first,{metrics._csv_fields([value])[0]},last\n" == buffer.getvalue()


def test_a_chunk_keeps_initial_weights_its_seeds_do_not_give(xor, tmp_path):
    # format 5 leaves out the initial weights that network.seeded_weight_rows draws
    # again on reading; weights from elsewhere (here: changed) are kept as they are
    result = _chunk_result(xor)
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(result))
    back = chunks.load_chunk(path).batch
    for got, want in zip(back.weights_initial, result.batch.weights_initial):
        assert got.shape == want.shape and got.tobytes() == want.tobytes()
    result.batch.weights_initial[0][0, 0, 0] += 0.5
    path.write_bytes(chunks.chunk_npz(result))
    with zipfile.ZipFile(path) as archive:
        names = {i.filename for i in archive.infolist()}
    assert {"W0_initial_planes.npy", "W1_initial_planes.npy"} <= names
    back = chunks.load_chunk(path).batch
    for got, want in zip(back.weights_initial, result.batch.weights_initial):
        assert got.tobytes() == want.tobytes()


def test_results_json_from_each_chunks_lines_is_the_documents_text():
    # results.json is written from the records the saving thread encoded chunk by chunk:
    # the same text as the whole document's, and with no networks
    from toynn_cli.core.datasets import BUILTIN
    from toynn_cli.run import executor

    xor = BUILTIN["xor"]
    specs = expand([2, 3], [0.5, 1e300], range(3))  # 1e300: weights near 1e299
    grid_chunks = executor.plan(specs, 4)
    assert len(grid_chunks) >= 3
    job = executor.Job(xor.x, xor.y, specs, 40, 10, record_every=5)
    done = {r.chunk.index: r for r in executor.LocalExecutor(1).run(job, grid_chunks)}
    _, finished, statuses = results.collect(grid_chunks, done)
    experiment = {"name": "xor", "iterations": 40}
    whole = results.to_json(results.document(experiment, "runs/x", finished, statuses, "xor"))
    lines = [results.record_lines(done[c.index], "xor") for c in grid_chunks]
    assert results.to_json(results.head(experiment, "runs/x", True), lines) == whole
    assert whole.count('"status"') == len(specs)
    nothing = results.document(experiment, None, [], [], "xor", complete=False)
    assert results.to_json(results.head(experiment, None, False), []) == results.to_json(nothing)
