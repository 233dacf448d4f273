"""The extraction bar in a pytest run: on the terminal past pytest's capture, or as lines on the xdist controller.

The engine draws its tqdm bar through the process's ``ProgressOutput`` (``embeddings.engine``). pytest
captures stderr during a test, so in a serial run the bar is written through the terminal reporter with the
capture suspended around each write (what pytest's own live logging does).

An xdist worker has no terminal, and while an item runs the only stable way to the controller is the report
stream: ``config.workeroutput`` arrives when the worker ends; an event xdist does not know drops the worker;
a forwarded warning lands in the warnings summary, a ``logstart``/``logfinish`` in the progress count; the
worker's own stderr reaches the terminal only for local workers, past the controller's reporter, mid-line.
So every ``HEARTBEAT_S`` of a running extraction a worker sends one extra report for the running item: a
passed ``setup`` report (which pytest's terminal, JUnit XML, last-failed, stepwise and xdist all pass over)
with the progress in ``user_properties``; the controller's run report prints it as one line
(``heartbeat_line``).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from geneb_bench.embeddings.engine import (
    ProgressBar,
    ProgressOutput,
    StderrProgress,
    progress_wanted,
    set_progress_output,
)

PROGRESS_KEY = "geneb_progress"  # the user property of a worker's progress report
HEARTBEAT_S = 15.0  # a worker reports a running extraction this often


def fresh_line(terminal: Any) -> None:
    """End a line pytest has started but not finished (a test file's path, or ``-q``'s row of dots), so
    what comes next starts at column 0."""
    terminal.ensure_newline()
    if getattr(terminal, "_width_of_current_line", 0):  # pytest's own estimate; 0 where a version lacks it
        terminal.write("\n")


class _TerminalFile:
    """The file tqdm writes to in a serial run: the terminal reporter's stream, capture suspended per write.
    Raw writes: the reporter's idea of the current line stays what it wrote itself."""

    def __init__(self, terminal: Any, uncaptured: Callable[[], AbstractContextManager[Any]]) -> None:
        self.terminal = terminal
        self.uncaptured = uncaptured

    def write(self, text: str) -> int:
        with self.uncaptured():
            self.terminal.write_raw(text, flush=True)
        return len(text)

    def flush(self) -> None:
        pass


class TerminalProgress:
    """The bar of a serial pytest run, on pytest's terminal (stdout), by the engine's auto policy with the
    terminal's tty-ness as "a person watches"."""

    def __init__(self, config: pytest.Config, label: Callable[[], str]) -> None:
        self.terminal = config.pluginmanager.get_plugin("terminalreporter")
        self.capture = config.pluginmanager.get_plugin("capturemanager")
        self.label = label

    def uncaptured(self) -> AbstractContextManager[Any]:
        return self.capture.global_and_fixture_disabled() if self.capture is not None else nullcontext()

    def open(self, total: int, progress: bool | None) -> ProgressBar | None:
        if self.terminal is None:  # -p no:terminal: the engine's default, on stderr
            return StderrProgress().open(total, progress)
        tty = bool(self.terminal.isatty())
        if not progress_wanted(total, progress, interactive=tty):
            return None
        from tqdm import tqdm

        with self.uncaptured():
            fresh_line(self.terminal)
        width = shutil.get_terminal_size().columns - 1 if tty else None  # a frame that wraps is not redrawn
        bar: ProgressBar = tqdm(
            total=total,
            desc=self.label(),
            unit="seq",
            leave=False,
            mininterval=1.0,
            file=_TerminalFile(self.terminal, self.uncaptured),
            ncols=width,
            ascii=None if tty else True,
        )
        return bar


class _Heartbeat:
    """A worker's bar: tqdm's arithmetic (rate, ETA, the meter's text) drawn nowhere; every ``interval``
    (with ``eager``, also after the first batch) the meter goes to the controller through ``send``."""

    def __init__(
        self,
        total: int,
        desc: str,
        send: Callable[[dict[str, Any]], None],
        eager: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            unit="seq",
            file=_Discard(),
            mininterval=math.inf,
            ascii=True,
            delay=math.inf,
        )
        self.send = send
        self.eager = eager
        self.clock = clock
        self.sent_at = clock()
        self.sent = 0

    def update(self, n: int = 1) -> object:
        self.bar.update(n)
        now = self.clock()
        due = now - self.sent_at >= HEARTBEAT_S or (self.eager and not self.sent)
        if due and self.bar.n < (self.bar.total or 0):
            info = self.bar.format_dict
            self.send(
                {
                    "done": int(info["n"]),
                    "total": int(info["total"]),
                    "rate": info["rate"] or (info["n"] / info["elapsed"] if info["elapsed"] else None),
                    "text": str(self.bar),
                }
            )
            self.sent_at, self.sent = now, self.sent + 1
        return None

    def reset(self, total: int | None = None) -> None:
        self.bar.reset(total)

    def close(self) -> None:
        self.bar.close()


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class WorkerProgress:
    """An xdist worker's output: every extraction of the running item sends heartbeats, from ``HEARTBEAT_S``
    on (short ones say nothing; lines, so CI logs take them too); forced (``--geneb-progress``) also after
    its first batch."""

    def __init__(self, plugin: ExtractionProgress) -> None:
        self.plugin = plugin

    def open(self, total: int, progress: bool | None) -> ProgressBar | None:
        item = self.plugin.item
        if progress is False or item is None:
            return None
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")

        def send(info: dict[str, Any]) -> None:
            payload = {"worker": worker, **self.plugin.subject(), **info}
            report = pytest.TestReport(
                nodeid=item.nodeid,
                location=item.location,
                keywords=dict.fromkeys(item.keywords, 1),
                outcome="passed",
                longrepr=None,
                when="setup",
                user_properties=[(PROGRESS_KEY, payload)],
            )
            item.ihook.pytest_runtest_logreport(report=report)

        bar: ProgressBar = _Heartbeat(total, self.plugin.label(), send, eager=progress is True)
        return bar


