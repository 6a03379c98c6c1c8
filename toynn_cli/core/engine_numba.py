"""The compiled engine (``--engine numba``): the NumPy engine's math, loops compiled by
Numba. Optional: install with ``pip install 'toynn[fast]'``.

Same contract and outputs as :func:`toynn_cli.core.engine.train_batch` (the reference and
the default). The arithmetic is the NumPy engine's, operation for operation, in the
same order (see that module's docstring): products are explicit sums over the
contracted index k = 0, 1, 2, ..., the bias row added last; the sigmoid is
``1 / (1 + exp(-z))`` with toynn's own exp and tanh (:mod:`toynn_cli.core.portable`, the
NumPy engine's too), relu and leaky_relu NumPy's maximum (NaN kept, the second operand on
a tie); each derivative from the layer's output; ``fastmath`` is off, so
the compiler neither reorders sums nor fuses a multiply and an add into an FMA. The
update step (clipping, learning-rate schedules, early stopping, every optimizer of
:mod:`toynn_cli.core.optim`) is :mod:`toynn_cli.core._numba_update`'s, the same
operations too. The two engines give the same bits, on any CPU (but for the sign of a
NaN, which follows the order of an operation's operands, a compiler's choice).

Early stopping: a stopped network's weights stay as they are in both engines; a block
whose networks have all stopped stops training and fills its later records with its
current errors, as the NumPy engine does when every network of its batch has stopped.

Layout and batch independence. Networks are processed in blocks of up to ``BLOCK``
(:func:`block_size`); a block's weights and activations are ``(rows, networks)``
arrays, every innermost loop runs over the networks of the block (contiguous, so the
compiler vectorises it with SIMD), and each network's numbers go through the same
scalar IEEE operations whatever its block holds. Blocks are independent: ``threads``
Python threads train contiguous ranges of them at once (the compiled function releases
the GIL); a network's results are bit-identical alone or in any batch, on any number
of threads.

Two compiled versions (``_numba_kernels.build``): the tutorial's networks (sigmoid,
squared loss, plain gradient descent, any layers and bias) and every other setting;
each compiles on its first use, behind a C entry point over pointers that allocates
nothing, and later runs load its machine code without importing numba (:func:`load`,
:mod:`toynn_cli.core._fused_native`). The tutorial's networks on few samples get a
kernel of their own layout instead (:mod:`toynn_cli.core._numba_fused`): small ones (up
to ``blocks.MAX_UNITS`` sigmoid units an iteration: the tutorial's own, 3-4-1 on
4 samples) one iteration written out as straight-line code, one hidden layer of
``blocks.LOOPED_FROM`` units or more a loop over its units
(:mod:`toynn_cli.core._fused_units`); the same bits; numba compiles it once per layout
and CPU, and later runs load its machine code without importing numba
(:mod:`toynn_cli.core._fused_native`).

``--engine numba-fast`` is the same engine: it had its own vectorised exp before the
portable one (which vectorises as well) replaced the C library's; the name stays for
existing configs and scripts, and gives the same results as ``numba``.

Numba is imported only when a kernel must be compiled (:func:`available`, :func:`load`,
:func:`load_fused`): on the first run of a version or layout on this CPU; numba's own
disk cache (``cache=True``) keeps the compiled functions those entry points call.
No printing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from toynn_cli.core import blocks, kernel_settings, layers, network
from toynn_cli.core.blocks import block_size
from toynn_cli.core.network import BatchResult, NetworkSpec

#: How to get the engine, for messages.
INSTALL_HINT = "pip install 'toynn[fast]'"

#: Seconds each compiled version took to get ready in this process ("tutorial",
#: "general"): compiling it, or loading its machine code after the first run.
ready_seconds: dict[str, float] = {}
#: the names of the compiled versions in :data:`ready_seconds` (and "fused": the fused
#: kernels this process used, together)
_VERSIONS = {False: "tutorial", True: "general"}


def available() -> bool:
    """Whether numba is installed (found, not imported: a run whose fused kernels were
    compiled before never imports it, see :mod:`toynn_cli.core._fused_native`)."""
    _configure_numba()
    if "numba" in sys.modules:
        return sys.modules["numba"] is not None  # None: made unimportable (the tests)
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        return False


def _configure_numba() -> None:
    """Numba's settings for the kernels, as environment defaults, unless numba was
    imported before us (it reads them on import; worker processes inherit them).

    Intel's SVML (when installed) replaces math functions in vectorised loops with its
    own. The kernels call none (their exp is toynn's), but keep it off all the same.

    On a CPU with AVX-512, LLVM's tuning prefers 256-bit vectors; the kernels run about
    1.2x faster with 512-bit ones (see bench/README.md), and give the same bits (each
    lane does the same IEEE operations; fastmath stays off, so there are no FMAs or
    reordered sums). So NUMBA_CPU_FEATURES defaults to the host's features with
    ``-prefer-256-bit``, unless NUMBA_CPU_NAME or NUMBA_CPU_FEATURES is set.
    """
    if "numba" in sys.modules:
        return
    os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
    if "NUMBA_CPU_NAME" not in os.environ and "NUMBA_CPU_FEATURES" not in os.environ:
        features = _wide_vector_features()
        if features is not None:
            os.environ["NUMBA_CPU_FEATURES"] = features


def _wide_vector_features() -> str | None:
    """The host CPU's features, as LLVM names them, with 512-bit vectors allowed; None
    without AVX-512 (nothing to change) or when llvmlite cannot say."""
    try:
        from llvmlite import binding

        features = binding.get_host_cpu_features()
    except (ImportError, RuntimeError):
        return None
    if not features.get("avx512f"):
        return None
    return features.flatten() + ",-prefer-256-bit"


def _import_kernels() -> ModuleType:
    _configure_numba()
    from toynn_cli.core import _numba_kernels

    _numba_kernels.refresh_cache()
    if _numba_kernels.numba.config.USING_SVML:
        raise RuntimeError(
            "the numba engine needs numba without Intel SVML (set NUMBA_DISABLE_INTEL_SVML=1)"
        )
    return _numba_kernels


#: The settings this engine trains only at these values (the tutorial's); every other
#: setting (layers, bias, activation, loss, optimizer and hyperparameters, init,
#: clipping, schedule, early stopping) it trains at any value.
_PLAIN: dict[str, Any] = {
    "batch_size": 0,
    "dropout": 0.0,
    "batch_norm": False,
}


def supports(spec: NetworkSpec) -> bool:
    """Whether this engine trains ``spec``: full batches, no dropout or batch norm; any
    layers, bias, activation, loss, optimizer (with its hyperparameters),
    initialisation, clipping, schedule and early stopping."""
    return unsupported(spec) is None


def unsupported(spec: NetworkSpec) -> tuple[str, Any] | None:
    """The first setting of ``spec`` this engine cannot train, as (field, value)."""
    for key, value in _PLAIN.items():
        if getattr(spec, key, value) != value:
            return key, getattr(spec, key)
    return None


def load(general: bool = False) -> Callable[..., None]:
    """The segment kernels' C entry point (kernel_settings.SEGMENT_ARGS), the tutorial's
    version or, with ``general``, the one for every setting (:func:`is_general`), as a
    ctypes function: its machine code loaded without numba when an earlier run left it
    for this CPU (:func:`_segment_object`), else compiled by numba (which keeps it for the
    next run); the time it took kept in :data:`ready_seconds`."""
    found = _segment_ready.get(general)
    if found is not None:
        return found
    from toynn_cli.core import _fused_native

    start = time.perf_counter()
    found = _fused_native.load(
        _segment_object(general), _fused_native.argtypes(kernel_settings.SEGMENT_ARGS)
    )
    if found is None:
        found = _import_kernels().native(general, _segment_path(general))
    ready_seconds[_VERSIONS[general]] = time.perf_counter() - start
    _segment_ready[general] = found
    return found


_segment_ready: dict[bool, Callable[..., None]] = {}
#: the files whose code the segment kernels' machine code is made of
_SEGMENT_SOURCES = (
    "_numba_kernels.py", "_numba_update.py", "kernel_settings.py", "network.py", "blocks.py",
)  # fmt: skip


def _segment_path(general: bool) -> Path:
    """Names the segment kernels' object files (:func:`_fused_native.object_path`): a
    digest of their sources (this package's portable functions too) and the version."""
    from toynn_cli.core import _numba_fused, portable

    here = Path(__file__).parent
    paths = [here / name for name in _SEGMENT_SOURCES]
    paths += sorted(Path(portable.__file__).parent.glob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in paths))
    digest.update(_VERSIONS[general].encode())
    return _numba_fused.directory() / f"toynn_segment_{digest.hexdigest()[:20]}.py"


def _segment_object(general: bool) -> Path:
    """Where the machine code of a segment kernel version for this CPU is kept."""
    from toynn_cli.core import _fused_native

    _configure_numba()  # its CPU features are part of the key
    return _fused_native.object_path(_segment_path(general), _fused_native.codegen_key())


def is_general(spec: NetworkSpec) -> bool:
    """Whether ``spec`` needs the kernels for every setting, not the tutorial's."""
    return kernel_settings.general(*kernel_settings.settings(spec, 1))


def fused_layout(spec: NetworkSpec, x_shape: tuple[int, ...], y_shape: tuple[int, ...]) -> Any:
    """The fused kernel's layout (:class:`toynn_cli.core.blocks.Layout`) for networks
    like ``spec`` on data of these shapes, or None when they take the segment kernels
    (another setting than the tutorial's, or too wide: :func:`blocks.fits`). No numba."""
    if is_general(spec):
        return None
    sizes = tuple(network.layer_sizes(x_shape[1], spec.hidden, y_shape[1]))
    layout = blocks.Layout(sizes, x_shape[0], spec.bias)
    return layout if blocks.fits(layout) else None


def versions(
    specs: Sequence[NetworkSpec], x: np.ndarray | None = None, y: np.ndarray | None = None
) -> set[Any]:
    """What ``specs`` need compiled: the segment kernels' versions (:func:`is_general`)
    and, given the data, the fused kernels' layouts (:func:`fused_layout`) that replace
    the tutorial's version; decided once per distinct setting but alpha and seed
    (network.distinct); the tutorial's version if none."""
    found: set[Any] = set()
    for spec in network.distinct(specs):
        layout = None if x is None or y is None else fused_layout(spec, x.shape, y.shape)
        found.add(is_general(spec) if layout is None else layout)
    return found or {False}


def prepare(
    specs: Sequence[NetworkSpec], x: np.ndarray | None = None, y: np.ndarray | None = None
) -> None:
    """Every kernel ``specs`` need on this data compiled or loaded (:func:`versions`)."""
    for version in versions(specs, x, y):
        if isinstance(version, bool):
            load(version)
        else:
            load_fused(version)


def _fused_object(layout: Any) -> Path:
    """Where the machine code of ``layout``'s fused kernel for this CPU is kept."""
    from toynn_cli.core import _fused_native, _numba_fused

    _configure_numba()  # its CPU features are part of the key
    return _fused_native.object_path(_numba_fused.module_path(layout), _fused_native.codegen_key())


def load_fused(layout: Any) -> Callable[..., None]:
    """The fused kernel of ``layout`` (a C function, see :mod:`toynn_cli.core._fused_native`):
    its machine code loaded without numba when an earlier run left it for this CPU, else
    compiled by numba (which keeps it for the next run); the time it took added to
    :data:`ready_seconds` ("fused")."""
    found = _fused_ready.get(layout)
    if found is not None:
        return found
    from toynn_cli.core import _fused_native

    start = time.perf_counter()
    found = _fused_native.load(_fused_object(layout))
    if found is None:
        _import_kernels()  # numba configured before the generated module imports it
        from toynn_cli.core import _numba_fused

        found = _numba_fused.native(layout)
    ready_seconds["fused"] = ready_seconds.get("fused", 0.0) + time.perf_counter() - start
    _fused_ready[layout] = found
    return found


_fused_ready: dict[Any, Callable[..., None]] = {}


def _fused_scratch(layout: Any) -> int:
    """Float64s of scratch a fused kernel's call needs (two arrays of them)."""
    from toynn_cli.core import _numba_fused

    return _numba_fused.scratch_size(layout)


def _ptr(a: np.ndarray) -> int:
    """The address of a C-contiguous array's data, for a fused kernel."""
    assert a.flags.c_contiguous
    return a.ctypes.data


def _run_spans(
    train: Callable[[int, int, tuple], None],
    spans: list[tuple],
    bounds: list[int],
    progress: Callable[[int], None] | None,
) -> None:
    """``train(j0, j1, span)`` for every segment of ``bounds`` of every span, each span's
    segments in order on a thread of its own (spans share no networks: no thread waits
    for another between segments; a thread pool handed a task per span and segment left
    one thread idle in most segments: its queue woke one worker for two tasks);
    ``progress`` told, from this thread, the iterations every span has done. An
    exception here (an interrupt) or in a thread stops them all after their segment."""
    segments = list(itertools.pairwise(bounds))
    if len(spans) == 1:
        for j0, j1 in segments:
            train(j0, j1, spans[0])
            if progress is not None:
                progress(j1)
        return
    done = [bounds[0]] * len(spans)
    stop = threading.Event()  # set when a thread fails or this one stops waiting
    ended = threading.Event()  # set when every thread has ended, or one failed
    errors: list[BaseException] = []
    running = [len(spans)]
    lock = threading.Lock()

    def run(k: int) -> None:
        try:
            for j0, j1 in segments:
                if stop.is_set():
                    return
                train(j0, j1, spans[k])
                done[k] = j1
        except BaseException as error:  # raised again in this thread
            errors.append(error)
            stop.set()
        finally:
            with lock:
                running[0] -= 1
                if running[0] == 0 or errors:
                    ended.set()

    workers = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(len(spans))]
    for worker in workers:
        worker.start()
    reported = bounds[0]
    try:
        while not ended.wait(0.05):
            if progress is not None and min(done) > reported:
                reported = min(done)
                progress(reported)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    if errors:
        raise errors[0]
    if progress is not None and min(done) > reported:
        progress(min(done))


