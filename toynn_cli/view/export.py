"""A renderable exported as report.txt, report.svg (rich's exports, at its natural width
whatever the terminal's) and report.html: the same tables as HTML tables, with the
run's story from run.json, its config and its figures, in one self-contained file.

report.html is made to be read on a laptop screen and kept as a CI artifact: a table
wider than the window scrolls sideways inside its own box (never the page) with its
status column pinned to the box's right edge, and the colours come from CSS variables
with a light and a dark palette (``prefers-color-scheme``), so no text is ever black on
a dark background."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from toynn_cli.view import story as story_view
from toynn_cli.view.fit import FitTable, Layout, Stripped

REPORT_MIN_WIDTH = 80
REPORT_MAX_WIDTH = 400

#: rich's standard colour names -> the report's CSS classes (a light and a dark value
#: each, below); bright variants share them.
COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
#: The column pinned to the right edge of a table too wide for the window.
PINNED_COLUMNS = ("status", "statuses", "state", "match")

STYLESHEET = """
:root {
  color-scheme: light dark;
  --fg: #1b1d1f; --bg: #ffffff; --muted: #5b6168; --rule: #c9cdd2; --head: #eef1f4;
  --black: #1b1d1f; --red: #b3261e; --green: #1a7f37; --yellow: #8a5d00;
  --blue: #1f5fbf; --magenta: #9c27b0; --cyan: #0b7285; --white: #5b6168;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6e8ea; --bg: #16181b; --muted: #a3a9b0; --rule: #3b4047; --head: #23272c;
    --black: #c8ccd1; --red: #ff7b72; --green: #56d364; --yellow: #e3b341;
    --blue: #79a8ff; --magenta: #e07ae0; --cyan: #56d4e6; --white: #e6e8ea;
  }
}
html { background: var(--bg); }
body {
  margin: 0 auto; padding: 16px; max-width: 100%; box-sizing: border-box;
  color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
}
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
p.line { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.box { overflow-x: auto; max-width: 100%; margin: 4px 0 12px; }
table.grid {
  border-collapse: separate; border-spacing: 0;
  font: 12px/1.35 ui-monospace, Menlo, "DejaVu Sans Mono", Consolas, monospace;
}
table.grid caption { text-align: left; font-style: italic; padding: 2px 0 4px; }
table.grid th, table.grid td {
  padding: 2px 6px; border-bottom: 1px solid var(--rule); white-space: nowrap;
  background: var(--bg);
}
table.grid th { background: var(--head); font-weight: bold; vertical-align: bottom; }
table.grid .r { text-align: right; }
table.grid .c { text-align: center; }
table.grid .pin { position: sticky; right: 0; box-shadow: -1px 0 0 var(--rule); }
table.facts { border-collapse: collapse; }
table.facts th { text-align: left; padding: 2px 16px 2px 0; vertical-align: top; }
table.facts td { padding: 2px 0; overflow-wrap: anywhere; }
pre.config {
  margin: 4px 0; padding: 8px; border: 1px solid var(--rule); background: var(--head);
  overflow-x: auto; font: 12px/1.4 ui-monospace, Menlo, "DejaVu Sans Mono", monospace;
}
figure { margin: 16px 0; }
figure img, figure svg {
  display: block; max-width: 100%; height: auto; background: #ffffff;
}
figcaption { color: var(--muted); }
.b { font-weight: bold; }
.d { opacity: 0.72; }
.i { font-style: italic; }
.u { text-decoration: underline; }
.st-complete { color: var(--green); } .st-interrupted { color: var(--yellow); }
.st-running { color: var(--cyan); } .st-killed, .st-failed { color: var(--red); }
""" + "".join(f".c-{name} {{ color: var(--{name}); }}\n" for name in COLOURS)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>{stylesheet}</style>
</head>
<body>
<h1>{title}</h1>
<section class="report">
{report}</section>
{figures}{story}{config}</body>
</html>
"""


#: Captions of the figures report.html can show, by file name.
FIGURE_CAPTIONS = {
    "curves.svg": "Error during training (log axes), one curve per network: its recorded "
    "points, joined where they are dense",
    "boundary.svg": "Decision boundary of the best network: its output over two inputs "
    "(or along the only one), the 0.5 contour and the samples; its title says how any "
    "other inputs are held",
}


def figures_html(figures: dict[str, bytes]) -> str:
    """Figures as HTML, each inside the page so that report.html is one file: an SVG
    document (view/svg.py) as inline SVG, a PNG as a base64 ``data:`` image."""
    parts = []
    for filename, content in figures.items():
        caption = html.escape(FIGURE_CAPTIONS.get(filename, filename))
        if filename.endswith(".svg"):
            image = content.decode("utf-8").strip()
        else:
            data = base64.b64encode(content).decode("ascii")
            image = f'<img src="data:image/png;base64,{data}" alt="{caption}">'
        parts.append(f"<figure>\n{image}\n<figcaption>{caption}</figcaption>\n</figure>\n")
    return "".join(parts)


# --- rich renderables as HTML ---------------------------------------------------------


def _classes(style: Style | None) -> str:
    """A rich style as the report's CSS classes (colours by name, so that each has a
    light and a dark value); a colour given as RGB is left to the page's text colour."""
    if style is None:
        return ""
    names = []
    if style.bold:
        names.append("b")
    if style.dim:
        names.append("d")
    if style.italic:
        names.append("i")
    if style.underline:
        names.append("u")
    color = style.color
    if color is not None and not color.is_default:
        name = color.name.removeprefix("bright_")
        if name in COLOURS:
            names.append(f"c-{name}")
    return " ".join(names)


def _segments_html(segments: Iterator[Segment]) -> str:
    parts = []
    for segment in Segment.simplify(Segment.filter_control(segments)):
        text = html.escape(segment.text).replace("\n", "<br>")
        classes = _classes(segment.style)
        parts.append(f'<span class="{classes}">{text}</span>' if classes else text)
    return "".join(parts)


def _text(console: Console, value: Any) -> Text:
    if isinstance(value, Text):
        return value
    return console.render_str(str(value), highlight=False)  # as a table cell renders


def inline_html(console: Console, value: Any, style: str | Style = "") -> str:
    """A cell or line (str with rich markup, or Text) as HTML, its styles as classes."""
    text = Text(end="")
    text.append_text(_text(console, value))  # the cell's own style becomes a span
    if style:
        text.stylize_before(console.get_style(style) if isinstance(style, str) else style)
    return _segments_html(iter(text.render(console)))


def _justify(justify: str | None) -> str:
    return {"right": "r", "center": "c"}.get(justify or "", "")


def table_html(console: Console, table: Table) -> str:
    """A rich table as an HTML table in a box that scrolls sideways when the table is
    wider than the window; its status column stays pinned to the box's right edge."""
    columns = table.columns
    headers = [_text(console, c.header).plain.strip().lower() for c in columns]
    pinned = next((i for i in range(len(headers) - 1, -1, -1) if headers[i] in PINNED_COLUMNS), -1)

    def cell(tag: str, i: int, content: str) -> str:
        names = " ".join(n for n in (_justify(columns[i].justify), "pin" * (i == pinned)) if n)
        return f'<{tag} class="{names}">{content}</{tag}>' if names else f"<{tag}>{content}</{tag}>"

    lines = ['<div class="box">', '<table class="grid">']
    if table.title:
        lines.append(f"<caption>{inline_html(console, table.title, table.title_style)}</caption>")
    if table.show_header:
        head = "".join(
            cell("th", i, inline_html(console, c.header, c.header_style))
            for i, c in enumerate(columns)
        )
        lines.append(f"<thead><tr>{head}</tr></thead>")
    lines.append("<tbody>")
    cells = [list(c.cells) for c in columns]
    for r, row in enumerate(table.rows):
        classes = _classes(console.get_style(row.style)) if row.style else ""
        tds = "".join(
            cell("td", i, inline_html(console, cells[i][r], columns[i].style))
            for i in range(len(columns))
        )
        lines.append(f'<tr class="{classes}">{tds}</tr>' if classes else f"<tr>{tds}</tr>")
    lines += ["</tbody>", "</table>", "</div>"]
    return "\n".join(lines) + "\n"


def renderable_html(console: Console, renderable: RenderableType) -> str:
    """A report renderable as HTML: groups in order, tables as tables, text as lines;
    anything else as rich's own export in a ``<pre>``."""
    if isinstance(renderable, Group):
        return "".join(renderable_html(console, r) for r in renderable.renderables)
    if isinstance(renderable, list | tuple):
        return "".join(renderable_html(console, r) for r in renderable)
    if isinstance(renderable, Table):
        return table_html(console, renderable)
    if isinstance(renderable, Stripped):
        return renderable_html(console, renderable.renderable)
    if isinstance(renderable, FitTable):  # the whole table: the page scrolls it in its box
        title = [Text(renderable.title, style="table.title")] if renderable.title else []
        return renderable_html(console, [*title, renderable.table(Layout()), *renderable.notes])
    if isinstance(renderable, str | Text):
        text = _text(console, renderable)
        lines = text.split("\n", allow_blank=True)
        return "".join(
            f'<p class="line">{inline_html(console, line) or "&nbsp;"}</p>\n' for line in lines
        )
    other = Console(record=True, file=io.StringIO(), width=console.width, color_system=None)
    other.print(renderable)
    return f'<pre class="config">{html.escape(other.export_text())}</pre>\n'


def story_html(info: dict[str, Any]) -> str:
    """The run's facts (view/story.py) as a two-column table under "Run"."""
    state = str(info.get("status", ""))
    rows = []
    for label, text in story_view.story_lines(info):
        value = html.escape(text)
        if label == "state":
            value = f'<span class="st-{html.escape(state)}">{value}</span>'
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{value}</td></tr>")
    return (
        '<section class="story">\n<h2>Run</h2>\n<table class="facts">\n'
        + "\n".join(rows)
        + "\n</table>\n</section>\n"
    )


def config_html(text: str) -> str:
    return (
        '<section class="config">\n<h2>Config (config.yaml)</h2>\n'
        f'<pre class="config">{html.escape(text)}</pre>\n</section>\n'
    )


def render_to_files(
    renderable: RenderableType,
    title: str,
    figures: dict[str, bytes] | None = None,
    story: dict[str, Any] | None = None,
    config_text: str | None = None,
) -> tuple[str, str, str]:
    """The renderable as report.txt, report.svg (rich's exports) and report.html content;
    report.html also shows ``figures`` (SVG or PNG bytes by file name), the run's ``story``
    (its run.json record) and ``config_text`` (its config.yaml).

    report.txt and report.svg are rendered at their natural width (between
    REPORT_MIN_WIDTH and REPORT_MAX_WIDTH columns), whatever the terminal's width, so a
    saved table is never squeezed; the environment (NO_COLOR, TERM) does not change the
    files. No line of report.txt ends in spaces.
    """
    console = Console(
        record=True,
        file=io.StringIO(),
        width=REPORT_MAX_WIDTH,
        force_terminal=True,
        color_system="truecolor",
        no_color=False,
        legacy_windows=False,
    )
    natural = console.measure(renderable).maximum
    console.width = max(REPORT_MIN_WIDTH, min(REPORT_MAX_WIDTH, natural))
    console.print(Stripped(renderable))
    text = console.export_text(clear=False)
    svg = console.export_svg(title=title, clear=False)
    page = PAGE.format(
        title=html.escape(title),
        stylesheet=STYLESHEET,
        report=renderable_html(console, renderable),
        figures=figures_html(figures or {}),
        story=story_html(story) if story else "",
        config=config_html(config_text) if config_text is not None else "",
    )
    return text, svg, page
