"""Summaries of the key-frame table for notebook 02 and its result file."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gazex_lib.gaze.pipeline import KeyframeConfig

#: REFLACX v1.0.0 readings, and the paper's key-frame claim (abstract: "> 30,000 key frames").
REFLACX_READINGS = 3032
PAPER_KEYFRAMES = 30000

#: Fields whose default differs from the official scripts: (official value, why we differ).
OFFICIAL_DIFFERENCES = {
    "skip_empty_sentences": (True, "official skips sentences without gaze, which misaligns "
                                   "frame_index and the sentences; we keep a dark frame and count it"),
    "frame_fit": ("none", "official frames are W//4 × H//4; Qwen2-VL needs sides that are "
                          "multiples of 28, so we pad (bottom/right, box coordinates unchanged)"),
    "dbscan_method": ("sklearn", "our grid DBSCAN gives sklearn's labels exactly, much faster"),
    "shrink": ("official_percent", "the official shrink is given in percent (0.35 % / 0.15 %, "
                                   "a no-op); 'fraction' is the intended 35 % / 15 %; we do not shrink"),
}


def recipe_table(config: KeyframeConfig) -> pd.DataFrame:
    """Every key-frame parameter with its value, the official value and a note."""
    rows = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        official, note = OFFICIAL_DIFFERENCES.get(f.name, (value, "as the official scripts"))
        rows.append({"parameter": f.name, "value": str(value), "official": str(official),
                     "same_as_official": str(official) == str(value), "note": note})
    return pd.DataFrame(rows).set_index("parameter")


def pick_example(table: pd.DataFrame, ds, preferred: str | None = None) -> str:
    """``preferred`` (checked), else the phase-3 reading with most cluster frames (ties: id)."""
    if preferred is not None:
        if preferred not in set(table["reading_id"]):
            raise KeyError(f"example_reading {preferred!r} has no key frames in this table")
        return preferred
    phase = ds.metadata["phase"]
    t = table[table["reading_id"].map(phase) == 3]
    t = t if len(t) else table
    counts = (t["frame_kind"] == "cluster").groupby(t["reading_id"]).sum()
    return str(counts.sort_index().idxmax())


def frames_per_reading(table: pd.DataFrame) -> pd.Series:
    return table.groupby("reading_id").size().rename("frames")


def extrapolate_frame_count(table: pd.DataFrame, n_readings: int = REFLACX_READINGS) -> dict:
    """Frames per reading × ``n_readings``, with a normal 95 % interval of the mean."""
    per = frames_per_reading(table).to_numpy(dtype=float)
    mean = float(per.mean())
    half = 1.96 * float(per.std(ddof=1)) / np.sqrt(len(per)) if len(per) > 1 else float("nan")
    return {"readings": int(len(per)), "frames_per_reading_mean": round(mean, 3),
            "extrapolated_frames": int(round(mean * n_readings)),
            "extrapolated_frames_ci95": [int(round((mean - half) * n_readings)),
                                         int(round((mean + half) * n_readings))],
            "target_readings": int(n_readings), "paper_claim": f"> {PAPER_KEYFRAMES:,}"}


def box_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """Width and height (¼-scale px) of every box, by frame kind."""
    b = table[table["has_box"]]
    return pd.DataFrame({"frame_kind": b["frame_kind"],
                         "width_px": b["box_x_max"] - b["box_x_min"],
                         "height_px": b["box_y_max"] - b["box_y_min"]})


def dbscan_exactness(windows, image_size, config: KeyframeConfig) -> dict:
    """Grid DBSCAN vs sklearn on every window's clustering map: identical labels?"""
    from gazex_lib.gaze.clusters import cluster_params, cluster_window
    from gazex_lib.gaze.dbscan import cluster_pixels, dbscan_params

    checked = identical = 0
    kw = dbscan_params(config)
    for w in windows:
        if w.n_samples == 0:
            continue
        cmap = cluster_window(w, image_size, **cluster_params(config), render_heat=False,
                              min_clusters_to_order=10**9).cluster_map
        a = cluster_pixels(cmap, **dict(kw, method="grid"))
        b = cluster_pixels(cmap, **dict(kw, method="sklearn"))
        checked += 1
        identical += bool(np.array_equal(a.labels, b.labels) and np.array_equal(a.rows, b.rows)
                          and np.array_equal(a.cols, b.cols))
    return {"windows_checked": checked, "windows_identical": identical}
