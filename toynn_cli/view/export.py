"""A renderable exported as report.txt, report.svg and report.html (rich's exports), at
its natural width whatever the terminal's."""

from __future__ import annotations

import base64
import html
import io

from rich.console import Console, RenderableType

from toynn_cli.view.fit import Stripped

REPORT_MIN_WIDTH = 80
REPORT_MAX_WIDTH = 400
#: report.html: rich's page (``export_html``'s format) with a title.
HTML_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>
{stylesheet}
body {{
    color: {foreground};
    background-color: {background};
}}
</style>
</head>
<body>
<pre style="font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace"><code style="font-family:inherit">{code}</code></pre>
{figures}</body>
</html>
"""


#: Captions of the figures report.html can show, by file name.
FIGURE_CAPTIONS = {
    "curves.png": "Error during training (log axes), one line per network",
    "boundary.png": "Decision boundary of the best network: its output over two inputs "
    "(or along the only one), the 0.5 contour and the samples; its title says how any "
    "other inputs are held",
}


def figures_html(figures: dict[str, bytes]) -> str:
    """PNG figures as HTML, each embedded (base64) so that report.html is one file."""
    parts = []
    for filename, content in figures.items():
        caption = html.escape(FIGURE_CAPTIONS.get(filename, filename))
        data = base64.b64encode(content).decode("ascii")
        parts.append(
            f'<figure style="margin:1em 0">\n<img src="data:image/png;base64,{data}" '
            f'alt="{caption}" style="max-width:100%">\n'
            f"<figcaption>{caption}</figcaption>\n</figure>\n"
        )
    return "".join(parts)


def render_to_files(
    renderable: RenderableType, title: str, figures: dict[str, bytes] | None = None
) -> tuple[str, str, str]:
    """The renderable as report.txt, report.svg and report.html content (rich's exports);
    report.html also shows ``figures`` (PNG bytes by file name).

    Rendered at its natural width (between REPORT_MIN_WIDTH and REPORT_MAX_WIDTH
    columns), whatever the terminal's width, so a saved table is never squeezed; the
    environment (NO_COLOR, TERM) does not change the files. No line ends in spaces.
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

    def literal(text: str) -> str:  # the page is a format string for rich
        return text.replace("{", "{{").replace("}", "}}")

    page = HTML_PAGE.replace("{title}", literal(html.escape(title)))
    page = page.replace("{figures}", literal(figures_html(figures or {})))
    return text, svg, console.export_html(inline_styles=True, code_format=page)
