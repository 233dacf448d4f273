"""report.html in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright's Python client.

What a reader does with the page: it loads from disk with no console error and no network request; sorting and
every filter change what is shown; the user's row sits at its rank; nothing overflows at 1400 and 800 px;
every figure has a size. A screenshot of each view goes to ``$GENEB_SCREENSHOTS`` (default: a tmp folder).
Skipped, with the install command, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from geneb_bench.reports.html import write_html
from tests.reports.conftest import make_result, with_seed_mcc, write_run

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("GENEB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium && pip install playwright (or: python3 dev.py setup)"
VIEWS = ("summary", "leaderboard", "categories", "tasks", "figures", "run")
OWN = "my-dna-model"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"playwright not installed: {INSTALL}")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: {INSTALL}")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("GENEB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Opened:
    """A page opened from disk, with what it logged and requested."""

    def __init__(self, browser: Browser, path: Path, width: int = 1400) -> None:
        self.page: Page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready]")

    def rows(self, table: str = "leaderboard") -> list[dict[str, Any]]:
        """The rows the table shows now: cell texts by column name, and the row's classes."""
        rows: list[dict[str, Any]] = self.page.evaluate(
            """(id) => { const t = document.getElementById(id);
                const names = [...t.tHead.rows[0].cells].map(c => c.dataset.name);
                return [...t.tBodies[0].rows].filter(r => !r.querySelector('td.dt-empty')).map(r =>
                  Object.assign({_class: r.className},
                    Object.fromEntries([...r.cells].map((c, i) => [names[i], c.textContent])))); }""",
            table,
        )
        return rows

    def sort_by(self, table: str, column: str) -> None:
        """Click a column header, as a reader does; DataTables sorts on its next tick, so wait for it."""
        header = f'#{table} th[data-name="{column}"]'
        self.page.click(header)
        self.page.wait_for_selector(f"{header}[aria-sort]")

    def choose(self, table: str, name: str, value: str) -> None:
        self.page.select_option(f'.filters[data-for="{table}"] select[name="{name}"]', value)

    def overflowing(self) -> list[str]:
        """Elements whose right edge passes the viewport, outside a box that scrolls on its own."""
        found: list[str] = self.page.evaluate(
            """() => { const w = document.documentElement.clientWidth; const out = [];
                if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth);
                for (const e of document.querySelectorAll('body *')) {
                  if (e.closest('.scroll') || e.closest('svg')) continue;
                  const r = e.getBoundingClientRect();
                  if (r.width && r.right > w + 1) out.push(e.tagName + '#' + e.id + '.' + e.className);
                }
                return out; }"""
        )
        return found

    def screenshot_views(self, folder: Path, stem: str) -> list[Path]:
        written = []
        for view in VIEWS:
            element = self.page.locator(f"#view-{view}")
            if element.count():
                path = folder / f"{stem}-{view}.png"
                element.screenshot(path=str(path))
                written.append(path)
        return written

    def close(self) -> None:
        self.page.close()


def _shared(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Path]) -> Path:
    """A page built once for all xdist workers (their base temp dirs share a parent; a file lock orders them)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "geneb-browser-pages" / name
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        page = root / "report.html"
        if not page.exists():
            make(root)
            write_html(root)
    return page


def _partial(root: Path) -> Path:
    """kmer-3 and the user's model on the 5 TF-binding tasks (outcomes kept): a matched comparison."""
    from geneb_bench.data.suites import geneb_task_specs

    tasks = [s.task_id for s in geneb_task_specs() if s.category == "TF Binding"]
    from geneb_bench.results.record import write_result

    write_run(root, "kmer-3", tasks=tasks, outcomes=True, score=lambda t, r: 0.62 if r == "full" else 0.3)
    write_run(root, OWN, tasks=tasks, outcomes=True, n_params=2_500_000, score=lambda t, r: 0.45)
    for task in tasks:  # 1-shot: each seed draws its own shot, so the seeds differ
        item = make_result(OWN, task, "TF Binding", "1shot", 0.45, outcomes=True, n_params=2_500_000)
        write_result(root, with_seed_mcc(item, [0.41, 0.43, 0.45, 0.47, 0.49]))
    return root


def _lite(root: Path) -> Path:
    from geneb_bench.data.lite import LITE_TASKS
    from geneb_bench.results.record import write_result

    for spec in LITE_TASKS[:4]:
        for regime in ("full", "10shot", "1shot"):
            item = make_result("kmer-3", "iDNA_ABF_6mA", spec.category, regime, 0.4, outcomes=True)
            write_result(root, dataclasses.replace(item, task_id=spec.task_id, suite="lite"))
    return root


def _complete(root: Path) -> Path:
    """The user's model on all 100 tasks, full data only: ranked inside the published table."""
    return write_run(root, OWN, regimes=("full",), n_params=90_000_000)


@pytest.fixture
def partial_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shared(tmp_path_factory, "partial", _partial)


@pytest.fixture
def lite_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shared(tmp_path_factory, "lite", _lite)


@pytest.fixture
def complete_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shared(tmp_path_factory, "complete", _complete)


