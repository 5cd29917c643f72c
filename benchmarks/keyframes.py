"""Key frames: the official algorithm (straightforward reference) vs gazex_lib.gaze, in one run.

    python benchmarks/keyframes.py                 # 3 synthetic readings, REFLACX-size films (2544×3056)
    python benchmarks/keyframes.py --profile ci    # 3 readings of the cached ci dataset (896×1120 films)
    python benchmarks/keyframes.py --scale         # REFLACX-scale synthetic dataset (3,032 readings)

Side (a), ``benchmarks/official_reference.py``: one Gaussian per sample in a Python loop,
sklearn DBSCAN on every pixel above the threshold (paper 0.1), one Gaussian per cluster
*pixel* for the cluster maps, all in float64. Both sides take the recipe from the profile's
config (``configs/<profile>.yaml``, sections ``data`` and ``gaze``). Side (b): :func:`gazex_lib.gaze.reading_keyframes`, the whole pipeline
(windows, maps, grid DBSCAN, time order, frames, boxes). Both run on the same readings, one
after the other, in this process. Then every window is compared: DBSCAN labels (ARI and
identity), the clustering map, the holistic map and the cluster maps (max |Δ|, float64).

Last line: ``keyframes: speedup=<x> ari_min=<min ARI over windows> map_max_abs_diff=<d> readings=<n>``.
``--scale`` times side (b) alone over a generated REFLACX-scale dataset (the reference would
take days) and prints wall time and peak RSS.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

import official_reference as ref  # noqa: E402
from gazex_lib import config  # noqa: E402
from gazex_lib.data import schema  # noqa: E402
from gazex_lib.data.reflacx import load_reflacx  # noqa: E402
from gazex_lib.gaze import maps  # noqa: E402
from gazex_lib.gaze.clusters import cluster_params, cluster_window  # noqa: E402
from gazex_lib.gaze.dbscan import cluster_pixels, dbscan_params  # noqa: E402
from gazex_lib.gaze.pipeline import KeyframeConfig, load_film, reading_keyframes  # noqa: E402
from gazex_lib.gaze.windows import sentence_windows  # noqa: E402


def compare_window(w, image_size, kcfg, patch, r) -> dict:
    """Our maps and labels (grid DBSCAN) for window ``w`` against the reference result ``r``."""
    wc = cluster_window(w, image_size, **dict(cluster_params(kcfg), method="grid"))
    ours = cluster_pixels(wc.cluster_map, **dict(dbscan_params(kcfg), method="grid"))
    same_pixels = (np.array_equal(ours.rows, r["rows"]) and np.array_equal(ours.cols, r["cols"]))
    ari = adjusted_rand_score(r["labels"], ours.labels) if same_pixels and len(ours.labels) else (
        1.0 if same_pixels else 0.0)
    identical = same_pixels and np.array_equal(ours.labels, r["labels"])
    holistic = maps.attention_map(w, image_size, "paper", scale=kcfg.scale,
                                  sigma_factor=kcfg.render_sigma_factor, normalize="none")
    diffs = [np.abs(wc.cluster_map - r["cluster_map"]).max(), np.abs(holistic - r["holistic"]).max()]
    if r["clusters"]:
        assert len(wc.clusters) == len(r["clusters"]), "cluster counts differ"
        for c_ours, c_ref in zip(wc.clusters, r["clusters"]):
            diffs.append(np.abs(c_ours.heat - c_ref["heat"]).max())
            assert abs(c_ours.time_s - c_ref["time_s"]) < 1e-9, "cluster order differs"
    return {"ari": float(ari), "identical": bool(identical), "map_diff": float(max(diffs))}


def side_by_side(n_readings: int, seed: int, profile: str) -> None:
    cfg = config.load_config(profile)
    if profile == "ci":   # the cached ci dataset
        root = config.resolve_data_root(None, cfg, seed, progress=False)
    else:                 # a few readings with the full profile's films (REFLACX size, ≈ 94 px/deg)
        from gazex_lib.data.synthetic import make_dataset

        tmp = tempfile.TemporaryDirectory(prefix="gazex-keyframes-bench-")
        root = Path(tmp.name) / "data"
        make_dataset(root, n_readings=n_readings, seed=seed, progress=False,
                     config=dataclasses.replace(cfg.synthetic, n_readings=n_readings,
                                                multi_reader_images=None))
        print(f"generated {n_readings} readings with {cfg.synthetic.image_size} films in {root}")
    kcfg = KeyframeConfig.from_config(cfg)
    ds = load_reflacx(root / schema.REFLACX_DIR, window_lead_s=kcfg.window_lead_s,
                      trailing_words=kcfg.trailing_words)
    jpg = root / schema.MIMIC_JPG_DIR
    ids = ds.ids(phase=3)[:n_readings]
    films = {rid: load_film(ds, rid, jpg, scale=kcfg.scale) for rid in ids}
    gazes = {rid: ds.gaze(rid) for rid in ids}
    sents = {rid: ds.sentences(rid) for rid in ids}

    t_ref, ref_out = 0.0, {}
    for rid in ids:                                   # (a) the official algorithm
        shape = films[rid].shape
        t0 = time.perf_counter()
        res = []
        for _, s in sents[rid].iterrows():
            patch = ref.window_samples(gazes[rid], s["timestamp_start_s"], s["timestamp_end_s"],
                                       kcfg)
            res.append(None if patch.empty else (patch, ref.sentence(patch, shape, kcfg)))
        t_ref += time.perf_counter() - t0
        ref_out[rid] = res
        print(f"  reference {rid}: {len(res)} sentences, {time.perf_counter() - t0:.1f} s", flush=True)

    t_ours, n_frames = 0.0, 0
    for rid in ids:                                   # (b) gazex_lib, the whole pipeline
        t0 = time.perf_counter()
        frames, _ = reading_keyframes(ds, rid, films[rid], kcfg)
        t_ours += time.perf_counter() - t0
        n_frames += len(frames)

    aris, diffs, identical, n_windows = [], [], 0, 0
    for rid in ids:                                   # agreement, window by window
        meta = ds.metadata.loc[rid]
        image_size = (int(meta["image_size_x"]), int(meta["image_size_y"]))
        # every sentence kept (one reference entry per sentence), the profile's trim
        windows = sentence_windows(ds, rid, trim=kcfg.trim, skip_empty_sentences=False)
        for w, r in zip(windows, ref_out[rid]):
            if r is None:
                assert w.n_samples == 0, "reference has no samples but we do"
                continue
            c = compare_window(w, image_size, kcfg, *r)
            aris.append(c["ari"]); diffs.append(c["map_diff"])
            identical += c["identical"]; n_windows += 1
    print(f"reference: {t_ref:.2f} s   gazex_lib: {t_ours:.3f} s   ({n_frames} frames, "
          f"{n_windows} windows, identical labels in {identical}/{n_windows})")
    print(f"keyframes: speedup={t_ref / t_ours:.1f} ari_min={min(aris):.6f} "
          f"map_max_abs_diff={max(diffs):.3g} readings={len(ids)}")


def at_scale(n: int, n_jobs: int, seed: int, data_root: Path | None) -> None:
    """Side (b) alone over a generated REFLACX-scale dataset (``data_root``: generate there once
    and keep it; default: a temporary folder)."""
    from gazex_lib.data.synthetic import make_dataset
    from gazex_lib.gaze.table import build_keyframe_table

    cfg = config.load_config("ci")
    syn = dataclasses.replace(cfg.synthetic, multi_reader_images=None)   # REFLACX proportions
    tmp = None
    if data_root is None:
        tmp = tempfile.TemporaryDirectory(prefix="gazex-keyframes-scale-")
        data_root = Path(tmp.name) / "data"
    if not (data_root / "COMPLETE").exists():
        t0 = time.perf_counter()
        make_dataset(data_root, n_readings=n, seed=seed, config=syn, progress=True)
        (data_root / "COMPLETE").write_text("ok\n")
        print(f"generated {n} readings in {time.perf_counter() - t0:.0f} s", flush=True)
    kcfg = KeyframeConfig.from_config(cfg)
    ds = load_reflacx(data_root / schema.REFLACX_DIR, window_lead_s=kcfg.window_lead_s,
                      trailing_words=kcfg.trailing_words)
    with tempfile.TemporaryDirectory(prefix="gazex-keyframes-out-") as out:
        t0 = time.perf_counter()
        kt = build_keyframe_table(ds, data_root / schema.MIMIC_JPG_DIR, Path(out), kcfg,
                                  n_jobs=n_jobs, progress=True, use_cache=False)
        wall = time.perf_counter() - t0
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rss_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    m = kt.manifest
    print(f"keyframes --scale: readings={m['n_readings']} frames={m['n_frames']} "
          f"sentences={m['n_sentences']} wall={wall / 60:.1f} min n_jobs={n_jobs} "
          f"peak_rss_main={rss_self:.2f} GB peak_rss_worker={rss_kids:.2f} GB")
    if tmp is not None:
        tmp.cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readings", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", default="full", choices=["ci", "full"],
                    help="film size of the side-by-side run: full = REFLACX-size films (default), ci = small")
    ap.add_argument("--scale", action="store_true", help="REFLACX-scale run of gazex_lib alone")
    ap.add_argument("--n", type=int, default=3032, help="readings for --scale")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--data-root", type=Path, default=None,
                    help="--scale: generate the dataset here once and keep it (default: temporary)")
    args = ap.parse_args(argv)
    if args.scale:
        at_scale(args.n, args.jobs, args.seed, args.data_root)
    else:
        side_by_side(args.readings, args.seed, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
