"""A run folder that tells its story: run.json's facts (the config's hash, times, the
machine, the versions, the git commit), the failed state, and where they are shown
(``toynn show``, ``toynn runs --json``)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import re
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

import numba
import numpy
import pytest
from clitools import invoke, invoke_ok

from toynn_cli import __version__
from toynn_cli.run import executor
from toynn_cli.store import provenance, runs
from toynn_cli.view import story

pytestmark = pytest.mark.usefixtures("cli_env")

QUICK = ["--alphas", "0.5,2", "--iterations", 200, "--log-every", 100, "--engine", "numpy",
         "--no-figures", "-q"]  # fmt: skip

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor @ 2.60GHz
flags\t\t: fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 avx512f avx512dq

processor\t: 1
model name\t: Another CPU
flags\t\t: fpu sse sse2
"""

ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
"""


def only_run(parent: Path = Path("runs")) -> Path:
    (run_dir,) = parent.iterdir()
    return run_dir


def run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


# --- the machine ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ("fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 avx512f", "AVX-512"),
        ("fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2", "AVX2"),
        ("fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx", "AVX"),
        ("fpu sse sse2 pni ssse3 sse4_1 sse4_2", "SSE4.2"),
        ("fpu sse sse2 pni ssse3", "SSSE3"),
        ("fpu sse sse2 pni", "SSE3"),
        ("fpu sse sse2", "SSE2"),
        ("fpu", None),
    ],
)
def test_simd_level_is_the_best_flag(flags, level):
    assert provenance.cpuinfo_facts(f"model name\t: X\nflags\t\t: {flags}\n") == ("X", level)


def test_cpuinfo_reads_the_first_processor_block():
    assert provenance.cpuinfo_facts(X86_CPUINFO) == (
        "Intel(R) Xeon(R) Processor @ 2.60GHz",
        "AVX-512",
    )
    assert provenance.cpuinfo_facts(ARM_CPUINFO) == (None, "NEON")
    assert provenance.cpuinfo_facts("") == (None, None)


def test_without_cpuinfo_the_platform_says_what_it_can(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "CPUINFO", tmp_path / "no-cpuinfo")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setattr(platform, "processor", lambda: "arm")
    assert provenance.cpu_facts() == {"cpu": "arm", "simd": "NEON", "cores": os.cpu_count()}
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    monkeypatch.setattr(platform, "processor", lambda: "")
    assert provenance.cpu_facts() == {"cpu": "riscv64", "simd": None, "cores": os.cpu_count()}


def test_arm_cpuinfo_without_a_model_falls_back_to_the_platform(tmp_path, monkeypatch):
    (tmp_path / "cpuinfo").write_text(ARM_CPUINFO)
    monkeypatch.setattr(provenance, "CPUINFO", tmp_path / "cpuinfo")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(platform, "processor", lambda: "")
    assert provenance.cpu_facts() == {"cpu": "aarch64", "simd": "NEON", "cores": os.cpu_count()}


# --- git --------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


@pytest.mark.skipif(subprocess.run(["which", "git"], capture_output=True).returncode != 0,
                    reason="git is not installed")  # fmt: skip
def test_git_commit_and_dirty_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    assert provenance.git_facts(repo) == {}  # a checkout with no commit yet
    (repo / "a.txt").write_text("one\n")
    git("add", "a.txt", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo)
    assert len(head) == 40
    assert provenance.git_facts(repo) == {"git_commit": head, "git_dirty": False}
    (repo / "new.txt").write_text("untracked: not dirty\n")
    assert provenance.git_facts(repo) == {"git_commit": head, "git_dirty": False}
    (repo / "a.txt").write_text("two\n")
    (repo / "sub").mkdir()
    assert provenance.git_facts(repo / "sub") == {"git_commit": head, "git_dirty": True}
    outside = tmp_path / "plain"
    outside.mkdir()
    assert provenance.git_facts(outside) == {}


def test_no_git_program_means_no_git_facts(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    assert provenance.git_facts(Path.cwd()) == {}


def test_a_hanging_git_is_given_up_on(tmp_path, monkeypatch):
    fake = tmp_path / "git"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(provenance, "GIT_TIMEOUT", 0.2)
    began = time.monotonic()
    assert provenance.git_facts(Path.cwd()) == {}
    assert time.monotonic() - began < 5


# --- run.json ---------------------------------------------------------------------------

RUN_KEYS = {
    "status", "updated", "format", "command", "config", "config_sha256", "started",
    "utc_offset", "toynn_version", "networks", "chunk_size", "chunks", "engine", "workers",
    "processes", "threads", "history_precision", "executor", "host", "cpu", "simd", "cores", "python_version", "numpy_version",
    "numba_version", "pid", "networks_done", "duration_seconds", "finished",
}  # fmt: skip


def _asked(info: dict) -> str:
    workers = info["workers"]
    return f"{workers} worker{'' if workers == 1 else 's'} asked"


def test_run_json_tells_the_story(cli_env):
    config = Path("my config.yaml")
    config.write_bytes(b"# a comment changes the hash, not the experiment\nname: tale\n")
    began = datetime.now().replace(microsecond=0)
    clock = time.monotonic()
    invoke_ok("sweep", "--config", config, *QUICK, "--workers", 1)
    elapsed = time.monotonic() - clock
    info = run_json(only_run())
    assert set(info) == RUN_KEYS  # tmp_path is no git checkout: no git keys
    assert info["status"] == "complete"
    assert info["command"] == (
        "toynn sweep --config 'my config.yaml' --alphas 0.5,2 --iterations 200 "
        "--log-every 100 --engine numpy --no-figures -q --workers 1"
    )
    assert info["config"] == "my config.yaml"
    assert info["config_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    started = datetime.fromisoformat(info["started"])
    finished = datetime.fromisoformat(info["finished"])
    assert began <= started <= finished <= datetime.now()
    assert info["utc_offset"] == datetime.now().astimezone().strftime("%z")
    assert 0 < info["duration_seconds"] <= elapsed
    assert (info["engine"], info["workers"], info["executor"]) == ("numpy", 1, "local")
    assert (info["processes"], info["threads"]) == (0, 1)  # two networks: in this process
    assert info["history_precision"] == "float32"
    assert (info["networks"], info["networks_done"]) == (2, 2)
    assert info["toynn_version"] == __version__
    assert info["host"] == socket.gethostname()
    assert {k: info[k] for k in ("cpu", "simd", "cores")} == provenance.cpu_facts()
    assert info["cores"] == os.cpu_count()
    assert info["python_version"] == platform.python_version()
    assert info["numpy_version"] == numpy.__version__
    assert info["numba_version"] == numba.__version__


def test_run_json_without_a_config_file_says_null():
    invoke_ok("train", *QUICK[2:])
    info = run_json(only_run())
    assert (info["config"], info["config_sha256"]) == (None, None)


def test_run_json_in_a_git_checkout_names_its_commit(cli_env):
    git("init", "-q", cwd=cli_env)
    Path("notes.txt").write_text("x\n")
    git("add", "notes.txt", cwd=cli_env)
    git("commit", "-q", "-m", "notes", cwd=cli_env)
    invoke_ok("sweep", *QUICK)
    info = run_json(only_run())
    assert (info["git_commit"], info["git_dirty"]) == (git("rev-parse", "HEAD", cwd=cli_env), False)


def broken_executor(monkeypatch):
    def run(self, job, todo, progress):
        raise RuntimeError("the kernel exploded")
        yield  # a generator, as the real one

    monkeypatch.setattr(executor.LocalExecutor, "run", run)


def test_a_run_whose_training_raises_is_marked_failed_with_the_message(monkeypatch):
    working = executor.LocalExecutor.run
    broken_executor(monkeypatch)
    with pytest.raises(RuntimeError, match="the kernel exploded"):  # the traceback stays
        invoke("sweep", *QUICK)
    run_dir = only_run()
    info = run_json(run_dir)
    assert (info["status"], info["error"], info["networks_done"]) == (
        "failed",
        "RuntimeError: the kernel exploded",
        0,
    )
    assert datetime.fromisoformat(info["started"]) <= datetime.fromisoformat(info["finished"])
    assert not (run_dir / "results.json").exists()

    rows = json.loads(invoke_ok("runs", "--json").stdout)
    assert [(r["state"], r["error"]) for r in rows] == [
        ("failed", "RuntimeError: the kernel exploded")
    ]
    result = invoke("show", run_dir)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: '{run_dir}' has no results.json (status: failed); expected a run that "
        f"finished or was interrupted ('toynn sweep --resume {run_dir}' finishes it)\n"
    )

    # --resume retries it: the failure's message and end time are gone, the duration
    # adds up
    monkeypatch.setattr(executor.LocalExecutor, "run", working)
    earlier = info["duration_seconds"]
    invoke_ok("sweep", "--resume", run_dir, "-q")
    info = run_json(run_dir)
    assert (info["status"], info["resumed"], info["networks_done"]) == ("complete", 1, 2)
    assert "error" not in info
    assert info["duration_seconds"] > earlier


def test_a_failed_run_json_that_cannot_be_written_leaves_the_exception(monkeypatch):
    broken_executor(monkeypatch)
    real = runs.write_status

    def refuse_failed(run_dir, status, **info):
        if status == "failed":
            raise OSError(28, "No space left on device")
        return real(run_dir, status, **info)

    monkeypatch.setattr(runs, "write_status", refuse_failed)
    with pytest.raises(RuntimeError, match="the kernel exploded"):
        invoke("sweep", *QUICK)
    assert run_json(only_run())["status"] == "running"  # the last state written


def test_an_interrupted_run_says_so_with_its_end(monkeypatch):
    from toynn_cli.run.interrupts import Interrupted

    def run(self, job, todo, progress):
        raise Interrupted(143)
        yield

    monkeypatch.setattr(executor.LocalExecutor, "run", run)
    result = invoke("sweep", *QUICK)
    assert result.exit_code == 143
    info = run_json(only_run())
    assert (info["status"], info["signal"], info["networks_done"]) == ("interrupted", "SIGTERM", 0)
    assert "finished" in info and "error" not in info


# --- show and runs ----------------------------------------------------------------------


def test_show_ends_with_the_runs_story():
    config = Path("c.yaml")
    config.write_text("name: shown\n")
    invoke_ok("sweep", "--config", config, *QUICK)
    run_dir = only_run()
    info = run_json(run_dir)
    shown = invoke_ok("show", run_dir).stdout
    tables = (run_dir / "report.txt").read_text()
    assert shown.split()[: len(tables.split())] == tables.split()
    story_part = shown.split("\nRun")[-1]
    lines = [line.rstrip() for line in story_part.splitlines()[1:]]
    digest = hashlib.sha256(b"name: shown\n").hexdigest()
    offset = info["utc_offset"]
    assert lines == [
        " state          complete (2 of 2 networks)",
        " command        toynn sweep --config c.yaml --alphas 0.5,2 --iterations 200 "
        "--log-every 100 --engine numpy --no-figures -q",
        " config         c.yaml",
        f" config sha256  {digest}",
        f" started        {info['started'].replace('T', ' ')} {offset}",
        f" finished       {info['finished'].replace('T', ' ')} {offset}",
        f" duration       {story.duration_text(info['duration_seconds'])}",
        f" engine         numpy (local, in this process; {_asked(info)})",
        " history        error history stored as float32",
        f" versions       toynn {__version__}, python {platform.python_version()}, numpy "
        f"{numpy.__version__}, numba {numba.__version__}",
        f" host           {info['host']} ({info['cpu']}, {info['simd']}, {info['cores']} cores)",
    ]


def test_runs_json_repeats_the_story():
    Path("c.yaml").write_text("name: listed\n")
    invoke_ok("sweep", "--config", "c.yaml", *QUICK)
    info = run_json(only_run())
    (row,) = json.loads(invoke_ok("runs", "--json").stdout)
    assert {k: row[k] for k in ("finished", "duration_seconds", "config", "config_sha256",
                                "toynn_version", "engine", "host")} == {
        k: info[k] for k in ("finished", "duration_seconds", "config", "config_sha256",
                             "toynn_version", "engine", "host")
    }  # fmt: skip
    assert (row["error"], row["git_commit"], row["git_dirty"]) == (None, None, None)


def test_story_lines_of_an_old_run_json_leave_out_what_it_lacks():
    old = {"status": "complete", "command": "toynn sweep", "started": "2026-01-01T10:00:00",
           "networks": 7, "networks_done": 7, "engine": "numpy", "executor": "local"}  # fmt: skip
    assert story.story_lines(old) == [
        ("state", "complete (7 of 7 networks)"),
        ("command", "toynn sweep"),
        ("started", "2026-01-01 10:00:00"),
        ("engine", "numpy (local)"),
    ]
    killed = {**old, "status": "running", "networks_done": 3, "git_commit": "abc",
              "git_dirty": True, "resumed": 2}  # fmt: skip
    assert story.story_lines(killed, "killed")[0] == ("state", "killed (3 of 7 networks)")
    assert ("git commit", "abc (uncommitted changes)") in story.story_lines(killed)
    assert ("resumed", "2 times") in story.story_lines(killed)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0123, "0.0123 s"), (6.575, "6.58 s"), (12.34, "12.3 s"), (245.9, "4 min 05 s"),
     (7380, "2 h 03 min"), (-1, None), ("5", None), (True, None)],
)  # fmt: skip
def test_duration_text(seconds, text):
    assert story.duration_text(seconds) == text


# --- report.html ------------------------------------------------------------------------


def test_report_html_tells_the_story_and_shows_the_config():
    Path("c.yaml").write_text("name: paged\n")
    invoke_ok("sweep", "--config", "c.yaml", *QUICK)
    run_dir = only_run()
    info = run_json(run_dir)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    facts = page[page.index('<section class="story">') : page.index('<section class="config">')]
    rows = re.findall(r"<tr><th>([^<]*)</th><td>(.*?)</td></tr>", facts)
    assert rows == [
        ("state", '<span class="st-complete">complete (2 of 2 networks)</span>'),
        (
            "command",
            "toynn sweep --config c.yaml --alphas 0.5,2 --iterations 200 --log-every 100 "
            "--engine numpy --no-figures -q",
        ),
        ("config", "c.yaml"),
        ("config sha256", hashlib.sha256(b"name: paged\n").hexdigest()),
        ("started", f"{info['started'].replace('T', ' ')} {info['utc_offset']}"),
        ("finished", f"{info['finished'].replace('T', ' ')} {info['utc_offset']}"),
        ("duration", story.duration_text(info["duration_seconds"])),
        ("engine", f"numpy (local, in this process; {_asked(info)})"),
        ("history", "error history stored as float32"),
        (
            "versions",
            f"toynn {__version__}, python {platform.python_version()}, numpy "
            f"{numpy.__version__}, numba {numba.__version__}",
        ),
        (
            "host",
            html.escape(f"{info['host']} ({info['cpu']}, {info['simd']}, {info['cores']} cores)"),
        ),
    ]
    config = page[page.index('<section class="config">') :]
    shown = re.search(r'<pre class="config">(.*?)</pre>', config, re.DOTALL).group(1)
    assert html.unescape(shown) == (run_dir / "config.yaml").read_text()


def test_report_html_tables_escape_their_text_and_keep_their_colours():
    from rich.table import Table
    from rich.text import Text

    from toynn_cli.view import export

    table = Table(title="T <1>")
    table.add_column("a & b", justify="right")
    table.add_column("status")
    table.add_row("<script>x</script>", Text("converged", style="green"))
    table.add_row("[red]hot[/] 1", Text("diverged", style="bold red"), style="bold")
    _, _, page = export.render_to_files(table, "t", story={"status": "failed", "error": "E: <x>"})
    assert "<script>" not in page
    body = page[page.index('<table class="grid">') : page.index("</table>")]
    assert body.splitlines() == [
        '<table class="grid">',
        "<caption>T &lt;1&gt;</caption>",
        '<thead><tr><th class="r">a &amp; b</th><th class="pin">status</th></tr></thead>',
        "<tbody>",
        '<tr><td class="r">&lt;script&gt;x&lt;/script&gt;</td>'
        '<td class="pin"><span class="c-green">converged</span></td></tr>',
        '<tr class="b"><td class="r"><span class="c-red">hot</span> 1</td>'
        '<td class="pin"><span class="b c-red">diverged</span></td></tr>',
        "</tbody>",
    ]
    assert '<span class="st-failed">failed: E: &lt;x&gt;</span>' in page
    assert "@media (prefers-color-scheme: dark)" in page
    assert '<section class="config">' not in page  # no config given: none shown
