#!/usr/bin/env python3
"""Set up an isolated environment and run the benchmark or the tests: ``python3 dev.py bench|test``.

Needs only Python >= 3.10 with pip and venv. Why a script and not ``pip install -e .``: torch must be
installed *before* the project, as the right build for the machine. A plain ``pip install torch`` on
Linux pulls the CUDA build (several GB) even on a CPU-only machine; here we pick:

* a GPU machine (``nvidia-smi`` answers): the default PyPI build, which is CUDA-enabled;
* a CPU-only machine: a CPU wheel found locally by pip (``find-links`` in the pip config), else the
  official CPU index ``https://download.pytorch.org/whl/cpu``.

``GENEB_TORCH=cpu|cuda|skip`` overrides the detection; ``GENEB_TORCH_VERSION`` the version.
Everything else is in ``pyproject.toml``; the environment lives in ``.venv`` (``GENEB_VENV``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("GENEB_VENV", ROOT / ".venv"))
TORCH_VERSION = os.environ.get("GENEB_TORCH_VERSION", "2.13.0")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI = "https://pypi.org/simple"

# Serial: on 2 cores the lite sweep is faster in one process (28 s) than with -n 2 (42 s, worker start-up
# and one BLAS thread each); see benchmarks/sweep_speedup.py. Add "-n auto" for big sweeps.
BENCH = ["-m", "pytest", "suites/", "--junitxml=reports/junit.xml"]
TEST = ["-m", "pytest", "tests/", "-n", "2"]


def _bin(name: str) -> str:
    sub = "Scripts" if os.name == "nt" else "bin"
    return str(VENV / sub / name)


def _run(cmd: list[str], check: bool = True) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=check).returncode


def _has_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    return subprocess.run([smi, "-L"], capture_output=True).returncode == 0


def _install_torch(pip: list[str]) -> None:
    flavour = os.environ.get("GENEB_TORCH", "auto")
    if flavour == "skip":
        return
    if flavour == "auto":
        flavour = "cuda" if _has_gpu() else "cpu"
    spec = f"torch=={TORCH_VERSION}"
    if flavour == "cuda":
        _run([*pip, spec])
        return
    # A local CPU wheel (pip's find-links) first: no download at all; its dependencies come next.
    if _run([*pip, "--no-index", "--no-deps", spec], check=False) == 0:
        _run([*pip, spec])
        return
    _run([*pip, spec, "--index-url", TORCH_CPU_INDEX, "--extra-index-url", PYPI])


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "dev.py"):
        digest.update((ROOT / name).read_bytes())
    digest.update(os.environ.get("GENEB_TORCH", "auto").encode())
    return digest.hexdigest()


def ensure_env() -> None:
    """Create ``.venv`` and install torch + the project once; reinstall when pyproject changes."""
    stamp_file = VENV / ".geneb-installed"
    if stamp_file.exists() and stamp_file.read_text() == _stamp():
        return
    if not (VENV / "pyvenv.cfg").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [_bin("python"), "-m", "pip", "install", "--disable-pip-version-check"]
    probe = subprocess.run([_bin("python"), "-c", "import torch"], capture_output=True)
    if probe.returncode != 0:
        _install_torch(pip)
    _run([*pip, "-e", ".[test,models,audit,report,browser]"])
    stamp_file.write_text(_stamp())


def ensure_chromium() -> None:
    """The browser tests of report.html drive the system Chromium: install Debian's package where this
    machine can (root with apt-get); elsewhere say how, and those tests skip."""
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        ok = subprocess.run([apt, "update", "-qq"], env=env).returncode == 0
        if ok and subprocess.run([apt, "install", "-y", "-qq", "chromium"], env=env).returncode == 0:
            return
    print(
        "note: no chromium; report.html's browser tests will skip (Debian: apt-get install chromium)",
        flush=True,
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"bench", "test", "setup"}:
        print("usage: python3 dev.py bench|test|setup [extra pytest args]", file=sys.stderr)
        return 2
    ensure_env()
    command, extra = argv[0], argv[1:]
    if command in ("setup", "test"):
        ensure_chromium()
    python = _bin("python")
    if command == "setup":
        return 0
    if command == "bench":
        return _run([python, *BENCH, *extra], check=False)
    for lint in (["-m", "ruff", "check", "."], ["-m", "ruff", "format", "--check", "."], ["-m", "mypy"]):
        if _run([python, *lint], check=False) != 0:
            return 1
    return _run([python, *TEST, *extra], check=False)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