def test_page_loads_offline_without_errors_and_every_figure_has_a_size(
    browser: Browser, partial_page: Path, shots: Path
) -> None:
    opened = Opened(browser, partial_page)
    assert opened.page.evaluate("document.body.dataset.ready") == "datatables"
    assert opened.errors == []
    assert [u for u in opened.requests if not u.startswith(("file:", "data:", "blob:"))] == []
    sizes = opened.page.evaluate(
        "[...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect()).map(r => [r.width, r.height])"
    )
    assert len(sizes) == 4
    assert all(w > 200 and h > 100 for w, h in sizes)
    written = opened.screenshot_views(shots, "partial-1400")
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    opened.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_nothing_overflows_horizontally(browser: Browser, partial_page: Path, width: int) -> None:
    opened = Opened(browser, partial_page, width)
    assert opened.overflowing() == []
    opened.close()


def test_sorting_and_each_filter_change_what_is_shown(browser: Browser, partial_page: Path) -> None:
    opened = Opened(browser, partial_page)
    opened.choose("leaderboard", "basis", "published: 100 tasks")
    rows = opened.rows()
    assert len(rows) == 43  # 40 official, 1 self-reported, and the user's two rows (apart: partial)
    assert [r["rank"] for r in rows[:3]] == ["1", "2", "3"]
    assert all("apart" in r["_class"] and "mine" in r["_class"] for r in rows[-2:])

    opened.sort_by("leaderboard", "params")  # ascending by size; the apart rows stay last
    params = [r["params"] for r in opened.rows()[:-2]]
    assert params[0] in ("1.93M", "1.98M")
    assert params != [r["params"] for r in rows[:-2]]
    opened.sort_by("leaderboard", "macro")
    macros = [float(r["macro"]) for r in opened.rows()[:-2]]
    assert macros in (sorted(macros), sorted(macros, reverse=True))

    expected = {"architecture": "Mamba", "size": ">= 1B", "provenance": "self-reported"}
    for name, value in expected.items():
        opened.choose("leaderboard", name, value)
        shown = opened.rows()
        assert shown, name
        assert all(r.get(name) == value for r in shown), name
        assert len(shown) < len(rows)
        opened.choose("leaderboard", name, "")
    assert len(opened.rows()) == len(rows)

    opened.choose("leaderboard", "category", "TF Binding")
    header = opened.page.eval_on_selector_all("#leaderboard thead th", "h => h.map(c => c.dataset.name)")
    assert "TF Binding" in header
    assert "Promoters" not in header
    values = [float(r["TF Binding"]) for r in opened.rows() if "apart" not in r["_class"]]
    assert values == sorted(values, reverse=True)

    assert "macro ±" not in header  # full data: one fit serves every seed, no spread to show
    opened.choose("leaderboard", "regime", "1shot")
    shown = opened.rows()
    assert {r["model"] for r in shown} >= {"3-mer spectrum", OWN}
    assert next(r for r in shown if r["model"].startswith(OWN))["macro ±"].startswith("± 0.0")
    opened.close()


def test_the_users_row_sits_at_its_matched_rank(browser: Browser, partial_page: Path, shots: Path) -> None:
    matched = pytest.importorskip("geneb_bench.reports.matched")
    from geneb_bench.results.resultset import ResultSet

    expected = matched.matched_comparison(ResultSet.load(partial_page.parent), "full")
    ours = next(r for r in expected.rows if r.model == OWN)
    opened = Opened(browser, partial_page)
    rows = opened.rows()  # default basis: matched, full data, by rank
    at = next(i for i, r in enumerate(rows) if r["model"].startswith(OWN))
    assert "mine" in rows[at]["_class"]
    assert "apart" not in rows[at]["_class"]
    assert int(rows[at]["rank"]) == ours.rank
    assert all(float(r["macro"]) >= ours.macro - 1e-4 for r in rows[:at])
    assert all(float(r["macro"]) <= ours.macro + 1e-4 for r in rows[at + 1 :] if "apart" not in r["_class"])
    assert expected.label in opened.page.inner_text("#view-summary")
    opened.page.locator("#view-leaderboard").screenshot(path=str(shots / "partial-matched-leaderboard.png"))
    opened.close()


def test_lite_run_is_never_placed(browser: Browser, lite_page: Path, shots: Path) -> None:
    opened = Opened(browser, lite_page)
    assert opened.errors == []
    assert "not placed" in opened.page.inner_text("#view-summary")
    mine = [r for r in opened.rows() if "mine" in r["_class"]]
    assert mine
    assert all("apart" in r["_class"] and r["rank"] == "" for r in mine)
    opened.screenshot_views(shots, "lite-1400")
    opened.close()


def test_a_complete_run_is_ranked_inside_the_published_table(
    browser: Browser, complete_page: Path, shots: Path
) -> None:
    opened = Opened(browser, complete_page)
    rows = opened.rows()
    at = next(i for i, r in enumerate(rows) if r["model"] == OWN)
    assert rows[at]["rank"] == str(at + 1)
    assert "apart" not in rows[at]["_class"]
    assert len(rows) == 42
    opened.page.locator("#view-leaderboard").screenshot(path=str(shots / "complete-leaderboard.png"))
    narrow = Opened(browser, complete_page, 800)
    assert narrow.overflowing() == []
    narrow.page.locator("#view-summary").screenshot(path=str(shots / "complete-800-summary.png"))
    narrow.close()
    opened.close()
