"""``geneb models --check``: what a run here would do with each model, decided without loading any.

One line per model: runs, or skips and why (package missing, weights not local, hub unreachable, no GPU,
unpinned remote code), with its pinned revision. Nothing is downloaded; at most one short hub probe is made
for the whole listing (``geneb_bench.hub``), none when huggingface_hub is offline, so an unavailable model is a
skip at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from geneb_bench.hub import OFFLINE_NOT_CACHED, cached_file, hub_reachable, offline
from geneb_bench.models.base import ModelSpec

GPU_PACKAGES = frozenset({"mamba_ssm", "flash_attn", "evo2"})


@dataclass(frozen=True)
class Availability:
    key: str
    verdict: str  # "runs" or "skips"
    why: str
    revision: str

    def row(self) -> list[str]:
        return [self.key, self.verdict, self.why, self.revision]


def _hub_cached(repo: str, revision: str | None) -> bool:
    return cached_file(repo, "config.json", revision) is not None


def gpu_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - a core dependency
        return False
    return bool(torch.cuda.is_available())


def availability(spec: ModelSpec, reachable: Callable[[], bool], gpu: Callable[[], bool]) -> Availability:
    """What a run would do with ``spec`` here (``reachable``/``gpu`` are asked only when they matter)."""
    from geneb_bench.models.loading import import_problem, install_hint, is_commit

    revision = spec.revision if spec.revision and spec.weights in ("hub", "") else "-"

    def skip(why: str) -> Availability:
        return Availability(spec.key, "skips", why, revision)

    if spec.family in ("kmer", "random-transformer"):
        return Availability(spec.key, "runs", "built in", revision)
    problems = {m: p for m in spec.requires if (p := import_problem(m)) is not None}
    if problems:
        return skip("package missing: " + "; ".join(f"{p} ({install_hint(m)})" for m, p in problems.items()))
    if GPU_PACKAGES & set(spec.requires) and not gpu():
        return skip(f"no GPU ({', '.join(sorted(GPU_PACKAGES & set(spec.requires)))} need CUDA)")
    if spec.family == "package":
        return skip("served by its own package: run the authors' extractor with python:module:function")
    if spec.family != "hf":
        return Availability(spec.key, "runs", spec.family, revision)
    if spec.source is None:
        return skip(f"weights not local: pass [path=/dir] ({spec.weights_note})")
    if spec.weights != "hub":
        return Availability(spec.key, "runs", f"local folder {spec.source}", revision)
    if spec.options.get("trust_remote_code") and not is_commit(spec.revision):
        return skip("unpinned remote code: --geneb-trust-remote-code or [revision=<commit>]")
    verified = _verification(spec)
    if _hub_cached(spec.source, spec.revision):
        return Availability(spec.key, "runs", f"weights in the hub cache ({verified})", revision)
    if offline():
        return skip(OFFLINE_NOT_CACHED)
    if not reachable():
        return skip("hub unreachable and not in the hub cache")
    return Availability(spec.key, "runs", f"downloads from the hub at first use ({verified})", revision)


def _verification(spec: ModelSpec) -> str:
    """Whether the files will be checked against ``model_files.csv``: only at the published commit."""
    from geneb_bench.models.verify import release_for

    release = release_for(spec.key if spec.group == "geneb" else "", spec.source, spec.revision)
    if release is None or not release.on_hub:
        return "no published file list: not verified"
    if spec.revision != release.revision:
        return f"not the published revision {release.revision[:12]}: files not verified"
    return "files verified at first use"


def check_models(specs: list[ModelSpec]) -> list[Availability]:
    """Availability of every spec; the hub probe and the GPU query run at most once each."""
    memo: dict[str, bool] = {}

    def once(name: str, probe: Callable[[], bool]) -> Callable[[], bool]:
        def ask() -> bool:
            if name not in memo:
                memo[name] = probe()
            return memo[name]

        return ask

    reachable, gpu = once("hub", hub_reachable), once("gpu", gpu_available)
    return [availability(spec, reachable, gpu) for spec in specs]
