"""Run folders and atomic files (toynn_cli/runs.py)."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime
from pathlib import Path

import pytest

from toynn_cli.store import runs

NOW = datetime(2026, 3, 4, 5, 6, 7)
STAMP = "20260304-050607"


def leftovers(folder: Path) -> list[str]:
    """Temporary files (``.<name>.<random>.tmp``) left in a folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


# --- create_run_dir -------------------------------------------------------------------


def test_run_folder_name_is_timestamp_and_name(tmp_path):
    path = runs.create_run_dir(tmp_path, "alpha-sweep", NOW)
    assert path == tmp_path / f"{STAMP}-alpha-sweep"
    assert path.is_dir()
    assert list(path.iterdir()) == []


def test_run_folder_uses_the_current_time_by_default(tmp_path):
    before = datetime.now().replace(microsecond=0)
    path = runs.create_run_dir(tmp_path, "x")
    after = datetime.now()
    stamp = datetime.strptime(path.name.removesuffix("-x"), "%Y%m%d-%H%M%S")
    assert before <= stamp <= after


def test_same_second_gets_numbered_suffixes(tmp_path):
    paths = [runs.create_run_dir(tmp_path, "xor", NOW) for _ in range(3)]
    assert [p.name for p in paths] == [f"{STAMP}-xor", f"{STAMP}-xor-2", f"{STAMP}-xor-3"]
    assert all(p.is_dir() for p in paths)


def test_existing_folder_is_never_reused_or_touched(tmp_path):
    first = runs.create_run_dir(tmp_path, "xor", NOW)
    (first / "results.json").write_text("old")
    second = runs.create_run_dir(tmp_path, "xor", NOW)
    assert second != first
    assert (first / "results.json").read_text() == "old"
    assert list(second.iterdir()) == []


@pytest.mark.parametrize("kind", ["file", "dangling symlink"])
def test_any_entry_with_the_name_is_skipped(tmp_path, kind):
    taken = tmp_path / f"{STAMP}-xor"
    if kind == "file":
        taken.write_text("not a run")
    else:
        taken.symlink_to(tmp_path / "nowhere")
    path = runs.create_run_dir(tmp_path, "xor", NOW)
    assert path.name == f"{STAMP}-xor-2"
    assert taken.is_symlink() or taken.read_text() == "not a run"


def test_a_different_name_in_the_same_second_gets_no_suffix(tmp_path):
    runs.create_run_dir(tmp_path, "xor", NOW)
    assert runs.create_run_dir(tmp_path, "two-layer", NOW).name == f"{STAMP}-two-layer"


def test_missing_parents_are_created(tmp_path):
    path = runs.create_run_dir(tmp_path / "a" / "b", "xor", NOW)
    assert path == tmp_path / "a" / "b" / f"{STAMP}-xor"
    assert path.is_dir()


def test_parent_that_is_a_file_is_a_one_line_error(tmp_path):
    parent = tmp_path / "runs"
    parent.write_text("")
    with pytest.raises(runs.RunDirError) as caught:
        runs.create_run_dir(parent, "xor", NOW)
    assert str(caught.value) == f"option --out: cannot create '{parent}': File exists"
    assert isinstance(caught.value, OSError)


def test_parent_under_a_file_is_a_one_line_error(tmp_path):
    (tmp_path / "f").write_text("")
    parent = tmp_path / "f" / "runs"
    with pytest.raises(runs.RunDirError) as caught:
        runs.create_run_dir(parent, "xor", NOW)
    assert str(caught.value) == f"option --out: cannot create '{parent}': Not a directory"


def test_no_free_name_left(tmp_path, monkeypatch):
    def taken(path, *args, **kwargs):
        raise FileExistsError(17, "File exists", str(path))

    monkeypatch.setattr(runs.os, "mkdir", taken)
    with pytest.raises(runs.RunDirError) as caught:
        runs.create_run_dir(tmp_path, "xor", NOW)
    assert str(caught.value) == f"option --out: '{tmp_path}' has no free name left for {STAMP}-xor"


