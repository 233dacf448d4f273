"""The HTML report: self-contained, with tables, embedded figures and run metadata; renders in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from geneb_bench.cli import main
from geneb_bench.environment import git_commit
from geneb_bench.reports import figures
from geneb_bench.reports.html import build_html, task_sources

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

RunWriter = Callable[..., Path]


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
            if name == "src" and tag in ("img", "script"):
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
    text = report.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    shown = " ".join(parser.text)
    assert parser.tags.get("figure") == 4
    assert parser.tags.get("svg", 0) >= 4  # every figure inline
    assert parser.img_src == []
    assert parser.external == []
    assert (
        parser.tags.get("link", 0) == 0
    )  # nothing fetched: no CDN, no file beside it (img/script src: above)
    assert 'id="datatables-bundle"' in text  # the table widget, inlined
    for view in ("summary", "leaderboard", "categories", "tasks", "figures", "run"):
        assert f'<section id="view-{view}">' in text, view
    for needle in (
        "matched on 5/100 tasks, 1/13 categories",
        "protocol",
        "geneb-1.0",
        "task data revision",
        "machine",
        "git commit",
        "Ledneva",
        "GenomeOcean-4B",
    ):
        assert needle in shown, needle
    for name in ("heatmap", "scaling", "regimes", "winners"):  # also written beside the page
        for suffix in ("svg", "png"):
            assert (report.parent / "figures" / f"{name}.{suffix}").stat().st_size > 1000


def test_page_without_the_table_widget_keeps_static_tables_and_says_how_to_install(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from geneb_bench.reports.page import assets

    monkeypatch.setattr(assets, "table_widget", lambda: None)
    monkeypatch.setattr(figures.FIGURES, "_entries", {})  # the figures are not what this tests
    run_writer(tmp_path, "kmer-3", tasks=tf_tasks, regimes=("full",))
    text = build_html(tmp_path)
    assert "<script" not in text
    assert "pip install &#x27;geneb-bench[report]&#x27;" in text
    assert len(_tables(text)[0]["model"]) > 40  # the leaderboard is there, as plain HTML


def test_no_local_path_user_or_host_name_reaches_the_page(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import getpass
    import platform

    from geneb_bench.reports.html import scrub
    from geneb_bench.results.record import write_result
    from tests.reports.conftest import make_result

    monkeypatch.setattr(figures.FIGURES, "_entries", {})
    monkeypatch.setattr(platform, "node", lambda: "lab-node-7")
    outside = f"/home/{getpass.getuser()}/data/geneb-tasks"
    item = make_result("kmer-3", tf_tasks[0], "TF Binding", "full", 0.5)
    write_result(tmp_path, dataclasses.replace(item, task_revision=f"local:{outside}"))
    second = dataclasses.replace(item, task_id=tf_tasks[1], task_revision=f"local:{tmp_path}/data/x.csv")
    write_result(tmp_path, second)
    (tmp_path / "run.json").write_text(f'{{"machine": "{platform.node()} - Linux - x86_64 - 2 CPUs"}}')
    text = build_html(tmp_path)
    assert str(tmp_path) not in text
    assert outside not in text
    assert f"/home/{getpass.getuser()}" not in text
    assert platform.node() not in text
    assert "local:data/x.csv" in text  # under the results folder: relative to it
    assert "local:local-path#" in text  # elsewhere: hashed
    assert scrub("see /srv/a/b.csv and 3/100 tasks, </td>", tmp_path).endswith("and 3/100 tasks, </td>")


def test_the_run_record_is_read_from_the_suites_tables_folder(
    tmp_path: Path, run_writer: RunWriter, tf_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run writes run.json beside its tables (``DIR/<suite>/``): the page shows its commit, not "not
    recorded" (it looked at ``DIR/run.json`` only, where runs wrote it before the per-suite folders)."""
    from geneb_bench.results.resultset import ResultSet
    from geneb_bench.runner.finish import table_scope

    monkeypatch.setattr(figures.FIGURES, "_entries", {})
    run_writer(tmp_path, "kmer-3", tasks=tf_tasks, regimes=("full",))
    folder = tmp_path / table_scope(ResultSet.load(tmp_path), "")
    folder.mkdir(exist_ok=True)
    (folder / "run.json").write_text('{"git_commit": "0123abcd0123abcd"}')
    text = build_html(tmp_path)
    assert "0123abcd0123abcd" in text
    assert "not recorded in run.json" not in text


