"""What code and machine produced a run: the git commit and the environment, recorded when the run ends.

Read at run time and written into ``run.json`` (``runner.finish``), so a report built later, elsewhere or
from a copied results directory still says which commit and machine measured the numbers.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def git_commit(start: Path | None = None) -> str | None:
    """The commit of the enclosing git checkout, read from ``.git`` directly (no git binary needed)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        git = folder / ".git"
        if not (git / "HEAD").is_file():
            continue
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()
        packed = git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        return None
    return None


def machine() -> str:
    return f"{platform.node()} - {platform.platform()} - {platform.machine()} - {os.cpu_count()} CPUs"


def accelerator() -> str:
    """The GPU the run could use, without initialising CUDA when torch is not imported already."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return "none (CPU)"
    return str(torch.cuda.get_device_name(0))
