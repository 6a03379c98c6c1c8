"""The compiled kernels' machine code, run without numba (imported by
:mod:`toynn_cli.core.engine_numba`; imports llvmlite, which numba installs, not numba).

Importing numba and loading a cached kernel through it costs about 0.4 s a process
(numba's import, then its typing and lowering registries, filled before the first
cached function loads), more than `toynn train` spends training the tutorial's
network. A kernel needs none of that once compiled: the entry point of a fused kernel
(:mod:`toynn_cli.core._numba_fused`) and of each version of the segment kernels
(``_numba_kernels.native``) is a C function (``numba.cfunc``) over raw pointers that
allocates nothing, so its object code, written when numba compiles it (:func:`keep`),
is loaded here into an LLVM execution engine and called through ctypes (which
releases the GIL, so blocks still train on threads).

The object is the code numba compiled for the CPU numba targets (its name, its
features, the process's triple: numba's ``magic_tuple``, the key of its own cache), so
it is used only where numba would compile the same: :func:`codegen_key` works that
out as numba does, from the host and numba's environment variables, and a file made
for another key is never loaded. Symbols the object leaves undefined come from the
process (the C library, Python's C API), except numba's runtime helpers, which only
its error paths call (an exception, an allocation: the kernel has neither): those
point at ``abort``. An object that needs anything else is not loaded; the engine
compiles with numba instead. Linux (ELF objects) only; elsewhere numba runs the kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the C signature of a fused kernel's entry point, in order: x, y, w, prev (uint8),
#: changes, alphas; j0, j1; check_its, hist_its, check_err, check_acc, hist_err,
#: final_err, outputs; n, checks, histories, finals, size, first, last; S, T (scratch)
_P, _I = ctypes.c_void_p, ctypes.c_int64
ARGTYPES = (_P,) * 6 + (_I,) * 2 + (_P,) * 7 + (_I,) * 7 + (_P,) * 2
#: prefixes of numba's runtime helpers, bound to ``abort`` (see the module docstring)
NUMBA_HELPERS = ("NRT_", "numba_")
#: CPUs on which numba turns AVX off by default (numba.core.config)
_NO_AVX = {"corei7-avx", "core-avx-i", "sandybridge", "ivybridge", "nocona"}

_engines: list[Any] = []  # kept alive: the code lives in them
_loaded: dict[Path, Callable[..., None]] = {}


def codegen_key() -> tuple[str, str, str]:
    """(triple, CPU name, features) numba would compile for in this process: its
    ``CPUCodegen.magic_tuple()``, worked out without importing numba."""
    from llvmlite import binding

    name = os.environ.get("NUMBA_CPU_NAME") or binding.get_host_cpu_name()
    features = os.environ.get("NUMBA_CPU_FEATURES")
    if features is None and name.lower() == "generic":
        features = ""
    if features is None:
        try:
            found = binding.get_host_cpu_features()
        except RuntimeError:
            features = ""
        else:
            avx = os.environ.get("NUMBA_ENABLE_AVX")
            if (avx is not None and not int(avx)) or (avx is None and name in _NO_AVX):
                for key in found:
                    if key.startswith("avx"):
                        found[key] = False
            features = found.flatten()
    return binding.get_process_triple(), name, features


def object_path(module_path: Path, key: tuple[str, str, str]) -> Path:
    """Where the machine code of the generated module at ``module_path`` for codegen
    ``key`` is kept (a digest of the key, llvmlite's and Python's versions)."""
    from llvmlite import __version__ as llvmlite_version

    text = json.dumps([list(key), llvmlite_version, sys.version])
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return module_path.with_name(f"{module_path.stem}.{digest}.o")


def undefined_symbols(elf: bytes) -> list[str]:
    """The names an ELF64 little-endian object file leaves undefined."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF object")
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names = []
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strings = sections[link][4]
        for at in range(offset + entsize, offset + size, entsize):  # entry 0 is null
            name, _, _, shndx = struct.unpack_from("<IBBH", elf, at)
            if shndx == 0 and name:
                end = elf.index(b"\0", strings + name)
                names.append(elf[strings + name : end].decode())
    return names


