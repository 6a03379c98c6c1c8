"""report.html in a real browser: headless Chromium at a laptop's 1366 x 768, in the light
and the dark colour scheme. A test-only copy of the page carries a script that measures
the rendered page (every table cell against the window and its scroll box, clipped
text, the colour contrast of every piece of text, JavaScript errors) and writes the
result into the DOM, which ``--dump-dom`` prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clitools import invoke_ok

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("cli_env")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install chromium)",
)

WIDTH, HEIGHT = 1366, 768
#: Chromium's preferredColorScheme setting: 0 dark, 1 light
SCHEMES = {"light": 1, "dark": 0}

#: Collects errors from the start of the page (first in <head>).
CATCH_ERRORS = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("unhandledrejection", e => window.__errors.push(String(e.reason)));
</script>"""

#: Measures the page after it has loaded; the result goes into <pre id="measured">.
MEASURE = """<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const view = {width: root.clientWidth, height: innerHeight};
  function rgb(text) {
    const m = text.match(/[\\d.]+/g).map(Number);
    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1};
  }
  function luminance(c) {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  }
  function contrast(el) {
    const style = getComputedStyle(el);
    const fg = rgb(style.color), bg = background(el);
    let opacity = 1;
    for (let up = el; up; up = up.parentElement) opacity *= Number(getComputedStyle(up).opacity);
    const mixed = {r: fg.r * opacity + bg.r * (1 - opacity), g: fg.g * opacity + bg.g * (1 - opacity),
                   b: fg.b * opacity + bg.b * (1 - opacity)};
    const [hi, lo] = [luminance(mixed), luminance(bg)].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  }
  const tables = [...document.querySelectorAll("table.grid")].map(table => {
    const box = table.closest(".box").getBoundingClientRect();
    const boxEl = table.closest(".box");
    const headers = [...table.querySelectorAll("thead th")].map(th => th.textContent);
    const cells = [...table.querySelectorAll("th, td")];
    const hidden = [], cut = [];
    const status = headers.indexOf("status");
    let statusShown = 0, statusCells = 0;
    for (const cell of cells) {
      const r = cell.getBoundingClientRect();
      const inWindow = r.left >= 0 && r.right <= view.width + 0.5;
      const inBox = r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
      const label = cell.tagName + " " + cell.textContent.trim().slice(0, 20);
      if (!(inWindow && inBox)) hidden.push(label);
      if (cell.scrollWidth > cell.clientWidth + 1) cut.push(label);
      if (status >= 0 && cell.cellIndex === status) {
        statusCells += 1;
        if (inWindow && inBox) statusShown += 1;
      }
    }
    return {columns: headers.length, headers, cells: cells.length,
            right: Math.round(table.getBoundingClientRect().right), hidden, cut,
            scrolls: boxEl.scrollWidth > boxEl.clientWidth, statusCells, statusShown};
  });
  const texts = [...document.querySelectorAll("td, th, p.line, p.line span, td span, caption, h1, h2, pre, figcaption")]
    .filter(el => el.textContent.trim());
  let worst = {contrast: 99, text: ""};
  for (const el of texts) {
    const c = contrast(el);
    if (c < worst.contrast) worst = {contrast: Math.round(c * 100) / 100, text: el.textContent.trim().slice(0, 30)};
  }
  const figures = [...document.querySelectorAll("figure svg")].map(svg => {
    const r = svg.getBoundingClientRect();
    const images = [...svg.querySelectorAll("image")].map(img => {
      const b = img.getBoundingClientRect();
      return {width: Math.round(b.width), height: Math.round(b.height)};
    });
    return {width: Math.round(r.width), height: Math.round(r.height), right: Math.round(r.right),
            aspect: Math.round(1000 * r.height / r.width) / 1000,
            viewBox: svg.viewBox.baseVal.height / svg.viewBox.baseVal.width,
            lines: svg.querySelectorAll("polyline").length, images,
            texts: [...svg.querySelectorAll("text")].filter(t => t.getBBox().width > 0).length};
  });
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    view, dark: matchMedia("(prefers-color-scheme: dark)").matches,
    pageWidth: root.scrollWidth, tables, worst, texts: texts.length, errors: window.__errors,
    background: getComputedStyle(document.body).backgroundColor, figures,
  });
  document.body.append(out);
});
</script>"""


