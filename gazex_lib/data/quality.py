"""Data-quality accounting for REFLACX: everything later steps drop is counted here first.

:func:`quality_report` gives one row per (reading, reason) with ``count`` and
``denominator``; :func:`quality_summary` aggregates per reason. Reasons:

=========================  ==============================================  ==========================
reason                     count                                           denominator
=========================  ==============================================  ==========================
``discarded_reading``      1 if ``eye_tracking_data_discarded``            1 (every reading)
``nan_gaze_samples``       samples with NaN in timestamp, x, y or an        all gaze samples
                           angular resolution (the paper's drop rule)
``offimage_gaze_samples``  valid samples with x outside [0, W) or y         valid (non-NaN) samples
                           outside [0, H) (W, H = metadata image size)
``offimage_fixations``     fixations whose position is off the image        all fixations
``sentences_without_gaze`` sentences whose window holds no valid sample     sentences (dataset's
                           (on the image or not)                            ``trailing_words`` mode)
``trailing_words``         words after the last ``'.'`` (counted in both    all words
                           trailing modes)
``empty_transcription``    1 if the transcript or the words table is empty  1
=========================  ==============================================  ==========================

Then one row per **domain fault** (:data:`gazex_lib.data.faults.FAULT_REASONS`:
``words_out_of_order``, ``word_negative_duration``, ``transcript_mismatch``,
``fixation_negative_duration``, ``fixation_outside_recording``, ``empty_fixations``,
``impossible_chest_box``, ``impossible_ellipse``): count 1 when the reading has it (it is then excluded from what is
built on that file), denominator 1 (every reading with eye-tracking data).

A discarded reading gets only its ``discarded_reading`` row (it has no gaze or words to
count). Every other reading gets all rows, zero counts included, so denominators add up
across readings, except that a reading whose words (fixations) have a domain fault gets no
row computed from them (``sentences_without_gaze``, ``trailing_words``,
``empty_transcription``; ``offimage_fixations``): it is counted under its fault instead.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from gazex_lib.data.faults import FAULT_FILES, FAULT_REASONS

REASONS = (
    "discarded_reading", "nan_gaze_samples", "offimage_gaze_samples", "offimage_fixations",
    "sentences_without_gaze", "trailing_words", "empty_transcription", *FAULT_REASONS,
)

#: Gaze columns that must be non-NaN for a sample to be used (official preprocessing).
VALID_GAZE_COLUMNS = (
    "timestamp_sample", "x_position", "y_position",
    "angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree",
)

REPORT_COLUMNS = ["id", "phase", "reason", "count", "denominator"]


def valid_gaze_mask(gaze: pd.DataFrame) -> np.ndarray:
    """True for samples kept by the paper's rule: no NaN in :data:`VALID_GAZE_COLUMNS`."""
    return ~np.isnan(gaze[list(VALID_GAZE_COLUMNS)].to_numpy(dtype=np.float64)).any(axis=1)


def offimage_mask(x: np.ndarray, y: np.ndarray, width: int, height: int) -> np.ndarray:
    """True where (x, y) lies outside [0, width) x [0, height). NaN positions are not flagged."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (x < 0) | (x >= width) | (y < 0) | (y >= height)


def count_in_windows(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Number of ``times`` in each closed window ``[starts[k], ends[k]]`` (times need no order)."""
    t = np.sort(np.asarray(times, dtype=np.float64))
    lo = np.searchsorted(t, np.asarray(starts, dtype=np.float64), side="left")
    hi = np.searchsorted(t, np.asarray(ends, dtype=np.float64), side="right")
    return (hi - lo).astype(np.int64)


