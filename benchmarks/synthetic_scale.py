"""How the synthetic generator scales: wall time, memory and bytes on disk for N readings.

    python benchmarks/synthetic_scale.py --n 100            # ci image size (configs/ci.yaml)
    python benchmarks/synthetic_scale.py --profile full     # REFLACX scale: 3032 readings, full films

Generates into a temporary folder (deleted afterwards unless ``--keep DIR``) and prints the
wall time, the peak RSS (``resource.getrusage``), the RSS sampled during the run (flat = the
generator streams), the bytes on disk, and per-reading figures with the extrapolation to
REFLACX's 3032 readings.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gazex_lib.config import load_config  # noqa: E402
from gazex_lib.data.synthetic import make_dataset  # noqa: E402

REFLACX_READINGS = 3032


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help="readings (default: the profile's n_readings)")
    ap.add_argument("--profile", default="ci", choices=["ci", "full"], help="whose synthetic section to use")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="generate here and keep it")
    ap.add_argument("--reflacx-phases", action="store_true",
                    help="split phases in REFLACX proportions (multi_reader_images=None)")
    args = ap.parse_args(argv)

    syn = load_config(args.profile).section_dict("synthetic")
    if args.reflacx_phases:
        syn["multi_reader_images"] = None
    n = args.n if args.n is not None else (REFLACX_READINGS if args.profile == "full" else syn["n_readings"])
    tmp = None
    if args.keep is None:
        tmp = Path(tempfile.mkdtemp(prefix="gazex-synthetic-scale-"))
        root = tmp / "data"
    else:
        root = args.keep
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_rss_mb())
            stop.wait(0.25)

    rss0 = _rss_mb()
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        summary = make_dataset(root, n_readings=n, seed=args.seed, config=syn, progress=sys.stderr.isatty())
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        disk = _disk_bytes(root)
    finally:
        stop.set()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    q = len(samples) // 4
    quarters = [max(samples[i * q:(i + 1) * q] or [0.0]) for i in range(4)] if q else [max(samples or [0.0])]
    out = {"profile": args.profile, "n_readings": n, "image_size": syn["image_size"], "wall_s": round(wall, 2),
           "peak_rss_mb": round(peak, 1), "rss_before_mb": round(rss0, 1),
           "rss_max_by_quarter_mb": [round(v, 1) for v in quarters], "disk_mb": round(disk / 2**20, 1),
           "s_per_reading": round(wall / n, 4), "mb_per_reading": round(disk / 2**20 / n, 3),
           "extrapolated_3032": {"wall_min": round(wall / n * REFLACX_READINGS / 60, 1),
                                 "disk_gb": round(disk / n * REFLACX_READINGS / 2**30, 2)},
           "summary": {k: v for k, v in summary.items() if k != "root"}}
    for k, v in out.items():
        print(f"{k:>24}: {v}")
    return out


if __name__ == "__main__":
    main()
