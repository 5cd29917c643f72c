"""Dataset-level summaries for the data-exploration chapter (notebook 01).

Everything here works the same on the real REFLACX tree and on the synthetic one; the only
synthetic-specific input is the optional reader identity (REFLACX does not release which of
its five radiologists made a reading, so ``readers`` is ``None`` on real data).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from gazex_lib.data.faults import ReadingFaultError


#: Columns of :func:`reading_statistics`, with units in the names.
READING_STAT_COLUMNS = [
    "id", "phase", "split", "gaze_duration_s", "pre_dictation_s", "dictation_duration_s",
    "n_gaze_samples", "n_fixations", "fixation_duration_median_ms", "fixations_per_s",
    "pixels_per_degree", "n_words", "n_sentences",
]


def reader_of(data_root: Path) -> pd.Series | None:
    """Reader name per reading id, from the synthetic truth sidecar; ``None`` on real data."""
    from gazex_lib.data.synthetic import load_truth

    if not any((Path(data_root) / name).exists()
               for name in ("synthetic_truth.json", "synthetic_truth.jsonl")):
        return None
    truth = load_truth(data_root)
    return pd.Series({rid: r["reader"] for rid, r in truth["readings"].items()}, name="reader")


def composition(metadata: pd.DataFrame, readers: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """Readings per phase × split, images per phase, and readings per reader × phase (if known)."""
    md = metadata.assign(status=np.where(metadata["eye_tracking_data_discarded"], "discarded", "kept"))
    out = {
        "phase_split": pd.crosstab(md["phase"], md["split"], margins=True, margins_name="total"),
        "phase_status": pd.crosstab(md["phase"], md["status"], margins=True, margins_name="total"),
    }
    images = md.groupby("phase")["dicom_id"].nunique()
    images.loc["total"] = md["dicom_id"].nunique()
    out["images"] = images.rename("images").to_frame()
    if readers is not None:
        md = md.assign(reader=readers.reindex(md.index))
        out["reader_phase"] = pd.crosstab(md["reader"], md["phase"], margins=True, margins_name="total")
    return out


def reading_statistics(ds, ids=None, progress: bool = True) -> pd.DataFrame:
    """One row per non-discarded reading: durations (s), counts, fixation statistics.

    ``gaze_duration_s`` spans the raw samples; ``pre_dictation_s`` is the viewing before the
    first word (samples at negative audio-clock times); ``pixels_per_degree`` is the mean of
    the x and y angular resolutions over fixations. A reading with a domain fault in its
    fixations or words (:mod:`gazex_lib.data.faults`; counted by the quality report) has no
    row; ``attrs["excluded_for_faults"]`` maps each such reading to its faults.
    """
    md = ds.metadata
    if ids is None:
        ids = md.index[~md["eye_tracking_data_discarded"]]
    rows, excluded = [], {}
    for rid in tqdm(list(ids), desc="reading statistics", disable=not progress):
        try:
            gaze, fix, words = ds.gaze(rid), ds.fixations(rid), ds.words(rid)
        except ReadingFaultError:
            excluded[rid] = sorted(ds.reading_faults(rid))
            continue
        t = gaze["timestamp_sample"].to_numpy()
        dur_ms = 1000.0 * (fix["timestamp_end_fixation"] - fix["timestamp_start_fixation"])
        dictation = (words["timestamp_end_word"].max() - words["timestamp_start_word"].min()
                     if len(words) else np.nan)
        gaze_span = float(np.nanmax(t) - np.nanmin(t)) if len(t) else np.nan
        ppd = fix[["angular_resolution_x_pixels_per_degree",
                   "angular_resolution_y_pixels_per_degree"]].to_numpy().mean()
        rows.append({
            "id": rid, "phase": int(md.at[rid, "phase"]), "split": md.at[rid, "split"],
            "gaze_duration_s": gaze_span,
            "pre_dictation_s": float(max(0.0, -np.nanmin(t))) if len(t) else np.nan,
            "dictation_duration_s": float(dictation), "n_gaze_samples": int(len(t)),
            "n_fixations": int(len(fix)),
            "fixation_duration_median_ms": float(np.median(dur_ms)) if len(fix) else np.nan,
            "fixations_per_s": len(fix) / gaze_span if gaze_span else np.nan,
            "pixels_per_degree": float(ppd), "n_words": int(len(words)),
            "n_sentences": int(len(ds.sentences(rid))),
        })
    out = pd.DataFrame(rows, columns=READING_STAT_COLUMNS).set_index("id")
    out.attrs["excluded_for_faults"] = excluded
    return out


def pick_example_reading(ds, preferred: str | None = None) -> str:
    """``preferred`` if given (checked), else the kept phase-3 reading with most sentences.

    Ties break by id, so the choice is deterministic.
    """
    md = ds.metadata
    if preferred is not None:
        if preferred not in md.index:
            raise KeyError(f"example_reading {preferred!r} is not a reading id of this dataset")
        return preferred
    kept = md.index[~md["eye_tracking_data_discarded"]]
    if len(kept) == 0:
        raise ValueError("every reading is discarded: nothing to show")
    phase3 = [i for i in kept if md.at[i, "phase"] == 3] or list(kept)
    counts = {}
    for rid in sorted(phase3):
        if len(counts) == 50:
            break
        if not ds.reading_faults(rid):                  # a faulty reading is no example
            counts[rid] = len(ds.sentences(rid))
    if not counts:
        raise ValueError("no reading without a domain fault to show (see the quality report)")
    return max(sorted(counts), key=lambda rid: counts[rid])


def headline(value, digits: int = 4):
    """Round floats for result JSON (stable across reruns); pass ints and strings through."""
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), digits)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def frame_to_records(df: pd.DataFrame, digits: int = 4) -> dict:
    """A small DataFrame as ``{index: {column: value}}``, JSON-ready: ints stay ints, floats
    are rounded (:func:`headline`)."""
    return {str(k): {str(c): headline(v, digits) for c, v in row.items()}
            for k, row in df.to_dict(orient="index").items()}


def data_exploration_results(ds, tables: dict, prevalence: pd.DataFrame, stats: pd.DataFrame,
                             quality_summary: pd.DataFrame, example: str) -> dict:
    """The headline numbers of notebook 01, JSON-ready and rounded (see :func:`headline`)."""
    md = ds.metadata
    per_phase = md.groupby("phase").size()
    results = {
        "n_readings": int(len(md)),
        "n_discarded": int(md["eye_tracking_data_discarded"].sum()),
        "n_images": int(md["dicom_id"].nunique()),
        "readings_per_phase": {str(k): int(v) for k, v in per_phase.items()},
        "images_per_phase": {str(k): int(v) for k, v in tables["images"]["images"].items()
                             if k != "total"},
        "readings_per_split": {str(k): int(v) for k, v in md.groupby("split").size().items()},
        "readings_per_reader": ({str(k): int(v) for k, v in tables["reader_phase"]["total"].items()
                                 if k != "total"} if "reader_phase" in tables else None),
        "label_prevalence": {k: headline(v) for k, v in prevalence["fraction_positive"].items()},
        "n_sentences": int(stats["n_sentences"].sum()),
        "n_fixations": int(stats["n_fixations"].sum()),
        "n_gaze_samples": int(stats["n_gaze_samples"].sum()),
        "median_gaze_duration_s": headline(stats["gaze_duration_s"].median()),
        "median_dictation_duration_s": headline(stats["dictation_duration_s"].median()),
        "median_fixation_duration_ms": headline(stats["fixation_duration_median_ms"].median()),
        "median_pixels_per_degree": headline(stats["pixels_per_degree"].median()),
        "quality": frame_to_records(quality_summary.set_index("reason")),
        "example_reading": example,
    }
    return results
