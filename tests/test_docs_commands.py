"""Every command the README and the guides in docs/ show runs, as written there (placeholders filled in).

The ``bash`` blocks are read from the files; each ``pytest ...`` command is collected (``--collect-only``:
options, models, suites and data paths are all resolved at collection, so a renamed option, an unknown model
key or a wrong path fails), each ``geneb ...`` command runs for real on a tiny results folder (``geneb
download`` offline: it checks a fresh hub cache). ``export VAR=...`` lines are the shell's set-up: what they
set applies to the commands after them in the same guide, as ``VAR=... command`` does to its command. A
command that cannot run here (network, a cluster) is listed in ``NOT_HERE`` with the reason, and its
arguments are still parsed; an entry there that no guide shows any more fails too, so the list never goes
stale. ``geneb`` commands quoted in the prose must name options that exist, and every link between the
guides must resolve. The hints a run prints at its end are run as printed by
tests/plugin/test_researcher_path.py.
"""

from __future__ import annotations

import argparse
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
    dropped. An ``export`` line is no command: what it sets is written in front of each later command of the
    same guide (``VAR=value command``), as the reader's shell would run it."""
    found = []
    for doc in DOCS:
        exported: dict[str, str] = {}
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if words[:1] == ["export"]:
                    exported |= _split_env(words[1:])[0]
                elif words:
                    found.append((doc.name, shlex.join([f"{k}={v}" for k, v in exported.items()] + words)))
    return found