def heartbeat_line(payload: dict[str, Any]) -> str:
    """The controller's line for a worker's progress report."""
    return f"geneb: [{payload.get('worker') or '?'}] {payload['text']}"


class ExtractionProgress:
    """Installed in every process that runs GENEB items; knows the running item, for the bar's label and the
    worker's reports, and puts the engine's previous output back when pytest ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.item: pytest.Item | None = None
        worker = hasattr(config, "workerinput")
        output: ProgressOutput = WorkerProgress(self) if worker else TerminalProgress(config, self.label)
        previous = set_progress_output(output)

        def restore() -> None:
            set_progress_output(previous)

        config.add_cleanup(restore)

    def subject(self) -> dict[str, str]:
        from geneb_bench.plugin import _bench_item

        bench = _bench_item(self.item)
        return {} if bench is None else {"model": bench.model.key, "task": bench.task.task_id}

    def label(self) -> str:
        subject = self.subject()
        return f"embedding {subject['model']} x {subject['task']}" if subject else "embedding"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        self.item = item
        try:
            return (yield)
        finally:
            self.item = None


class Eta:
    """Time left, per model, from that model's own measured rate (seconds per sequence of a finished
    (model, task), extraction and probe together) and the sequences its unfinished items still hold.

    An average over all items would mix a k-mer model's milliseconds with a transformer's minutes; a model
    with no finished (model, task) yet has no rate and no ETA. A task's size is known once any model has
    finished it (the size does not depend on the model); until then it counts as the mean known size.
    """

    def __init__(self, regimes: int) -> None:
        self.regimes = max(1, regimes)
        self.left: dict[str, Counter[str]] = {}  # model -> task -> items not finished
        self.sizes: dict[str, int] = {}  # task -> train + test sequences
        self.spent: dict[str, list[float]] = {}  # model -> [seconds, sequences] of its finished groups

    def plan(self, items: Iterable[tuple[str, str]]) -> None:
        """The run's items as (model, task) pairs, one per regime."""
        self.left = {}
        for model, task in items:
            self.left.setdefault(model, Counter())[task] += 1

    def item_done(self, model: str, task: str) -> None:
        tasks = self.left.get(model)
        if tasks is not None and tasks[task] > 0:
            tasks[task] -= 1

    def group_done(self, model: str, task: str, sequences: int, seconds: float) -> None:
        """A (model, task) whose items all finished: its size and the time it took."""
        self.sizes[task] = sequences
        spent = self.spent.setdefault(model, [0.0, 0])
        spent[0] += seconds
        spent[1] += sequences

    def seconds_left(self, model: str) -> float | None:
        spent = self.spent.get(model)
        if not spent or not spent[1]:
            return None
        mean = sum(self.sizes.values()) / len(self.sizes) if self.sizes else 0.0
        tasks = self.left.get(model, Counter())
        sequences = sum(self.sizes.get(t, mean) * n / self.regimes for t, n in tasks.items())
        return spent[0] / spent[1] * sequences

    def text(self, model: str, duration: Callable[[float], str]) -> str:
        """``, ETA <model> 2m05s, all 7m10s`` (or which models have no rate yet); "" when nothing is left."""
        busy = [m for m, tasks in self.left.items() if sum(tasks.values())]
        if not busy:
            return ""
        estimates = {m: self.seconds_left(m) for m in busy}
        parts = []
        own = estimates.get(model)
        if own is not None:
            parts.append(f"ETA {model} {duration(own)}")
        unknown = [m for m, s in estimates.items() if s is None]
        known = sum(s for s in estimates.values() if s is not None)
        if unknown:
            shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
            parts.append(f"{shown} not timed yet")
        elif len(busy) > 1 or own is None:
            parts.append(f"all {duration(known)}")
        return ", " + ", ".join(parts) if parts else ""


def parse_item_id(nodeid: str, models: Iterable[str], slugs: Iterable[str]) -> tuple[str, str] | None:
    """(model, task) of a GENEB item id ``...[<model>-<category slug>-<task>-<regime>]``; None for others.
    Model keys hold dashes, so the longest key that prefixes the id wins."""
    param = nodeid.partition("[")[2].removesuffix("]")
    model = max((m for m in models if param.startswith(m + "-")), key=len, default=None)
    if model is None:
        return None
    rest = param[len(model) + 1 :].rpartition("-")[0]
    slug = max((s for s in slugs if rest.startswith(s + "-")), key=len, default=None)
    return None if slug is None else (model, rest[len(slug) + 1 :])
