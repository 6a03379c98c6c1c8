"""The numba engine's fused kernels (``toynn_cli.core._numba_fused``): the same bits as
the segment kernels and the NumPy engine, the layouts that get one, and the generated
modules' files."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.test_engine_numba import _agree, _identical
from toynn_cli.core import blocks, engine
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec

#: from tiny to saturating (1e300: weights near 1e299, every sigmoid 0 or 1)
ALPHAS = (0.001, 0.1, 1.0, 10.0, 1000.0, 1e6, 1e300)


@pytest.fixture(scope="module")
def numba_engine():
    pytest.importorskip("numba")
    from toynn_cli.core import engine_numba

    return engine_numba


@pytest.fixture(scope="module")
def fused():
    pytest.importorskip("numba")
    from toynn_cli.core import _numba_fused

    return _numba_fused


def _odd_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(3)
    return rng.uniform(-1, 1, (5, 3)), rng.uniform(0, 1, (5, 2))


CASES = {
    "tutorial": ("xor", 4, False),
    "bias": ("xor", 4, True),
    "no-hidden-layer": ("first-column", 0, False),
    "hidden-8": ("xor", 8, False),  # looped over its units, as the wider ones
    "hidden-16": ("xor", 16, False),
    "hidden-12-bias": ("xor", 12, True),
    "looped-eight-samples": ("parity3", 10, True),
    "looped-five-samples-two-outputs": ("odd", 9, True),
    "two-layers": ("xor", (3, 2), True),
    "five-samples-two-outputs": ("odd", 3, False),
}


@pytest.mark.parametrize("case", CASES)
def test_fused_kernels_have_the_segment_kernels_and_numpy_bits(numba_engine, case):
    name, hidden, bias = CASES[case]
    x, y = _odd_data() if name == "odd" else (BUILTIN[name].x, BUILTIN[name].y)
    layout = numba_engine.fused_layout(NetworkSpec(1.0, hidden, 0, bias=bias), x.shape, y.shape)
    assert layout is not None
    # 21 networks: a block of 16 and one of 5, lanes past the last one unused
    specs = [NetworkSpec(a, hidden, s, bias=bias) for a in ALPHAS for s in (0, 3, 7)]
    args = (x, y, specs, 1300, 400)
    segments: list[int] = []
    fine = numba_engine.train_batch(*args, segments.append, threads=1, record_every=7)
    assert len(segments) > 1 and segments[-1] == 1300  # trained in several segments
    _agree(numba_engine.train_batch(*args, lambda j: None, threads=2, record_every=7), fine)
    assert layout in numba_engine._fused_ready  # by the fused kernel
    _agree(engine.train_batch(*args, record_every=7), fine)
    _agree(numba_engine.train_batch(*args, record_every=7, fused=False), fine)
    one_go = numba_engine.train_batch(*args)  # one segment, the checkpoints only
    _agree(numba_engine.train_batch(*args, fused=False), one_go)
    assert max(np.abs(w).max() for w in one_go.weights) > 1e298
    assert one_go.final_error.min() < 0.05 and one_go.final_error.max() > 0.25


@pytest.mark.parametrize("hidden", [4, 16])
def test_a_network_has_the_same_bits_in_any_lane_and_thread(numba_engine, hidden):
    xor = BUILTIN["xor"]
    spec = NetworkSpec(1.0, hidden, 0)
    lanes = blocks.fused_lanes(numba_engine.fused_layout(spec, xor.x.shape, xor.y.shape))
    assert lanes == {4: 16, 16: 8}[hidden]
    # 141 networks on 2 threads: blocks of 72 and 69 (block_size), each trained 16 (8)
    # networks at a time (with 16: the last 8 of the first block, 5 of the second)
    specs = [NetworkSpec(a, hidden, s) for a in (0.5, 10.0, 1e6) for s in range(47)]
    big = numba_engine.train_batch(xor.x, xor.y, specs, 900, 300, threads=2)
    serial = numba_engine.train_batch(xor.x, xor.y, specs, 900, 300, threads=1)
    for i in (0, 1, lanes - 1, lanes, 4 * lanes, 71, 72, 73, len(specs) - 1):
        alone = numba_engine.train_batch(xor.x, xor.y, [specs[i]], 900, 300)
        _identical(alone, 0, big, i)
        _identical(serial, i, big, i)


def test_the_layouts_that_get_a_fused_kernel(numba_engine, fused):
    xor = BUILTIN["xor"]

    def layout(spec: NetworkSpec):
        return numba_engine.fused_layout(spec, xor.x.shape, xor.y.shape)

    assert layout(NetworkSpec(1.0, 4, 0)) == blocks.Layout((3, 4, 1), 4, False)
    assert layout(NetworkSpec(1.0, 4, 0, bias=True)) == blocks.Layout((3, 4, 1), 4, True)
    assert layout(NetworkSpec(1.0, (3, 2), 0)) == blocks.Layout((3, 3, 2, 1), 4, False)
    assert layout(NetworkSpec(1.0, 8, 0)).params == 3 * 8 + 8
    # written out whole up to 40 sigmoid units an iteration ...
    assert not blocks.looped(layout(NetworkSpec(1.0, 7, 0)))
    assert not blocks.looped(layout(NetworkSpec(1.0, (4, 5), 0)))  # 4 x (4 + 5 + 1) = 40
    assert layout(NetworkSpec(1.0, (4, 6), 0)) is None  # 44
    # ... and one hidden layer of 8 units or more looped over its units, on few samples
    assert blocks.looped(layout(NetworkSpec(1.0, 8, 0)))
    assert layout(NetworkSpec(1.0, 32, 0, bias=True)) == blocks.Layout((3, 32, 1), 4, True)
    assert blocks.looped(blocks.Layout((3, 500, 2), 12, False))  # 12 x (3 + 2) = 60
    assert not blocks.fits(blocks.Layout((3, 16, 2), 13, False))  # 65
    circles = BUILTIN["circles"]  # 100 samples: the segment kernels
    assert (
        numba_engine.fused_layout(NetworkSpec(1.0, 16, 0), circles.x.shape, circles.y.shape) is None
    )
    assert layout(NetworkSpec(1.0, (16, 16), 0)) is None
    assert layout(NetworkSpec(1.0, 4, 0, optimizer="adam")) is None
    assert layout(NetworkSpec(1.0, 4, 0, activation="tanh")) is None
    assert layout(NetworkSpec(1.0, 4, 0, clip_value=1.0)) is None


def test_the_versions_a_grid_needs_name_its_fused_layouts(numba_engine, fused):
    xor = BUILTIN["xor"]
    plain = [NetworkSpec(a, h, s) for a in (0.1, 10.0) for h in (2, 4) for s in range(3)]
    wide, deep = NetworkSpec(1.0, 32, 0), NetworkSpec(1.0, (16, 16), 0)
    adam = NetworkSpec(1.0, 4, 0, optimizer="adam")
    assert numba_engine.versions(plain) == {False}  # without the data: the segment kernels
    assert numba_engine.versions([*plain, wide, deep, adam], xor.x, xor.y) == {
        blocks.Layout((3, 2, 1), 4, False), blocks.Layout((3, 4, 1), 4, False),
        blocks.Layout((3, 32, 1), 4, False), False, True,
    }  # fmt: skip


def test_a_fused_kernel_is_ready_once_and_then_needs_no_compiling(numba_engine):
    xor = BUILTIN["xor"]
    specs = [NetworkSpec(1.0, 4, 0)]
    layout = numba_engine.fused_layout(specs[0], xor.x.shape, xor.y.shape)
    found = numba_engine.load_fused(layout)
    assert numba_engine.load_fused(layout) is found
    assert numba_engine.ready_seconds["fused"] >= 0
    assert not numba_engine.needs_compiling(specs, xor.x, xor.y)


def test_the_generated_module_is_written_once_and_rewritten_when_changed(
    numba_engine, fused, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fused, "_modules", {})
    layout = blocks.Layout((2, 3, 1), 4, True)
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    # a new folder: nothing compiled for it yet, the CLI says "compiling kernels"
    assert numba_engine.needs_compiling([NetworkSpec(1.0, 3, 0, bias=True)], x, y)
    first = fused.module(layout)  # imported, not compiled (nothing here calls it)
    assert fused.module(layout) is first
    (path,) = (tmp_path / "toynn" / "kernels").glob("toynn_fused_*.py")
    assert path.read_text() == fused.source(layout)
    assert first.__name__ == path.stem
    rows = 3 * layout.params + 3 + layout.outputs  # weights, signs, counts, lr, records
    assert rows == first.ROWS
    assert not list(path.parent.glob(".*.tmp"))  # written through a temporary file
    path.write_text("broken = True\n")  # a damaged or foreign file is replaced
    monkeypatch.setattr(fused, "_modules", {})
    again = fused.module(layout)
    assert path.read_text() == fused.source(layout) and not hasattr(again, "broken")
    other = fused.module(blocks.Layout((2, 3, 1), 4, False))  # another layout, another file
    assert other.__name__ != first.__name__
    assert len(list(path.parent.glob("toynn_fused_*.py"))) == 2


@pytest.mark.slow
def test_a_huge_looped_layer_compiles_without_warnings(numba_engine, fused, tmp_path, monkeypatch):
    # its generated module is as small as any (the loop's length is a constant, each
    # parameter's state row an expression), and numba caches it without a NumbaWarning
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fused, "_modules", {})
    monkeypatch.setattr(numba_engine, "_fused_ready", {})
    x, y = _odd_data()  # two outputs: the output layer's weights stored output by output
    specs = [NetworkSpec(a, 3001, 0, bias=True) for a in (0.5, 20.0)]
    layout = numba_engine.fused_layout(specs[0], x.shape, y.shape)
    assert blocks.looped(layout)
    assert len(fused.source(layout)) < 2 * len(fused.source(blocks.Layout((3, 8, 2), 5, True)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = numba_engine.train_batch(x, y, specs, 60, 20)
    assert layout in numba_engine._fused_ready
    _agree(engine.train_batch(x, y, specs, 60, 20), got)


def test_the_generated_modules_folder_falls_back_to_the_temporary_directory(
    fused, tmp_path, monkeypatch
):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert fused.directory().parent == tmp_path / "tmp"
    assert fused.directory().name.startswith("toynn-kernels-")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert fused.directory() == tmp_path / "cache" / "toynn" / "kernels"


def test_the_first_run_of_a_layout_says_it_compiles_and_the_next_loads(
    numba_engine, fused, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from toynn_cli.cli import cli
    from toynn_cli.core import _fused_native as native

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing compiled there yet
    monkeypatch.setenv("FORCE_COLOR", "1")  # stderr a terminal, for rich: the message
    args = ["sweep", "--dataset", "first-column", "--hidden", "0", "--alphas", "1,10"]
    args += ["--iterations", "50", "--engine", "numba", "--no-save", "--json"]
    said = []
    for _ in range(2):  # the second time as a new process: the machine code loaded
        monkeypatch.setattr(fused, "_modules", {})
        monkeypatch.setattr(numba_engine, "_fused_ready", {})
        monkeypatch.setattr(native, "_loaded", {})
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        said.append("compiling kernels (first run only)" in result.stderr)
    assert said == [True, False]
    (code,) = (tmp_path / "toynn" / "kernels").glob("toynn_fused_*.o")
    assert code.with_suffix(".symbol").read_text().startswith("cfunc.")


# --- the machine code, run without numba (_fused_native) --------------------------------


#: what each script of :func:`_two_processes` starts with
_HEAD = (
    "import sys\n"
    "from toynn_cli.core import engine_numba\n"
    "from toynn_cli.core.datasets import BUILTIN\n"
    "from toynn_cli.core.network import NetworkSpec\n"
    "xor = BUILTIN['xor']\n"
)


def _two_processes(body: str, cache: Path) -> list[list[str]]:
    """``body`` (after :data:`_HEAD`) run by two new processes one after the other,
    with the kernels folder in ``cache``: the words each printed."""
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", _HEAD + body], env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    return [r.stdout.split() for r in runs]


def test_a_later_run_trains_from_the_machine_code_without_importing_numba(numba_engine, tmp_path):
    (first, bits), (second, again) = _two_processes(
        "specs = [NetworkSpec(a, 2, s) for a in (0.5, 1e6) for s in range(20)]\n"
        "r = engine_numba.train_batch(xor.x, xor.y, specs, 700, 100, threads=2)\n"
        "print('numba' in sys.modules, r.final_error.tobytes().hex())\n",
        tmp_path,
    )
    assert (first, second) == ("True", "False")  # compiled by numba, then loaded
    xor = BUILTIN["xor"]
    specs = [NetworkSpec(a, 2, s) for a in (0.5, 1e6) for s in range(20)]
    reference = engine.train_batch(xor.x, xor.y, specs, 700, 100)
    assert bits == again == reference.final_error.tobytes().hex()


@pytest.mark.slow
def test_the_segment_kernels_too_run_from_their_machine_code(numba_engine, tmp_path):
    # hidden 16-16 takes the segment kernels (too wide to fuse), adam their general version:
    # a first process compiles each and keeps its machine code, a second loads it and
    # never imports numba; the same bits as the NumPy engine
    (first, *bits), (second, *again) = _two_processes(
        "bits = []\n"
        "for optimizer in ('sgd', 'adam'):\n"
        "    specs = [NetworkSpec(a, (16, 16), s, optimizer) for a in (0.5, 1e6) for s in range(20)]\n"
        "    r = engine_numba.train_batch(xor.x, xor.y, specs, 300, 100, lambda j: None)\n"
        "    bits.append(r.final_error.tobytes().hex() + r.weights[0].tobytes().hex())\n"
        "print('numba' in sys.modules, *bits)\n",
        tmp_path,
    )
    assert (first, second) == ("True", "False")  # compiled by numba, then loaded
    assert len(list((tmp_path / "toynn" / "kernels").glob("toynn_segment_*.o"))) == 2
    xor = BUILTIN["xor"]
    for optimizer, got, loaded in zip(("sgd", "adam"), bits, again, strict=True):
        specs = [NetworkSpec(a, (16, 16), s, optimizer) for a in (0.5, 1e6) for s in range(20)]
        r = engine.train_batch(xor.x, xor.y, specs, 300, 100)
        assert got == loaded == r.final_error.tobytes().hex() + r.weights[0].tobytes().hex()


def test_the_machine_code_is_kept_per_cpu_as_numba_compiles_for(monkeypatch):
    pytest.importorskip("numba")
    from numba.core.registry import cpu_target

    from toynn_cli.core import _fused_native as native

    # what numba's own codegen says it compiles for, in this process
    assert native.codegen_key() == cpu_target.target_context.codegen().magic_tuple()
    here = native.object_path(Path("/k/toynn_fused_x.py"), native.codegen_key())
    assert here.parent == Path("/k") and here.name.startswith("toynn_fused_x.")
    monkeypatch.setenv("NUMBA_CPU_NAME", "nehalem")
    monkeypatch.setenv("NUMBA_CPU_FEATURES", "+sse4.2")
    key = native.codegen_key()
    assert key[1:] == ("nehalem", "+sse4.2")
    assert native.object_path(Path("/k/toynn_fused_x.py"), key) != here
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    monkeypatch.delenv("NUMBA_CPU_FEATURES")
    assert native.codegen_key()[1:] == ("generic", "")


def test_kernels_unused_for_a_month_are_removed_with_all_their_files(tmp_path):
    import time

    from toynn_cli.core import _fused_native as native

    old, new = "toynn_fused_aaaa", "toynn_segment_bbbb"
    (tmp_path / "__pycache__").mkdir()
    files = {
        old: [f"{old}.py", f"{old}.k1.o", f"{old}.k1.symbol", f"__pycache__/{old}.iterate-3.py311.nbi"],
        new: [f"{new}.k1.o", f"{new}.k1.symbol", f"{new}.k2.o"],
    }  # fmt: skip
    month = time.time() - 31 * 86400
    for name in [*files[old], *files[new]]:
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (month, month))
    os.utime(tmp_path / files[new][2])  # one of its files used now: the kernel stays
    (tmp_path / "other.txt").write_text("not toynn's")
    os.utime(tmp_path / "other.txt", (month, month))
    assert native.prune(tmp_path) == ["fused_aaaa"]
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(["other.txt", *files[new]])
    assert native.prune(tmp_path) == []


def test_loading_a_kernel_marks_it_used(numba_engine):
    import time

    xor = BUILTIN["xor"]
    layout = numba_engine.fused_layout(NetworkSpec(1.0, 4, 0), xor.x.shape, xor.y.shape)
    numba_engine.load_fused(layout)
    path = numba_engine._fused_object(layout)
    week = time.time() - 7 * 86400
    os.utime(path, (week, week))
    from toynn_cli.core import _fused_native as native

    native._loaded.pop(path, None)
    assert native.load(path) is not None
    assert path.stat().st_mtime > time.time() - 60


def test_an_object_that_cannot_be_loaded_is_not(numba_engine, tmp_path):
    from toynn_cli.core import _fused_native as native

    xor = BUILTIN["xor"]
    layout = numba_engine.fused_layout(NetworkSpec(1.0, 4, 0), xor.x.shape, xor.y.shape)
    numba_engine.load_fused(layout)
    code = numba_engine._fused_object(layout).read_bytes()
    undefined = native.undefined_symbols(code)
    assert "memset" in undefined or "memcpy" in undefined  # the C library's
    assert all(not s.startswith("NRT_MemInfo_alloc") for s in undefined)  # allocates nothing
    path = tmp_path / "k.o"
    assert native.load(path) is None  # missing
    path.write_bytes(b"not an object")
    path.with_suffix(".symbol").write_text("cfunc.x")
    assert native.load(path) is None  # not ELF
    with pytest.raises(ValueError, match="ELF"):
        native.undefined_symbols(b"\x7fELF\x01\x01")
    path.write_bytes(code)
    path.with_suffix(".symbol").write_text("no_such_function")
    assert native.load(path) is None  # no such entry point