def test_git_commit_reads_dot_git(tmp_path: Path) -> None:
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("abc123\n")
    (tmp_path / "sub").mkdir()
    assert git_commit(tmp_path / "sub") == "abc123"  # found from a subfolder
    (tmp_path / ".git" / "HEAD").write_text("deadbeef\n")
    assert git_commit(tmp_path) == "deadbeef"


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


def test_std_only_where_seeds_differ_and_bootstrap_intervals(
    tmp_path: Path, session_writer: RunWriter, tf_tasks: list[str]
) -> None:
    from geneb_bench.reports.html import FULL_DATA_NOTE, build_html
    from geneb_bench.results.record import write_result
    from tests.reports.conftest import make_result, with_seed_mcc

    session_writer(tmp_path, "kmer-3", tasks=tf_tasks, score=lambda t, r: 0.6, outcomes=True)
    few = make_result("kmer-3", tf_tasks[0], "TF Binding", "10shot", 0.6, outcomes=True)
    write_result(tmp_path, with_seed_mcc(few, [0.55, 0.65, 0.55, 0.65, 0.6]))  # population std sqrt(0.002)
    text = build_html(tmp_path, compare_published=True)
    assert text.count(FULL_DATA_NOTE.split(";")[0]) == 1  # the full-data case explained once
    tasks = next(t for t in _tables(text) if "task" in t and "published median" in t)
    cells = list(zip(tasks["regime"], tasks["task"], tasks["±"], tasks["95% CI"], strict=True))
    assert all(sd == "" for regime, _, sd, _ in cells if regime == "full")  # zero by construction: blank
    assert [sd for regime, task, sd, _ in cells if regime == "10shot" and task == tf_tasks[0]] == ["± 0.0447"]
    low, high = map(float, re.findall(r"-?\d\.\d\d", cells[0][3]))
    assert low < 0.6 < high
    board = next(t for t in _tables(text) if "provenance" in t and "macro 95% CI" in t)
    published = {
        ci for p, ci in zip(board["provenance"], board["macro 95% CI"], strict=True) if p == "official"
    }
    assert published == {""}, "published rows have no per-row data: blank"
    assert any(ci for p, ci in zip(board["provenance"], board["macro 95% CI"], strict=True) if p == "yours")


def test_results_without_outcomes_show_no_interval(report: Path) -> None:
    tasks = next(t for t in _tables(report.read_text(encoding="utf-8")) if "published median" in t)
    assert tasks["MCC"]
    assert set(tasks["MCC"]) == {"0.5000"}
    assert "95% CI" not in tasks
    assert "±" not in tasks


def test_task_sources_are_one_line_whatever_the_number_of_local_task_folders() -> None:
    folders = [f"local:../data/tasks/task_{i}" for i in range(14)]
    assert task_sources(folders * 2) == "local: 14 task folders under ../data/tasks"
    assert task_sources(["local:../data/tasks/a"]) == "local:../data/tasks/a"
    assert task_sources(["lite-1", "lite-1"]) == "lite-1"
    hub = "InstaDeepAI/nucleotide_transformer_downstream_tasks@0123abc"
    assert task_sources([hub, *folders[:4]]) == f"{hub}, local: 4 task folders under ../data/tasks"
    assert task_sources(folders[:2]) == "local:../data/tasks/task_0, local:../data/tasks/task_1"
    assert task_sources(["local:/a/x", "local:/b/y", "local:/c/z", "local:/d/w"]) == "local: 4 task folders"
    assert task_sources([]) == "unknown"
