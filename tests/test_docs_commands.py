"""Every command the README and the guides in docs/ show runs, as written there (placeholders filled in).

The ``bash`` blocks are read from the files; each ``pytest ...`` command is collected (``--collect-only``:
options, models, suites and data paths are all resolved at collection, so a renamed option, an unknown model
key or a wrong path fails), each ``geneb ...`` command runs for real on a tiny results folder. A command that
cannot run here (network, a cluster) is listed in ``NOT_HERE`` with the reason; an entry there that no guide
shows any more fails too, so the list never goes stale. The hints a run prints at its end are run as
printed by tests/plugin/test_researcher_path.py.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imported once here, not by each in-process pytest run: pytester unloads what a run imported, so every
# command would import the plugin, the runner and the suites again (most of a collection's time).
import geneb_bench.data.lite
import geneb_bench.data.suites
import geneb_bench.models.lockfile
import geneb_bench.models.registry
import geneb_bench.plugin.reporting
import geneb_bench.runner.session  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SUBSET = SHARED / "data" / "geneb-tasks-subset"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Commands shown but not run here, by their start, with the reason.
NOT_HERE = {
    "python3 dev.py": "the set-up script itself: CI runs it (dev.py test runs this file)",
    "source .venv/bin/activate": "shell set-up",
    "pip install": "package installation (network)",
    "pytest suites/ --geneb-model 'org/model[trust_remote_code=true]'": "resolves a hub branch (network)",
    "geneb slurm": "writes Slurm scripts for a cluster: tests/cluster/test_slurm.py runs them",
    "geneb merge runs/gpu1": "needs two machines' results: tests/results/test_merge.py",
    "geneb merge runs/shard0": "needs two shards' results: tests/results/test_merge.py",
    "geneb submission": "needs a complete GENEB-suite run: tests/reports/test_submission.py",
    "geneb tasks --audit": "seqleak on real tasks takes minutes: tests/data/test_audit.py",
    "geneb models --check": "asks the hub whether it is reachable: tests/models/test_check.py",
    "pytest suites/ -n": "starts xdist workers: tests/plugin/test_plugin.py runs -n 2",
}


def shown_commands() -> list[tuple[str, str]]:
    """(file name, command) for every line of every ``bash`` block; continuation lines joined, comments
    dropped."""
    found = []
    for doc in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    found.append((doc.name, shlex.join(words)))
    return found


def _skipped(command: str) -> bool:
    return any(command.startswith(start) for start in NOT_HERE)


def test_every_skip_is_still_shown() -> None:
    shown = [c for _, c in shown_commands()]
    stale = [start for start in NOT_HERE if not any(c.startswith(start) for c in shown)]
    assert not stale, f"NOT_HERE names commands no guide shows: {stale}"


def test_every_command_is_run_or_explained() -> None:
    commands = shown_commands()
    assert len(commands) > 20
    unknown = [(doc, c) for doc, c in commands if not _skipped(c) and c.split()[0] not in {"pytest", "geneb"}]
    assert not unknown, f"commands neither run nor explained in NOT_HERE: {unknown}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory with the repository's suites/, a tiny BERT folder at each placeholder path, the
    README's extractor module, a suite file, and a results folder holding a small lite run."""
    import geneb_bench
    from geneb_bench.models.random_init import build_random_model, char_tokenizer

    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "suites", root / "suites", ignore=shutil.ignore_patterns("__pycache__"))
    model = build_random_model({"hidden_size": 16, "num_layers": 1, "num_heads": 2, "max_tokens": 128})
    for place in ("path/to/my-dna-model", "path/to/checkpoint", "data/deepgene-hf"):
        model.save_pretrained(root / place)
        char_tokenizer(128).save_pretrained(root / place)
    (root / "my_extractor.py").write_text(
        "import numpy as np\n\n\ndef extract(sequences, batch_size):\n"
        "    return np.array([[s.count(b) / max(len(s), 1) for b in 'ACGT'] for s in sequences], dtype='float32')\n"
    )
    rows = "text,label\n" + "".join(f"{'ACGT' * 5 if i % 2 else 'TTAA' * 5},{i % 2}\n" for i in range(20))
    (root / "train.csv").write_text(rows)
    (root / "test.csv").write_text(rows)
    (root / "my.toml").write_text(
        'name = "my-suite"\n\n[[task]]\nid = "my_promoters"\ncategory = "Promoters"\n'
        'train = "train.csv"\ntest = "test.csv"\n'
    )
    geneb_bench.run(
        ["kmer-3", "kmer-4"],
        suite="lite",
        tasks=["promoters"],
        regimes=["full"],
        results_dir=root / "reports",
        cache_dir=root / "cache",
    )
    return root


def _fill(command: str, root: Path) -> list[str]:
    """The command with its placeholders made real: the shared data, the world's folders."""
    command = command.replace("../shared/", f"{SHARED}/").replace("/path/to/", "path/to/")
    command = command.replace("/data/deepgene-hf", f"{root}/data/deepgene-hf")
    return ["kmer-3" if word == "KEY" else word for word in shlex.split(command)]


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    here = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(here)


def _geneb(argv: list[str], root: Path) -> tuple[int, str]:
    from geneb_bench.cli import main

    out = io.StringIO()
    with _cwd(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = int(exc.code or 0)
    return status, out.getvalue()


@pytest.mark.usefixtures("transformers_imported")
def test_every_command_runs(world: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    if not SUBSET.is_dir():
        pytest.skip(f"the shared task data is not here: {SUBSET}")
    monkeypatch.setenv("GENEB_CACHE_DIR", str(world / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    failures = []
    ran = 0
    for doc, command in shown_commands():
        if _skipped(command):
            continue
        argv = _fill(command, world)
        started = time.perf_counter()
        if argv[:2] == ["geneb", "run"]:  # the packaged benchmark is pytest: collected like the others
            argv = ["pytest", *argv[2:]]
        if argv[0] == "geneb":
            status, output = _geneb(argv[1:], world)
            # 2 without a usage message: refused input (e.g. no results of that kind here), not a typo
            bad = status not in (0, 1) and ("usage:" in output or status != 2)
        else:
            pytester.chdir()
            for name in ("suites", "my_extractor.py", "my.toml", "train.csv", "test.csv", "path", "data"):
                target = pytester.path / name
                if not target.exists():
                    target.symlink_to(world / name)
            result = pytester.runpytest_inprocess(
                *argv[1:],
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--geneb-results-dir={world / 'collect'}",
                f"--geneb-lock-file={world / 'geneb.lock'}",
            )
            status, output = int(result.ret), result.stdout.str() + result.stderr.str()
            bad = status != 0
        ran += 1
        if os.environ.get("GENEB_DOCS_TIMES"):
            print(f"{time.perf_counter() - started:6.1f}s {command}")
        if bad:
            failures.append(f"{doc}: {command}\n  -> exit {status}: {output[-800:]}")
    assert ran > 15
    assert not failures, "\n".join(failures)