def measured(report: Path, scheme: str, tmp_path: Path) -> dict:
    """Open a measuring copy of ``report`` in headless Chromium; what the script saw."""
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page  # the report itself runs no code
    probe = tmp_path / f"probe-{scheme}.html"
    probe.write_text(
        page.replace("<head>", "<head>\n" + CATCH_ERRORS, 1).replace(
            "</body>", MEASURE + "\n</body>", 1
        ),
        encoding="utf-8",
    )
    profile = tmp_path / f"profile-{scheme}"
    profile.mkdir()
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--blink-settings=preferredColorScheme={SCHEMES[scheme]}",
        "--virtual-time-budget=2000", "--dump-dom", probe.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    dom = done.stdout.decode("utf-8", errors="replace")
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
    assert found, f"chromium exited {done.returncode}: {done.stderr.decode()[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def only_report() -> Path:
    (run_dir,) = Path("runs").iterdir()
    return run_dir / "report.html"


CHECKPOINTS = ["0", "10000", "20000", "30000", "40000", "50000"]
TUTORIAL_HEADERS = ["", "alpha", "hidden", "seed", *CHECKPOINTS, "final", "acc", "curve", "status"]


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_tutorial_sweep_report_fits_a_laptop_screen(scheme, tmp_path, cli_env):
    config = Path("c.yaml")
    config.write_text("name: laptop\n")
    invoke_ok("sweep", "--config", config, "-q")  # the tutorial's 7 networks, 60000 iterations
    seen = measured(only_report(), scheme, tmp_path)
    print(scheme, json.dumps(seen))  # the measurements, for the record (pytest -s)
    assert seen["errors"] == []
    assert seen["view"]["width"] == WIDTH
    assert seen["dark"] is (scheme == "dark")
    assert seen["pageWidth"] <= WIDTH  # the page never scrolls sideways
    (table,) = seen["tables"]
    assert table["headers"] == TUTORIAL_HEADERS
    assert (table["columns"], table["cells"]) == (14, 14 * 8)
    assert table["hidden"] == [] and table["cut"] == []  # every cell on screen, whole
    assert table["scrolls"] is False
    assert (table["statusCells"], table["statusShown"]) == (8, 8)
    assert table["right"] <= WIDTH
    assert seen["worst"]["contrast"] >= 4.5, seen["worst"]  # WCAG AA, both schemes
    assert seen["background"] == ("rgb(22, 24, 27)" if scheme == "dark" else "rgb(255, 255, 255)")
    # the two inline SVG figures are drawn: on screen, in their own proportions, with
    # their curves, the boundary's image and their text laid out
    curves, boundary = seen["figures"]
    for figure in (curves, boundary):
        assert figure["width"] > 0 and figure["right"] <= WIDTH
        assert abs(figure["aspect"] - figure["viewBox"]) < 0.01
        assert figure["texts"] > 10
    assert curves["lines"] >= 7 and curves["images"] == []
    (image,) = boundary["images"]
    assert image["width"] > 100 and image["height"] == image["width"]


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_wide_table_scrolls_in_its_box_with_its_status_pinned(scheme, tmp_path, cli_env):
    # 10 checkpoint columns and 3 swept settings: wider than the window
    invoke_ok(
        "sweep", "--alphas", "0.5,5", "--iterations", 2000, "--log-every", 100,
        "--optimizers", "sgd,adam", "--bias", "false,true", "--activations", "sigmoid,tanh",
        "--name", "wide", "-q", "--no-figures",
    )  # fmt: skip
    seen = measured(only_report(), scheme, tmp_path)
    print(
        scheme,
        json.dumps({**seen, "tables": [{**t, "hidden": len(t["hidden"])} for t in seen["tables"]]}),
    )
    assert seen["errors"] == []
    assert seen["dark"] is (scheme == "dark")
    assert seen["pageWidth"] <= WIDTH  # the box scrolls, not the page
    table = seen["tables"][0]
    assert table["headers"][-1] == "status"
    assert table["scrolls"] is True
    assert table["cut"] == []
    assert table["hidden"]  # some columns are out of the box until it is scrolled ...
    assert table["statusShown"] == table["statusCells"] == 16 + 1  # ... never the status
    assert seen["worst"]["contrast"] >= 4.5, seen["worst"]
