"""Jinja2 (autoescaped) over the package's templates, the package's static files, and PDF through WeasyPrint."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jinja2

from adapter.errors import AdapterError

#: The stylesheet every page links and the PDF is printed with.
STYLESHEET = "sider.css"
#: The static files the pages may link, by name, with their content types (nothing else is served).
STATIC_TYPES = {STYLESHEET: "text/css; charset=utf-8"}


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment: HTML autoescaped everywhere, undefined names an error, not an empty string."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("adapter.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """A page from its template (``templates/<template>``) and context."""
    return environment().get_template(template).render(**context)


def static_file(name: str) -> bytes | None:
    """A static file of the pages by its name, or None for any other name."""
    if name not in STATIC_TYPES:
        return None
    return resources.files("adapter.pages").joinpath("static", name).read_bytes()


#: The largest page (HTML characters) printed as a PDF. The example crisis plan's page has about 7,000 and prints in
#: about a second; the CPU grows with the page (one of 3,000 activities, 750,000 characters, took over 20 s), so a
#: larger one is refused (ADP-5106, 422) before WeasyPrint starts: it is read as a web page.
MAX_PDF_CHARACTERS = 150_000


def to_pdf(html: str) -> bytes:
    """A PDF of a page as it prints (A4, the print stylesheet). WeasyPrint reads nothing from outside: the
    stylesheet is given as text and every URL fetch is refused, so a page's text cannot make the server fetch.
    A page over :data:`MAX_PDF_CHARACTERS` is refused (ADP-5106)."""
    if len(html) > MAX_PDF_CHARACTERS:
        raise AdapterError.of("ADP-5106", size=len(html), limit=MAX_PDF_CHARACTERS)
    try:
        import weasyprint  # type: ignore[import-untyped]  # imported when a PDF is asked for (its import is slow)
    except (ImportError, OSError) as error:  # the package, or the system's pango, is missing: a setup problem
        raise AdapterError.of("ADP-0008", detail=" ".join(str(error).split())[:300]) from error

    css = static_file(STYLESHEET) or b""
    refuse_all = weasyprint.urls.URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(string=html, url_fetcher=refuse_all)
    stylesheet = weasyprint.CSS(string=css.decode("utf-8"), url_fetcher=refuse_all)
    pdf: bytes = document.write_pdf(stylesheets=[stylesheet])
    return pdf
