"""The HTML report: self-contained, with tables, embedded figures and run metadata; renders in Chromium."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from geneb_bench.cli import main
from geneb_bench.environment import git_commit

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

RunWriter = Callable[..., Path]
CHROMIUM = Path("/usr/bin/chromium")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.img_src: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name == "src" and tag == "img":
                self.img_src.append(value or "")
            if name in ("src", "href") and value and value.startswith(("http:", "https:", "//")):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, session_writer: RunWriter, tf_tasks: list[str]) -> Path:
    root = session_writer(tmp_path_factory.mktemp("html"), "kmer-3", tasks=tf_tasks)
    assert main(["report", str(root), "--html"]) == 0
    return next(root.glob("*/report.html"))  # in the suite's tables folder


def test_report_is_self_contained_with_tables_and_figures(report: Path) -> None:
    parser = _Collector()
    parser.feed(report.read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    assert parser.tags.get("table", 0) >= 5  # metadata, 3 regimes, published board, placement
    assert parser.tags.get("figure") == 4
    assert parser.img_src
    assert all(src.startswith("data:image/png;base64,") for src in parser.img_src)
    assert parser.tags.get("svg", 0) >= 2
    assert parser.tags.get("script", 0) == 0
    assert parser.external == []
    for needle in (
        "partial: 5/100 tasks",
        "protocol",
        "geneb-1.0",
        "task data revision",
        "machine",
        "git commit",
        "Ledneva",
        "GenomeOcean-4B",
    ):
        assert needle in text, needle


def test_git_commit_reads_dot_git(tmp_path: Path) -> None:
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("abc123\n")
    (tmp_path / "sub").mkdir()
    assert git_commit(tmp_path / "sub") == "abc123"  # found from a subfolder
    (tmp_path / ".git" / "HEAD").write_text("deadbeef\n")
    assert git_commit(tmp_path) == "deadbeef"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium not installed (headless render test)")
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,3000",
        f"--screenshot={shot}",
        report.as_uri(),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("chromium could not be started")
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert shot.stat().st_size > 20_000  # a blank page is a few KB


# -- registered figures ---------------------------------------------------------------------------------------
def _readme_figure_module() -> str:
    import re

    readme = (Path(__file__).resolve().parents[2] / "docs" / "extending.md").read_text()
    match = re.search(r"<!-- example: figure-module -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README has no figure example"
    return match.group(1)


def test_a_figure_registered_once_appears_in_report_html(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's one-module figure: registered by importing it, then in report.html and `geneb figures`;
    a figure that fails to draw is reported in its place and the rest is still written."""
    from geneb_bench.reports import figures

    monkeypatch.setattr(figures.FIGURES, "_entries", dict(figures.FIGURES._entries))  # gone after the test
    (tmp_path / "my_figure.py").write_text(_readme_figure_module())
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(__import__("sys").modules, "my_figure", raising=False)
    __import__("my_figure")

    def broken(table: pd.DataFrame, regime: str) -> Figure:
        raise RuntimeError("no data for this one")

    figures.register_figure("broken", "never drawn")(broken)
    root = run_writer(tmp_path / "run", "kmer-3", tasks=tf_tasks)
    assert main(["report", str(root), "--html"]) == 0
    parser = _Collector()
    text = next(root.glob("*/report.html")).read_text(encoding="utf-8")
    parser.feed(text)
    assert parser.tags.get("figure") == 5  # the four built-in ones and the new one
    assert 'id="figure-macro-hist"' in text
    assert "Distribution of macro-MCC over models" in text
    assert "figure broken could not be drawn: RuntimeError: no data for this one" in text

    figures.FIGURES.unregister("broken")
    assert main(["figures", str(root), "-o", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "macro-hist.png").read_bytes().startswith(b"\x89PNG")


# -- uncertainty: seed std and bootstrap CIs ------------------------------------------------------------------
class _Tables(HTMLParser):
    """Every ``<table>`` as a list of rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(text: str) -> list[dict[str, list[str]]]:
    parser = _Tables()
    parser.feed(text)
    return [{h: [row[i] for row in t[1:]] for i, h in enumerate(t[0])} for t in parser.tables if t]


def test_tables_show_seed_std_and_bootstrap_intervals(
    tmp_path: Path, session_writer: RunWriter, tf_tasks: list[str]
) -> None:
    from geneb_bench.reports.html import build_html

    session_writer(tmp_path, "kmer-3", tasks=tf_tasks, score=lambda t, r: 0.6, outcomes=True)
    tables = _tables(build_html(tmp_path, compare_published=True))
    per_task = next(t for t in tables if "task_id" in t)
    assert len(per_task["kmer-3"]) == len(tf_tasks)
    assert all(re.fullmatch(r"0\.6000 ± 0\.0000 \[0\.\d\d, 0\.\d\d\]", c) for c in per_task["kmer-3"])
    ours = next(t for t in tables if "macro 95% CI" in t and "coverage" in t)
    assert list(ours)[:6] == ["model", "status", "coverage", "macro", "macro_std", "macro 95% CI"]
    low, high = map(float, re.findall(r"-?\d\.\d\d", ours["macro 95% CI"][0]))
    assert low < 0.6 < high
    boards = [t for t in tables if "provenance" in t and "macro 95% CI" in t]
    rows = [(p, ci) for t in boards for p, ci in zip(t["provenance"], t["macro 95% CI"], strict=True)]
    published = {ci for p, ci in rows if p == "official"}
    assert published == {""}, "published rows have no per-task data: blank"
    not_ranked = next(t for t in boards if "rank" not in t and "regime" not in t)  # the "Not ranked" board
    assert not_ranked["macro 95% CI"] == ours["macro 95% CI"]


def test_results_without_outcomes_show_no_interval(report: Path) -> None:
    per_task = next(t for t in _tables(report.read_text(encoding="utf-8")) if "task_id" in t)
    assert per_task["kmer-3"]
    assert all(re.fullmatch(r"0\.5000 ± 0\.0000", c) for c in per_task["kmer-3"])
