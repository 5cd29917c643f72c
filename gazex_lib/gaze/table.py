"""The dataset-level key-frame table: one row per (reading, sentence, frame), built in parallel.

>>> kt = build_keyframe_table(ds, jpg_root, output_dir, KeyframeConfig.from_config(load_config("ci")))  # doctest: +SKIP
>>> kt.table.groupby("status").size()                                      # doctest: +SKIP

Written to ``<output_dir>/stages/keyframes/<key>/`` (a stage, :mod:`gazex_lib.stages`):

* ``keyframes.parquet`` — the rows of :func:`~gazex_lib.gaze.pipeline.reading_keyframes`
  (:data:`~gazex_lib.gaze.pipeline.ROW_COLUMNS`), readings in metadata order;
* ``manifest.json`` — the config, the data fingerprint, counts per status, wall time;
* ``frames/<reading_id>.npz`` (when ``save_frames``) — the frames as one uint8 stack
  ``(n_frames, H, W)`` (frames are grey; the 3 channels the video processor wants are copies).

``<key>`` hashes the data fingerprint (metadata files, and size and mtime of every gaze file),
the :class:`~gazex_lib.gaze.pipeline.KeyframeConfig`, the reading ids, ``save_frames`` and
:data:`TABLE_VERSION` (not the seed: the table draws no random numbers), so a notebook that asks again for the same table reuses it, and any
change of data, recipe or code version builds a new one.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from gazex_lib.data.faults import ReadingFaultError
from gazex_lib.gaze.pipeline import ROW_COLUMNS, KeyframeConfig, load_film, reading_keyframes
from gazex_lib.stages import StageInfo, run_stage, stage_key

#: Bump when the rows or frames the code produces change for the same data and config.
TABLE_VERSION = "1"


@dataclass
class KeyframeTable:
    table: pd.DataFrame
    directory: Path
    manifest: dict
    from_cache: bool
    stage: StageInfo | None = None

    @property
    def path(self) -> Path:
        return self.directory / "keyframes.parquet"

    def frames(self, reading_id: str) -> np.ndarray:
        """``(n_frames, H, W)`` uint8 frames of one reading (needs ``save_frames=True``)."""
        path = self.directory / "frames" / f"{reading_id}.npz"
        if not path.exists():
            raise FileNotFoundError(f"no saved frames for {reading_id!r} in {path.parent} "
                                    "(build the table with save_frames=True)")
        with np.load(path) as z:
            return z["frames"]


def data_fingerprint(ds, ids: list[str]) -> str:
    """Hash of the metadata files' bytes and of (id, size, mtime) of each reading's gaze.csv."""
    h = hashlib.sha256()
    for phase in ds.phases:
        h.update((ds.main_data / f"metadata_phase_{phase}.csv").read_bytes())
    for rid in ids:
        st = ds.gaze_path(rid).stat()
        h.update(f"{rid}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def table_inputs(fingerprint: str, config: KeyframeConfig, ids: list[str],
                 save_frames: bool) -> dict:
    """What the key-frame stage's key is made of (no seed: the table draws no random numbers)."""
    return {"data": fingerprint, "config": json.loads(config.to_json()), "ids": list(ids),
            "save_frames": bool(save_frames), "version": TABLE_VERSION}


def table_key(fingerprint: str, config: KeyframeConfig, ids: list[str],
              save_frames: bool = False) -> str:
    return stage_key(table_inputs(fingerprint, config, ids, save_frames))


# --- workers ---------------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(reflacx_root: str, jpg_root: str, lead: float, trailing: str) -> None:
    from threadpoolctl import threadpool_limits

    from gazex_lib.data.reflacx import load_reflacx

    threadpool_limits(1)   # one BLAS thread per process: n_jobs processes share the cores
    _WORKER["ds"] = load_reflacx(reflacx_root, window_lead_s=lead, trailing_words=trailing)
    _WORKER["jpg_root"] = Path(jpg_root)


