"""What report.html inlines: its CSS and JS (package files) and DataTables, taken from the ``itables`` package.

Why itables: it ships DataTables (with its extensions) as one ES-module bundle inside its PyPI wheel, so the
page gets a well-kept table widget with no npm step and no CDN. Without it (``pip install
'geneb-bench[report]'``) the page keeps the same tables as plain HTML, and says how to get sorting back.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

INSTALL_HINT = "pip install 'geneb-bench[report]'  (or: pip install itables)"


@dataclass(frozen=True)
class TableWidget:
    """The DataTables bundle (ES module) and its stylesheet, as text."""

    js: str
    css: str
    version: str


def _own(name: str) -> str:
    return resources.files("geneb_bench.reports.page").joinpath(name).read_text(encoding="utf-8")


def page_css() -> str:
    return _own("report.css")


def page_js() -> str:
    return _own("report.js")


def table_widget() -> TableWidget | None:
    """DataTables from the installed ``itables`` (None when it is not installed)."""
    try:
        import itables
    except ImportError:
        return None
    bundle = Path(itables.__file__).parent / "html" / "dt_bundle.js"
    if not bundle.exists():
        return None
    js = bundle.read_text(encoding="utf-8")
    # inlined in a <script type="text/plain">: the text may not close that element
    js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return TableWidget(js, bundle.with_suffix(".css").read_text(encoding="utf-8"), itables.__version__)
