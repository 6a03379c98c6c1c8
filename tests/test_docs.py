"""The documentation: docs/cli.md is what docs/generate_cli.py renders, every relative
link in README.md and docs/*.md resolves, and README.md stays a short front door."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_LIMIT = 12_000  # bytes
PAGES = [README, *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_cli", DOCS / "generate_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_md_is_up_to_date(generator):
    expected = generator.render()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is out of date: run 'python docs/generate_cli.py'"


def test_cli_md_covers_every_command(generator):
    from toynn_cli.cli import cli

    text = generator.render()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    names = cli.list_commands(click.Context(cli))
    groups = {"datasets": ["export", "list", "plot"]}  # a group's subcommands follow it
    expected = ["toynn"]
    for name in names:
        expected += [f"toynn {name}", *(f"toynn {name} {sub}" for sub in groups.get(name, []))]
    assert headings == expected
    assert "Usage: toynn sweep [OPTIONS]" in text
    assert "-h, --help" in text  # the group's context_settings reach every command


def test_cli_md_does_not_depend_on_the_terminal(generator, monkeypatch):
    for var in ("COLUMNS", "LINES", "TERM", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)
    plain = generator.render()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "10")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("NO_COLOR", "1")
    narrow = generator.render()
    assert narrow == plain
    # The width is the generator's 100 columns, not the 40 asked for.
    assert 40 < max(len(line) for line in narrow.splitlines()) <= generator.WIDTH


def test_check_reports_a_stale_page_in_one_line(generator, monkeypatch, tmp_path, capsys):
    page = tmp_path / "cli.md"
    monkeypatch.setattr(generator, "CLI_MD", page)
    assert generator.main(["--check"]) == 1  # missing
    page.write_text("stale\n", encoding="utf-8")
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "docs/cli.md is out of date: run 'python docs/generate_cli.py'"

    assert generator.main([]) == 0
    assert page.read_text(encoding="utf-8") == generator.render()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.md"]  # no temporary file left
    assert generator.main(["--check"]) == 0
    assert generator.main(["--bogus"]) == 2


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(text):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_the_link_parser_sees_links():
    text = 'see [configs](docs/configs.md#sweep-grammar), ![a figure](f.png "title") and `[no](x)`'
    assert LINK.findall(INLINE_CODE.sub("", text)) == ["docs/configs.md#sweep-grammar", "f.png"]
    assert _slug("The compiled engine: `--engine numba`") == "the-compiled-engine---engine-numba"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: no file {resolved.relative_to(ROOT)}")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading for #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, f"broken links in {page.relative_to(ROOT)}: " + "; ".join(broken)


def test_docs_pages_exist():
    assert len(PAGES) > 2
    assert (DOCS / "cli.md") in PAGES


def test_readme_is_a_front_door():
    size = README.stat().st_size
    assert size < README_LIMIT, f"README.md is {size} bytes; keep it under {README_LIMIT}"


def test_readme_test_command_is_the_one_ci_runs():
    """.ci/run says it runs "the README's test command, verbatim": keep them one line."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line.strip() for line in ci if "-m pytest" in line and not line.startswith("#")]
    assert len(commands) == 1, commands
    readme_lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert commands[0] in readme_lines, f"README.md should show .ci/run's {commands[0]!r}"