def needs_compiling(
    specs: Sequence[NetworkSpec] = (), x: np.ndarray | None = None, y: np.ndarray | None = None
) -> bool:
    """Whether getting ready for ``specs`` (on this data) will compile kernels rather
    than load them from numba's disk cache: the first run of these settings after an
    install or an upgrade."""
    try:
        for version in versions(specs, x, y):
            if isinstance(version, bool):
                if version not in _segment_ready and not _segment_object(version).exists():
                    return True
            elif version not in _fused_ready and not _fused_object(version).exists():
                return True
    except (ImportError, OSError):  # no llvmlite, no cache folder: no message
        return False
    return False


#: the types of the segment kernels' three scratch arrays
_SCRATCH_TYPES = (np.float64, np.int64, np.bool_)


def train_batch(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    record_every: int = 0,
    fast_exp: bool = False,
    fused: bool = True,
) -> BatchResult:
    """:func:`toynn_cli.core.engine.train_batch`, compiled. ``threads``: how many threads
    train blocks of networks at once (None: numba's default, the cores available;
    results do not depend on it). ``fast_exp`` (``--engine numba-fast``) changes
    nothing any more: both use toynn's portable exp. ``fused`` False: the segment
    kernels even where a fused kernel fits (the tests compare the two)."""
    first = specs[0]
    hidden = first.hidden
    if any(spec.hidden != hidden for spec in specs):
        raise ValueError("train_batch needs networks of one hidden size")
    distinct, layout = network.distinct(specs), network.layout_key(first)
    if any(network.layout_key(spec) != layout for spec in distinct):
        raise ValueError("train_batch needs networks of one layout (see layout_key)")
    unsupported = [spec for spec in distinct if not supports(spec)]
    if unsupported:
        raise ValueError(f"the numba engine cannot train {unsupported[0]}")

    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    sizes = network.layer_sizes(x.shape[1], hidden, y.shape[1])
    # each layer's weight matrix: its inputs (and the bias row) by its units
    pairs = [(a + first.bias, b) for a, b in itertools.pairwise(sizes)]
    n = len(specs)

    rows = network.initial_weight_rows(specs, sizes, first.bias)
    initial = network.weight_layers(rows, sizes, first.bias)
    # all weights as one (parameters, networks) array, layer by layer, row-major: a copy
    # (ascontiguousarray would hand back rows' own memory for one network: the kernel
    # would train the initial weights in place)
    w = rows.T.copy(order="C")
    prev = np.zeros(w.shape, dtype=np.bool_)
    changes = np.zeros(w.shape, dtype=np.int64)
    alphas = np.array([spec.alpha for spec in specs], dtype=np.float64)
    # the update step's settings, the optimizer's state, early stopping's record
    codes, hyper = kernel_settings.settings(first, iterations)
    state = kernel_settings.initial_state(codes, hyper, w.shape[0], n)
    active = np.ones(n, dtype=np.bool_)
    stopped_at = np.full(n, -1, dtype=np.int64)
    check_its = network.checkpoints(iterations, log_every)
    hist_its = network.history_schedule(iterations, record_every)
    check_err = np.empty((len(check_its), n))
    check_acc = np.empty((len(check_its), n))
    hist_err = np.empty((len(hist_its), n))
    final_err = np.empty(n)
    outputs = np.empty((x.shape[0] * sizes[-1], n))
    no_final = np.empty(0)

    # the blocks shared out in contiguous ranges to threads (the kernel releases the GIL;
    # each block's columns are its own): as many threads as asked, cores, or blocks
    wanted = threads if threads is not None else len(os.sched_getaffinity(0))
    layout = fused_layout(first, x.shape, y.shape) if fused else None
    # a fused kernel (a C function over pointers) trains the same blocks, blocks.fused_lanes
    # networks at a time, each thread with scratch of its own
    fused_kernel = None if layout is None else load_fused(layout)
    segment = load(kernel_settings.general(codes, hyper)) if fused_kernel is None else fused_kernel
    block = block_size(n, wanted)
    blocks = -(-n // block)
    ranges = np.array_split(np.arange(blocks), max(1, min(wanted, blocks)))
    spans: list[tuple] = [(int(r[0]), int(r[-1]) + 1) for r in ranges if len(r)]
    sizes_array = np.array(sizes, dtype=np.int64)
    if layout is not None:
        scratch = [np.empty(_fused_scratch(layout)) for _ in range(2 * len(spans))]
        spans = [
            (*span, _ptr(scratch[2 * k]), _ptr(scratch[2 * k + 1])) for k, span in enumerate(spans)
        ]
        fixed = tuple(_ptr(a) for a in (x, y, w, prev.view(np.uint8), changes, alphas))
    else:  # each thread's scratch: the block's arrays (kernel_settings.scratch_sizes)
        counts = kernel_settings.scratch_sizes(
            sizes_array, x.shape[0], first.bias, state.shape[0], block
        )
        scratch = [np.empty(c, dtype=t) for _ in spans for c, t in zip(counts, _SCRATCH_TYPES)]
        spans = [
            (*span, *map(_ptr, scratch[3 * k : 3 * k + 3]), *counts) for k, span in enumerate(spans)
        ]
        arrays = (x, y, sizes_array, w, prev, changes, state, active, stopped_at, alphas)
        fixed = tuple(_ptr(a) for a in (*arrays, codes, hyper))
        shapes = (x.shape[0], x.shape[1], y.shape[1], len(sizes), w.shape[0], n, state.shape[0])
    report_every = max(1, iterations // 100) if progress is not None else iterations
    bounds = [*range(0, iterations, report_every), iterations] if iterations > 0 else [0, 0]

    def train(j0: int, j1: int, span: tuple) -> None:  # iterations j0..j1-1 of a span
        final = final_err if j1 == iterations else no_final
        if layout is None:
            segment(
                *fixed, *map(_ptr, (check_its, hist_its, check_err, check_acc, hist_err)),
                _ptr(final), _ptr(outputs), j0, j1, *shapes, len(check_its), len(hist_its),
                len(final), outputs.shape[0], block, *span,
            )  # fmt: skip
        else:
            segment(
                *fixed, j0, j1, *map(_ptr, (check_its, hist_its, check_err, check_acc)),
                _ptr(hist_err), _ptr(final), _ptr(outputs), n, len(check_its),
                len(hist_its), len(final), block, *span,
            )  # fmt: skip

    with np.errstate(all="ignore"):
        _run_spans(train, spans, bounds, progress)

    def unflatten(flat: np.ndarray) -> list[np.ndarray]:
        out, start = [], 0
        for a, b in pairs:
            out.append(np.ascontiguousarray(flat[start : start + a * b].T).reshape(n, a, b))
            start += a * b
        return out

    final_out = np.ascontiguousarray(outputs.T).reshape(n, x.shape[0], sizes[-1])
    if layers.is_classification(y):
        # the final accuracy by the NumPy engine's function, from the same outputs
        final_acc = layers.accuracy(np.moveaxis(final_out, 0, -1), y[:, :, None])
    else:
        check_acc[:] = np.nan
        final_acc = np.full(n, np.nan)
    return BatchResult(
        specs=network.as_list(specs),
        iterations=iterations,
        checkpoint_iterations=check_its,
        checkpoint_errors=np.ascontiguousarray(check_err.T),
        final_error=final_err,
        history_iterations=hist_its,
        history_errors=np.ascontiguousarray(hist_err.T),
        weights_initial=[np.ascontiguousarray(v) for v in initial],
        weights=unflatten(w),
        direction_changes=unflatten(changes),
        outputs=final_out,
        stopped_at=stopped_at,  # -1: did not stop early
        checkpoint_accuracy=np.ascontiguousarray(check_acc.T),
        final_accuracy=final_acc,
    )
