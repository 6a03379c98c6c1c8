"""What a run folder records about where and with what it ran: the machine (host name,
CPU model, SIMD level, cores), the software (python, numpy, numba), the config file's
hash and the git commit of the working directory. Read once per run, each fact on its
own: a fact that cannot be read is left out (or null), never an error."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
#: ``git rev-parse`` and ``git status`` get this long before they are given up on.
GIT_TIMEOUT = 2.0

#: /proc/cpuinfo flags, best first, and the SIMD level each names (x86; on ARM the
#: ``Features`` line: sve, asimd).
SIMD_FLAGS = (
    ("avx512f", "AVX-512"),
    ("avx2", "AVX2"),
    ("avx", "AVX"),
    ("sse4_2", "SSE4.2"),
    ("sse4_1", "SSE4.1"),
    ("ssse3", "SSSE3"),
    ("pni", "SSE3"),  # the kernel's name for SSE3
    ("sse2", "SSE2"),
    ("sve", "SVE"),
    ("asimd", "NEON"),
)
#: Without /proc/cpuinfo: the level every CPU of the architecture has.
BASELINE_SIMD = {"x86_64": "SSE2", "amd64": "SSE2", "arm64": "NEON", "aarch64": "NEON"}


def cpuinfo_facts(text: str) -> tuple[str | None, str | None]:
    """The CPU model and best SIMD level named in /proc/cpuinfo's text (None for what it
    does not say). Only the first processor's block is read: they are alike."""
    model = simd = None
    flags: set[str] = set()
    for line in text.splitlines():
        if not line.strip():
            if model or flags:
                break  # the end of the first processor's block
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and model is None and value.strip():
            model = value.strip()
        elif key in ("flags", "features"):
            flags.update(value.split())
    for flag, level in SIMD_FLAGS:
        if flag in flags:
            simd = level
            break
    return model, simd


def cpu_facts() -> dict[str, Any]:
    """``cpu`` (the model), ``simd`` (the best SIMD level) and ``cores`` (logical CPUs)."""
    model = simd = None
    with contextlib.suppress(OSError):  # no /proc/cpuinfo: not Linux
        model, simd = cpuinfo_facts(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    machine = platform.machine()
    if model is None:
        model = platform.processor() or machine or None
    if simd is None:
        simd = BASELINE_SIMD.get(machine.lower())
    return {"cpu": model, "simd": simd, "cores": os.cpu_count()}


def version_of(package: str) -> str | None:
    """An installed package's version (without importing it), or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def git_facts(cwd: Path) -> dict[str, Any]:
    """``git_commit`` (HEAD) and ``git_dirty`` (tracked files changed) of the checkout
    ``cwd`` is in; nothing when git is absent or ``cwd`` is not in a checkout."""
    head = _git(["rev-parse", "HEAD"], cwd)
    if head is None or not head.strip():
        return {}
    facts: dict[str, Any] = {"git_commit": head.strip()}
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    facts["git_dirty"] = None if status is None else bool(status.strip())
    return facts


def facts(cwd: Path | None = None) -> dict[str, Any]:
    """Every fact run.json records about the machine, the software and the checkout."""
    return {
        "host": socket.gethostname() or None,
        **cpu_facts(),
        "python_version": platform.python_version(),
        "numpy_version": version_of("numpy"),
        "numba_version": version_of("numba"),
        **git_facts(cwd or Path.cwd()),
    }