def test_other_mkdir_failures_name_the_parent(tmp_path, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(runs.os, "mkdir", denied)
    with pytest.raises(runs.RunDirError) as caught:
        runs.create_run_dir(tmp_path, "xor", NOW)
    assert str(caught.value) == (
        f"option --out: cannot create a run folder in '{tmp_path}': Permission denied"
    )


def test_concurrent_runs_never_share_a_folder(tmp_path):
    n = 16
    barrier = threading.Barrier(n)
    made: list[Path] = []
    lock = threading.Lock()

    def create() -> None:
        barrier.wait()
        path = runs.create_run_dir(tmp_path, "xor", NOW)
        with lock:
            made.append(path)

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == len(set(made)) == n
    expected = {f"{STAMP}-xor"} | {f"{STAMP}-xor-{k}" for k in range(2, n + 1)}
    assert {p.name for p in made} == expected


# --- atomic_write -------------------------------------------------------------------


def test_atomic_write_text_is_utf8(tmp_path):
    path = tmp_path / "report.txt"
    runs.atomic_write(path, "alpha ★ 10\n")
    assert path.read_bytes() == "alpha ★ 10\n".encode()
    assert leftovers(tmp_path) == []


def test_atomic_write_bytes(tmp_path):
    path = tmp_path / "weights.npz"
    runs.atomic_write(path, b"\x00\x01\xff")
    assert path.read_bytes() == b"\x00\x01\xff"
    assert leftovers(tmp_path) == []


def test_atomic_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("old")
    runs.atomic_write(path, "new")
    assert path.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_atomic_write_gives_an_ordinary_file_mode(tmp_path):
    """Not mkstemp's private 0o600: what open() would give under the umask."""
    old = os.umask(0o027)
    try:
        runs.atomic_write(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    runs.atomic_write(tmp_path / "b.txt", "x")
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o666 & ~old


def test_atomic_write_goes_through_a_temporary_name_in_the_same_folder(tmp_path, monkeypatch):
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((str(src), str(dst)))
        assert not Path(dst).exists()  # the final name appears only with the rename
        real_replace(src, dst)

    monkeypatch.setattr(runs.os, "replace", replace)
    runs.atomic_write(tmp_path / "results.json", "{}")
    [(src, dst)] = seen
    assert Path(src).parent == tmp_path
    assert Path(src).name.startswith(".results.json.") and src.endswith(".tmp")
    assert dst == str(tmp_path / "results.json")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_leaves_no_temp_file_and_no_final_file(tmp_path, monkeypatch, failing):
    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs.os, failing, fail)
    path = tmp_path / "results.json"
    with pytest.raises(OSError, match="No space left"):
        runs.atomic_write(path, "{" * 100_000)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text('{"status": "running"}')

    def fail(*args):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(runs.os, "fsync", fail)
    with pytest.raises(OSError):
        runs.atomic_write(path, '{"status": "complete"}')
    assert path.read_text() == '{"status": "running"}'
    assert leftovers(tmp_path) == []


def test_ctrl_c_during_a_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        runs.atomic_write(tmp_path / "metrics.csv", "network,alpha\n")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_into_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        runs.atomic_write(tmp_path / "missing" / "a.txt", "x")
    assert list(tmp_path.iterdir()) == []


# --- write_status -------------------------------------------------------------------


def test_write_status_records_state_time_and_info(tmp_path):
    runs.write_status(tmp_path, "running", command="toynn sweep", networks=7)
    record = json.loads((tmp_path / "run.json").read_text())
    assert record.pop("status") == "running"
    updated = datetime.fromisoformat(record.pop("updated"))
    assert abs((datetime.now() - updated).total_seconds()) < 60
    assert record == {"command": "toynn sweep", "networks": 7}

    runs.write_status(tmp_path, "complete", command="toynn sweep", networks=7, networks_done=7)
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["status"] == "complete"
    assert record["networks_done"] == 7
    assert (tmp_path / "run.json").read_text().endswith("}\n")
    assert leftovers(tmp_path) == []


def test_clear_temporary_removes_only_atomic_writes_leftovers(tmp_path):
    (tmp_path / "chunks").mkdir()
    left = [
        tmp_path / ".run.json.603bd610d233.tmp",
        tmp_path / "chunks" / ".00002.npz.0123456789ab.tmp",
    ]
    kept = [
        tmp_path / "notes.tmp",  # not ours: no dot, no random part
        tmp_path / ".run.json.xyz.tmp",
        tmp_path / ".run.json.603bd610d233.tmp.bak",
        tmp_path / "run.json",
    ]
    for path in left + kept:
        path.write_text("x")
    assert runs.clear_temporary(tmp_path) == sorted(left)
    assert not any(p.exists() for p in left)
    assert all(p.exists() for p in kept)
    assert runs.clear_temporary(tmp_path) == []
