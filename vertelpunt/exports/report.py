"""The printable theme report: one template (templates/report.html), two outputs.

- In the browser: /export/rapport?<filter> is an HTML page with print CSS
  (static/report.css: A4, page breaks between themes, no navigation), so "Afdrukken ->
  Opslaan als PDF" gives a clean document.
- On the server: `vertelpunt export summary --format pdf` (and /export/samenvatting.pdf)
  renders the same template with WeasyPrint and the same stylesheet.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parent.parent.parent
STYLESHEET = ROOT / "vertelpunt" / "static" / "report.css"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def percent(value) -> str:
    if isinstance(value, int | float):
        return f"{value * 100:.0f}%".replace(".", ",")
    return str(value)


def decimal(value, digits: int = 2) -> str:
    if isinstance(value, int | float):
        return f"{value:.{digits}f}".replace(".", ",")
    return "–" if value is None else str(value)


_env.filters["percent"] = percent
_env.filters["decimal"] = decimal


def render_report(summary: dict, stylesheet_href: str | None, links: dict | None = None) -> str:
    """The report as HTML. `stylesheet_href`: the CSS link for the browser (None for PDF,
    where WeasyPrint gets the stylesheet directly); `links`: download links shown on screen."""
    return _env.get_template("report.html").render(
        summary=summary, stylesheet_href=stylesheet_href, links=links or {}
    )


def report_pdf(summary: dict) -> bytes:
    """The report as PDF bytes (WeasyPrint, same template and stylesheet as the browser)."""
    html = render_report(summary, stylesheet_href=None)
    # WeasyPrint reports CSS it does not support (screen-only rules of report.css) and font
    # fallbacks on its logger, and fontTools logs what it drops when subsetting fonts: noise on
    # the command line that changes nothing in the PDF. Neither raises Python warnings here
    # (checked: rendering passes under `python -W error` and pytest's filterwarnings=error),
    # so no warnings filter is needed; a process-wide filter would not be thread-safe anyway.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from weasyprint import CSS, HTML

    return HTML(string=html, base_url=str(ROOT)).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET))]
    )
