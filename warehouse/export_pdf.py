"""The weekly report as PDF: headless Chromium prints the HTML report.

Why Chromium: the PDF is then the page a planner sees in a browser — the same inline SVG
charts with their text kept as text (searchable, drawn with the machine's CJK fonts and
embedded in the PDF), the same print stylesheet — with one engine that the browser tests
need anyway. WeasyPrint draws SVG through its own, narrower renderer and needs Pango;
LibreOffice would convert the Word file (raster charts) and is ten times the install.

The print stylesheet puts WenQuanYi Micro Hei first (Debian's ``fonts-wqy-microhei``): Noto
and Source Han CJK draw some ideographs with the glyph of the matching Kangxi radical, and a
PDF's text layer then copies and searches 目 as ⽬ (U+2F6C).

Chromium is found on PATH (``chromium``, ``chromium-browser``, ``google-chrome``) unless a
path is given. It runs with a fresh profile folder and no network of its own: the report has
no external asset, and the flags below stop Chromium's own background connections.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Flags for a headless Chromium that reaches nothing outside this machine.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--disable-default-apps",
    "--mute-audio",
)


class PdfUnavailable(RuntimeError):
    """No PDF could be made; the message says why and what to do, in one line."""


def find_chromium(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def html_to_pdf(
    html: Path, pdf: Path, *, chromium: str | None = None, timeout: float = 120
) -> Path:
    """Print ``html`` to ``pdf`` (A4, the page's print stylesheet, no header or footer)."""
    browser = find_chromium(chromium)
    if browser is None:
        raise PdfUnavailable(
            f"no Chromium found ({chromium or ', '.join(BROWSERS)}): "
            "install Debian's chromium (apt-get install chromium)"
        )
    pdf = Path(pdf).resolve()
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="minsheng-chromium-") as profile:
        cmd = [
            browser,
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp}",
            Path(html).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"{browser} did not print {html} within {timeout:.0f} s") from None
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        tmp.unlink(missing_ok=True)
        raise PdfUnavailable(f"{browser} exited {done.returncode} printing {html}: {tail}")
    tmp.replace(pdf)
    return pdf