def _one_reading(reading_id: str, config: KeyframeConfig, frames_dir: str | None) -> list[dict]:
    ds = _WORKER["ds"]
    film = load_film(ds, reading_id, _WORKER["jpg_root"], scale=config.scale)
    try:
        frames, rows = reading_keyframes(ds, reading_id, film, config)
    except ReadingFaultError:               # a domain fault in the words excludes the reading
        return []                           # (counted by the quality report, issue 10)
    if frames_dir is not None:
        stack = np.stack([f.image[..., 0] for f in frames]) if frames else np.zeros((0, 0, 0), np.uint8)
        np.savez_compressed(Path(frames_dir) / f"{reading_id}.npz", frames=stack)
    return rows


def build_keyframe_table(ds, jpg_root, output_dir, config: KeyframeConfig, *,
                         ids: list[str] | None = None, n_jobs: int | None = None,
                         save_frames: bool = False, progress: bool = True,
                         use_cache: bool = True, announce=None) -> KeyframeTable:
    """Key frames of every kept reading (or ``ids``), in parallel over readings: the
    ``keyframes`` stage (:mod:`gazex_lib.stages`).

    ``n_jobs`` processes (default: the CPU count; 1 runs in this process). Discarded readings
    are not processed (they have no gaze; the data-quality report counts them), and neither are
    readings whose words have a domain fault (:mod:`gazex_lib.data.faults`; counted there
    too). The result
    lives in ``<output_dir>/stages/keyframes/<key>/`` (see the module docstring) and is reused
    when asked for again; ``use_cache=False`` rebuilds it. ``announce`` gets the stage's
    built / reused line (``None``: silent).
    """
    ids = list(ds.ids() if ids is None else ids)
    inputs = table_inputs(data_fingerprint(ds, ids), config, ids, save_frames)
    key = stage_key(inputs)

    def build(directory: Path) -> None:
        frames_dir = directory / "frames"
        if save_frames:
            frames_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        rows_by_id = _run(ds, jpg_root, config, ids, n_jobs,
                          str(frames_dir) if save_frames else None, progress)
        rows = [r for rid in ids for r in rows_by_id[rid]]
        table = pd.DataFrame(rows, columns=ROW_COLUMNS)
        table.to_parquet(directory / "keyframes.parquet", index=False)
        manifest = {"key": key, "table_version": TABLE_VERSION,
                    "config": json.loads(config.to_json()), "n_readings": len(ids),
                    "frames_saved": save_frames, "seconds": round(time.perf_counter() - t0, 1),
                    **summarize(table)}
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    info = run_stage(output_dir, "keyframes", inputs, build, force=not use_cache, announce=announce)
    table = pd.read_parquet(info.directory / "keyframes.parquet")
    manifest = json.loads((info.directory / "manifest.json").read_text())
    return KeyframeTable(table, info.directory, manifest, from_cache=info.status == "reused",
                         stage=info)


def _run(ds, jpg_root, config, ids, n_jobs, frames_dir, progress) -> dict[str, list[dict]]:
    init = (str(ds.root), str(jpg_root), ds.window_lead_s, ds.trailing_words)
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(ids) or 1))
    bar = tqdm(total=len(ids), desc="key frames", unit="reading", disable=not progress)
    out: dict[str, list[dict]] = {}
    if n_jobs == 1:
        _init_worker(*init)
        for rid in ids:
            out[rid] = _one_reading(rid, config, frames_dir)
            bar.update()
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker,
                                 initargs=init) as pool:
            futures = {pool.submit(_one_reading, rid, config, frames_dir): rid for rid in ids}
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                bar.update()
    bar.close()
    return out


def summarize(table: pd.DataFrame) -> dict:
    """Counts for reports: frames by kind, sentences by status, clusters per sentence."""
    sentences = table.drop_duplicates(["reading_id", "sentence_index"])
    return {
        "n_frames": int(len(table)),
        "n_cluster_frames": int((table["frame_kind"] == "cluster").sum()),
        "n_holistic_frames": int((table["frame_kind"] == "holistic").sum()),
        "n_sentences": int(len(sentences)),
        "n_readings_with_frames": int(table["reading_id"].nunique()),
        "sentences_by_status": {str(k): int(v) for k, v in
                                sentences.groupby("status").size().sort_index().items()},
        "clusters_per_sentence": {str(k): int(v) for k, v in
                                  sentences.groupby("n_clusters").size().sort_index().items()},
    }