def sentence_gaze_counts(ds, reading_id: str, *, gaze: pd.DataFrame | None = None,
                         sentences: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per sentence of ``ds.sentences(reading_id)``, the valid gaze samples in its window.

    Returns ``sentence_index, text, window_start_s, window_end_s, trailing,
    n_gaze_samples``. Windows are closed (``start - lead <= t <= end``, as the official
    code selects them); a valid sample is one kept by :func:`valid_gaze_mask`, whether on
    the image or not. ``gaze``/``sentences`` may be passed to avoid re-reading.
    """
    gaze = ds.gaze(reading_id) if gaze is None else gaze
    sentences = ds.sentences(reading_id) if sentences is None else sentences
    t = gaze["timestamp_sample"].to_numpy(dtype=np.float64)[valid_gaze_mask(gaze)]
    out = sentences[["sentence_index", "text", "window_start_s", "window_end_s", "trailing"]].copy()
    out["n_gaze_samples"] = count_in_windows(t, sentences["window_start_s"].to_numpy(),
                                             sentences["window_end_s"].to_numpy())
    return out


def reading_quality(ds, reading_id: str) -> pd.DataFrame:
    """The report rows of one reading (see the module docstring)."""
    meta = ds.reading(reading_id)
    phase = int(meta["phase"])

    def rows(items: Iterable[tuple[str, int, int]]) -> pd.DataFrame:
        return pd.DataFrame([{"id": reading_id, "phase": phase, "reason": r, "count": int(c),
                              "denominator": int(d)} for r, c, d in items], columns=REPORT_COLUMNS)

    if bool(meta["eye_tracking_data_discarded"]):
        return rows([("discarded_reading", 1, 1)])
    width, height = int(meta["image_size_x"]), int(meta["image_size_y"])
    faults = ds.reading_faults(reading_id)
    blocked = {FAULT_FILES[r] for r in faults}
    gaze = ds.gaze(reading_id)
    valid = valid_gaze_mask(gaze)
    g = gaze[valid]
    off_gaze = offimage_mask(g["x_position"].to_numpy(), g["y_position"].to_numpy(), width, height)
    items = [("discarded_reading", 0, 1),
             ("nan_gaze_samples", int((~valid).sum()), len(gaze)),
             ("offimage_gaze_samples", int(off_gaze.sum()), int(valid.sum()))]
    if "fixations" not in blocked:
        fix = ds.fixations(reading_id)
        off_fix = offimage_mask(fix["x_position"].to_numpy(), fix["y_position"].to_numpy(),
                                width, height)
        items.append(("offimage_fixations", int(off_fix.sum()), len(fix)))
    if "words" not in blocked:
        words = ds.words(reading_id)
        sentences = ds.sentences(reading_id)
        per_sentence = sentence_gaze_counts(ds, reading_id, gaze=gaze, sentences=sentences)
        empty = len(words) == 0 or not ds.transcription(reading_id).strip()
        items += [("sentences_without_gaze", int((per_sentence["n_gaze_samples"] == 0).sum()),
                   len(sentences)),
                  ("trailing_words", ds.trailing_word_count(reading_id), len(words)),
                  ("empty_transcription", int(empty), 1)]
    items += [(r, int(r in faults), 1) for r in FAULT_REASONS]
    return rows(items)


def quality_report(ds, ids: Iterable[str] | None = None, progress: bool = True) -> pd.DataFrame:
    """One row per (reading, reason): ``id, phase, reason, count, denominator``.

    ``ids`` defaults to every reading, discarded ones included (they are counted, not
    skipped). A tqdm bar runs over readings when ``progress``.
    """
    ids = list(ds.ids(discarded=None) if ids is None else ids)
    it = ids
    if progress:
        from tqdm import tqdm

        it = tqdm(ids, desc="quality", unit="reading")
    frames = [reading_quality(ds, rid) for rid in it]
    if not frames:
        return pd.DataFrame(columns=REPORT_COLUMNS).astype(
            {"phase": np.int64, "count": np.int64, "denominator": np.int64})
    return pd.concat(frames, ignore_index=True)


def quality_summary(report: pd.DataFrame) -> pd.DataFrame:
    """Per reason: ``readings`` (evaluated), ``readings_affected`` (count > 0), ``count``,
    ``denominator`` (totals) and ``fraction`` = count / denominator (NaN if 0), in
    :data:`REASONS` order."""
    g = report.groupby("reason", sort=False)
    out = pd.DataFrame({
        "readings": g.size(),
        "readings_affected": g["count"].apply(lambda c: int((c > 0).sum())),
        "count": g["count"].sum(),
        "denominator": g["denominator"].sum(),
    })
    out = out.reindex([r for r in REASONS if r in out.index]
                      + [r for r in out.index if r not in REASONS])
    out = out.astype({"readings": np.int64, "readings_affected": np.int64, "count": np.int64,
                      "denominator": np.int64})
    den = out["denominator"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fraction"] = np.where(den > 0, out["count"].to_numpy() / den, np.nan)
    out.index.name = "reason"
    return out.reset_index()
