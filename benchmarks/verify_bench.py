"""Cost of checking a checkpoint file against ``model_files.csv`` (``geneb_bench.models.verify``).

    python benchmarks/verify_bench.py                # a 1 GiB file of random bytes in a temporary directory
    python benchmarks/verify_bench.py --size-mb 4096 --dir /scratch

cold: the file has no stamp, so its sha256 is computed (reading every byte; the page cache is not dropped,
so this is the hashing cost, not the disk's). warm: a later run, same size, mtime and inode: the stamp
answers and nothing is read. A 14 GB checkpoint pays the cold cost once.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from geneb_bench.models.verify import FileRecord, Release, Stamps, sha256_file, verify_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--dir", default=None, help="where the temporary file goes (default: system temp)")
    parser.add_argument("--repeats", type=int, default=3, help="warm checks to time (best is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        weights = folder / "model.safetensors"
        with weights.open("wb") as handle:
            for _ in range(args.size_mb):
                handle.write(os.urandom(1 << 20))
        t0 = time.perf_counter()
        digest = sha256_file(weights)
        reference = time.perf_counter() - t0  # the expected hash, as model_files.csv would hold it
        release = Release(
            "bench", "google-drive", "local", "", (FileRecord(weights.name, digest, weights.stat().st_size),)
        )
        stamp = folder / "stamps.json"
        t0 = time.perf_counter()
        verify_folder(release, folder, Stamps(stamp))
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            verify_folder(release, folder, Stamps(stamp))
            warm.append(time.perf_counter() - t0)
        size_gb = weights.stat().st_size / 1e9
        print(f"file: {size_gb:.3f} GB ({args.size_mb} MiB)")
        print(f"sha256 alone:              {reference:8.3f} s ({size_gb / reference:.2f} GB/s)")
        print(f"verify cold (no stamp):    {cold:8.3f} s ({size_gb / cold:.2f} GB/s)")
        print(f"verify warm (stamp, best): {min(warm) * 1e3:8.3f} ms")
        print(f"cold / warm:               {cold / min(warm):8.0f}x")


if __name__ == "__main__":
    main()