def _split_env(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """A command's leading ``VAR=value`` assignments, and the command itself."""
    env = {}
    while words and re.match(r"[A-Za-z_]\w*=", words[0]):
        name, value = words[0].split("=", 1)
        env[name] = value
        words = words[1:]
    return env, words


def _bare(command: str) -> str:
    return shlex.join(_split_env(shlex.split(command))[1])


def _skipped(command: str) -> bool:
    return any(_bare(command).startswith(start) for start in NOT_HERE)


def test_shell_setup_is_applied_not_run() -> None:
    """The set-up lines of docs/cluster-download.md reach the commands after them, and are no commands."""
    env, argv = _split_env(shlex.split("A=1 B='x y' pytest suites/ C=2"))
    assert (env, argv) == ({"A": "1", "B": "x y"}, ["pytest", "suites/", "C=2"])
    commands = [c for doc, c in shown_commands() if doc == "cluster-download.md"]
    assert not [c for c in commands if _bare(c).startswith("export")]
    assert "HF_HOME=/shared/hf geneb download --suite geneb" in commands
    assert (
        "HF_HOME=/shared/hf HF_HUB_OFFLINE=1 pytest suites/ --geneb-suite geneb --geneb-model MutBERT"
        in commands
    )


def test_every_skip_is_still_shown() -> None:
    shown = [_bare(c) for _, c in shown_commands()]
    stale = [start for start in NOT_HERE if not any(c.startswith(start) for c in shown)]
    assert not stale, f"NOT_HERE names commands no guide shows: {stale}"


def test_every_command_is_run_or_explained() -> None:
    commands = shown_commands()
    assert len(commands) > 20
    unknown = [
        (doc, c) for doc, c in commands if not _skipped(c) and _bare(c).split()[0] not in {"pytest", "geneb"}
    ]
    assert not unknown, f"commands neither run nor explained in NOT_HERE: {unknown}"


def _parse_error(argv: list[str]) -> str | None:
    """What ``geneb`` says about these arguments before running anything (None: they parse)."""
    from geneb_bench.cli import build_parser

    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
        try:
            args, extra = build_parser().parse_known_args(argv)
        except SystemExit:
            return out.getvalue()
    return f"unrecognised arguments: {extra}" if extra and args.command not in {"run", "slurm"} else None


def test_commands_not_run_here_parse() -> None:
    """A command that cannot run here still names a subcommand and options that exist."""
    skipped = [(doc, c) for doc, c in shown_commands() if _skipped(c) and _bare(c).startswith("geneb ")]
    assert len(skipped) >= 5
    errors = [f"{doc}: {c}: {e}" for doc, c in skipped if (e := _parse_error(shlex.split(_bare(c))[1:]))]
    errors += [f"{doc}: {c}: no {o}" for doc, c in skipped for o in _unknown_options(_bare(c))]
    assert not errors, "\n".join(errors)


def _options(subcommand: str) -> set[str]:
    from geneb_bench.cli import build_parser

    (subparsers,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    parser = subparsers.choices.get(subcommand)
    return set(parser._option_string_actions) if parser else set()


def test_commands_in_the_prose_name_real_options() -> None:
    """`geneb SUB --option` quoted in a guide's text, or after ``$ `` in a transcript (``text`` blocks, not run:
    they show what a run printed): SUB is a subcommand and --option one of its options."""
    pattern = r"`(geneb [a-z]+(?=[ `])[^`]*)`|^\$ (geneb .*)$"
    quoted = [
        (doc.name, prose or shown)
        for doc in DOCS
        for prose, shown in re.findall(pattern, doc.read_text(), re.M)
    ]
    assert len(quoted) > 20
    assert any(span.startswith("geneb plan --suite lite") for _, span in quoted)
    wrong = [f"{doc}: `{span}`: no {o}" for doc, span in quoted for o in _unknown_options(span)]
    assert not wrong, "\n".join(wrong)


def _unknown_options(command: str) -> list[str]:
    """The subcommand, or the options before ``--``, that ``geneb SUB`` does not have, spelled out in full
    (argparse would take an abbreviation; a guide should not). ``geneb run`` passes its options to pytest."""
    subcommand = command.split()[1]
    options = _options(subcommand)
    if not options:
        return [f"subcommand {subcommand!r}"]
    used = re.findall(r"(?<![\w-])(--[a-z][\w-]*)", command.split(" -- ")[0])
    return [f"option {o} of geneb {subcommand}" for o in used if o not in options and subcommand != "run"]


def test_links_between_guides_resolve() -> None:
    """Every relative link of the README and the guides names a file that exists (and a heading there, when
    it names one); every guide in docs/ is linked from the README."""
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            if not file.exists():
                broken.append(f"{doc.name}: {target}: no such file")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{doc.name}: {target}: no such heading")
    assert not broken, "\n".join(broken)
    readme = (ROOT / "README.md").read_text()
    unlinked = [d.name for d in DOCS[1:] if f"](docs/{d.name})" not in readme]
    assert not unlinked, f"guides the README does not link: {unlinked}"


def _anchors(file: Path) -> set[str]:
    """GitHub's anchors of a markdown file's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*)$", re.sub(r"```.*?```", "", file.read_text(), flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


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
    command = command.replace("/data/deepgene-hf", f"{root}/data/deepgene-hf").replace(
        "=/shared/hf", f"={root}/hf"
    )
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
    import huggingface_hub.constants

    monkeypatch.setenv("GENEB_CACHE_DIR", str(world / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing here reaches the hub, whatever a guide exports
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    failures = []
    ran = 0
    for doc, command in shown_commands():
        if _skipped(command):
            continue
        env, argv = _split_env(_fill(command, world))
        started = time.perf_counter()
        if argv[:2] == ["geneb", "run"]:  # the packaged benchmark is pytest: collected like the others
            argv = ["pytest", *argv[2:]]
        with monkeypatch.context() as shell:
            for name, value in env.items():
                shell.setenv(name, value)
            if "HF_HOME" in env:  # huggingface_hub reads it once, at import: its cache follows by hand
                shell.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(Path(env["HF_HOME"]) / "hub"))
            status, output, bad = _run_shown(argv, world, pytester)
        ran += 1
        if os.environ.get("GENEB_DOCS_TIMES"):
            print(f"{time.perf_counter() - started:6.1f}s {command}")
        if bad:
            failures.append(f"{doc}: {command}\n  -> exit {status}: {output[-800:]}")
    assert ran > 15
    assert not failures, "\n".join(failures)


def _run_shown(argv: list[str], world: Path, pytester: pytest.Pytester) -> tuple[int, str, bool]:
    """Exit status, output, and whether that is a failure of the guide."""
    if argv[0] == "geneb":
        status, output = _geneb(argv[1:], world)
        if argv[1] == "download":  # offline: every item checked in the (empty) hub cache the guide names
            return status, output, status not in (0, 1) or f"in the hub cache {world}/hf/hub" not in output
        # 2 without a usage message: refused input (e.g. no results of that kind here), not a typo
        return status, output, status not in (0, 1) and ("usage:" in output or status != 2)
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
    return status, output, status != 0
