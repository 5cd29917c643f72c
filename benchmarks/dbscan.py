"""Pixel DBSCAN: the exact grid method against sklearn on realistic clustering heatmaps.

    python benchmarks/dbscan.py              # 5 cases on the paper's ¼-scale grid (636 x 764)
    python benchmarks/dbscan.py --quick      # 3 small cases (224 x 280), ~20 s

Each case is a max-normalised sum of Gaussians like the official clustering map of one
sentence window (gaze samples around 1-4 regions plus global scanning; σ = ppd × scale ×
cluster_sigma_factor, paper ppd/4 × 1.5 ≈ 34 px, ppd ≈ 92), with 25k-105k pixels above the
threshold (paper 0.1; the official runs had 27k-103k). Both methods run on the same heatmap
with the parameters of ``configs/full.yaml`` (section ``gaze``; paper: eps=0.3,
min_samples=10, intensity weight 0.1).

Reported per case and method: wall time (grid: best of 3 after a warm-up; sklearn: one run),
and the peak memory of one run in a fresh forked child process: its RSS high-water mark above
its starting RSS (tracemalloc would miss sklearn's neighbour arrays, built in C). The last
line is ``dbscan: speedup=<total sklearn time / total grid time> identical=<all labels
equal> cases=<n>``.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from gazex_lib.config import load_config  # noqa: E402
from gazex_lib.gaze.dbscan import cluster_pixels, dbscan_params  # noqa: E402

#: The recipe of the full profile (paper values).
GAZE = load_config("full").gaze
PARAMS = dbscan_params(GAZE)


def clustering_heatmap(rng, H, W, n_roi, n_samples=5500, ppd=92.0):
    """Max-normalised Σ of Gaussians (σ = ppd × scale × cluster_sigma_factor px; paper
    ppd/4 × 1.5) at simulated gaze samples on the ``scale`` grid (paper ¼)."""
    sigma = ppd * GAZE.scale * GAZE.cluster_sigma_factor
    centres = rng.uniform([0.25 * H, 0.2 * W], [0.8 * H, 0.8 * W], size=(n_roi, 2))
    n_fix = n_samples // 250
    fy, fx = [], []
    for i in range(n_fix):
        if rng.random() < 0.75:  # a fixation on a region of interest
            roi = centres[rng.integers(n_roi)]
            cy, cx = roi + rng.normal(0, rng.uniform(15, 40) * GAZE.scale, 2)
        else:  # global scanning of the chest
            cy, cx = rng.uniform([0.15 * H, 0.15 * W], [0.9 * H, 0.85 * W])
        k = 250
        fy.append(cy + rng.normal(0, 1, k))
        fx.append(cx + rng.normal(0, 1, k))
    y = np.concatenate(fy).astype(int)
    x = np.concatenate(fx).astype(int)
    ok = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    y, x = y[ok], x[ok]
    gy = np.exp(-(np.arange(H)[:, None] - y[None, :]) ** 2 / (2 * sigma ** 2))  # (H, n)
    gx = np.exp(-(x[:, None] - np.arange(W)[None, :]) ** 2 / (2 * sigma ** 2))  # (n, W)
    hm = (gy @ gx).astype(np.float32)
    return hm / hm.max()


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _memory_child(hm, method, conn):
    start = _rss_kib()
    cluster_pixels(hm, **dict(PARAMS, method=method))  # RSS high-water mark of this run
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
    conn.send(rss_peak / 1024)
    conn.close()


def peak_memory_mb(hm, method):
    """Peak RSS increase in MiB of one ``cluster_pixels`` run, in a fresh fork."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_memory_child, args=(hm, method, child))
    proc.start()
    out = parent.recv()
    proc.join()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 small 224 x 280 cases")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.quick:
        shape, rois = (224, 280), (1, 2, 3)
    else:
        shape, rois = (636, 764), (1, 2, 3, 4, 4)
    # warm-up (imports, FFT plans) on a small map
    warm = clustering_heatmap(np.random.default_rng(99), 120, 140, 2, n_samples=1000)
    cluster_pixels(warm, **dict(PARAMS, method="grid"))
    cluster_pixels(warm, **dict(PARAMS, method="sklearn"))

    total_grid = total_sk = 0.0
    identical = True
    print(f"{'case':>4} {'pixels':>7} {'clusters':>8} {'noise':>6} {'grid_s':>8} {'sklearn_s':>9} "
          f"{'speedup':>8} {'grid_peak_MB':>12} {'sk_peak_MB':>10} {'identical':>9}")
    n_cases = 0
    for i, n_roi in enumerate(rois):
        # retry until the map has 25k-105k pixels above the threshold (last one if none does)
        for _ in range(30):
            hm = clustering_heatmap(rng, *shape, n_roi)
            n_px = int((hm > PARAMS["threshold"]).sum())
            if args.quick or 25_000 <= n_px <= 105_000:
                break
        tg = []
        for _ in range(3):
            t0 = time.perf_counter()
            g = cluster_pixels(hm, **dict(PARAMS, method="grid"))
            tg.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        s = cluster_pixels(hm, **dict(PARAMS, method="sklearn"))
        ts = time.perf_counter() - t0
        same = (np.array_equal(g.rows, s.rows) and np.array_equal(g.cols, s.cols)
                and np.array_equal(g.labels, s.labels))
        identical &= same
        g_rss = peak_memory_mb(hm, "grid")
        s_rss = peak_memory_mb(hm, "sklearn")
        total_grid += min(tg)
        total_sk += ts
        n_cases += 1
        print(f"{i:>4} {s.rows.size:>7} {s.n_clusters:>8} {int((s.labels < 0).sum()):>6} "
              f"{min(tg):>8.4f} {ts:>9.3f} {ts / min(tg):>8.1f} {g_rss:>12.1f} {s_rss:>10.1f} "
              f"{str(same):>9}", flush=True)
    speedup = total_sk / total_grid
    print(f"dbscan: speedup={speedup:.1f} identical={identical} cases={n_cases}")
    return {"speedup": speedup, "identical": identical, "cases": n_cases}


if __name__ == "__main__":
    main()