def write(path: Path, code: bytes, symbol: str) -> None:
    """Keep ``code`` (an object file whose entry point is ``symbol``) at ``path``, and
    the symbol beside it, each written atomically."""
    for target, data in ((path.with_suffix(".symbol"), symbol.encode()), (path, code)):
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)


def argtypes(kinds: tuple[str, ...]) -> tuple[Any, ...]:
    """ctypes' types for a C entry point's arguments: "int" an int64, else a pointer
    (see :data:`toynn_cli.core.kernel_settings.SEGMENT_ARGS`)."""
    return tuple(_I if kind == "int" else _P for kind in kinds)


def keep(entry: Any, module_path: Path, types: tuple[Any, ...]) -> Callable[..., None]:
    """A kernel's C entry point just compiled by numba (a ``numba.cfunc``), as a ctypes
    function of ``types``: its object code written beside ``module_path`` for later runs
    (:func:`object_path`) and loaded from there, or where that cannot be done (numba
    compiled for another key, a symbol the object needs), called where numba put it."""
    library = entry._library
    key = library.codegen.magic_tuple()
    if key == codegen_key():
        path = object_path(module_path, key)
        write(path, library.codegen._tm.emit_object(library._final_module), entry.native_name)
        prune(path.parent)
        loaded = load(path, types)
        if loaded is not None:
            return loaded
    _entries.append(entry)  # kept alive: its code is numba's
    return ctypes.CFUNCTYPE(None, *types)(entry.address)


_entries: list[Any] = []


#: A kernel's files unused for this long are removed when another kernel is compiled
#: (another toynn version's, another CPU's, another layout's; loading one marks it used)
UNUSED_DAYS = 30


def prune(folder: Path, days: float = UNUSED_DAYS) -> list[str]:
    """Remove the kernels in ``folder`` (its ``toynn_<kind>_<digest>`` files: generated
    module, object files and symbols for every CPU, numba's cache of them in
    ``__pycache__``) whose newest file is older than ``days``; returns their names."""
    groups: dict[str, list[Path]] = {}
    for path in [*folder.glob("toynn_*"), *folder.glob("__pycache__/toynn_*")]:
        kind, _, rest = path.name.partition("_")[2].partition("_")
        groups.setdefault(f"{kind}_{rest.split('.')[0]}", []).append(path)
    cutoff = time.time() - days * 86400
    removed = []
    for name, paths in sorted(groups.items()):
        try:
            if max(path.stat().st_mtime for path in paths) >= cutoff:
                continue
            for path in paths:
                path.unlink(missing_ok=True)
        except OSError:  # another process's at the same moment: its own business
            continue
        removed.append(name)
    return removed


def load(path: Path, types: tuple[Any, ...] = ARGTYPES) -> Callable[..., None] | None:
    """The entry point of the object file at ``path``, as a ctypes function of ``types``
    (a fused kernel's :data:`ARGTYPES` unless told); None when there is none or it
    cannot be loaded here (another platform, a symbol this process does not have)."""
    found = _loaded.get(path)
    if found is not None:
        return found
    try:
        code = path.read_bytes()
        symbol = path.with_suffix(".symbol").read_text()
        undefined = undefined_symbols(code)
    except (OSError, ValueError, struct.error):
        return None
    from llvmlite import binding

    binding.initialize_native_target()
    binding.initialize_native_asmprinter()
    process = ctypes.CDLL(None)  # the C library, Python's C API, what else is loaded
    abort = ctypes.cast(process.abort, ctypes.c_void_p).value
    for name in undefined:
        if hasattr(process, name) or binding.address_of_symbol(name) is not None:
            continue
        if not name.startswith(NUMBA_HELPERS):
            return None
        binding.add_symbol(name, abort)
    machine = binding.Target.from_default_triple().create_target_machine()
    engine = binding.create_mcjit_compiler(binding.parse_assembly(""), machine)
    engine.add_object_file(binding.ObjectFileRef.from_data(code))
    engine.finalize_object()
    address = engine.get_function_address(symbol)
    if not address:
        return None
    _engines.append(engine)
    with contextlib.suppress(OSError):
        os.utime(path)  # used now (see prune)
    found = ctypes.CFUNCTYPE(None, *types)(address)
    _loaded[path] = found
    return found
