"""Which gaze centroids are "the same finding" across readers (the agreement chapters).

**The measurement.** A sentence's gaze centroid is its holistic key frame's intensity-weighted
centroid in original pixels (``box_orig_cx``, ``box_orig_cy`` of the key-frame table, the point
chapter 03's ``gtm_path`` task writes): the sentence window (2 s lead), the P5-P95 trim, the
attention map. A sentence without a box (no gaze in its window) has no centroid.

**Matching across readers** (one *target* per finding of a multi-reader image):

* :func:`targets_by_planted_finding` (synthetic data): the sentences the truth sidecar ties to
  planted finding ``f`` of image ``i``; a reader with several such sentences contributes their
  mean, a reader who did not dictate it (missed) has none;
* :func:`targets_by_label` (real data): by image and positive CheXbert label, each reader's
  centroid being the mean over their sentences labelled positive for it.

Both return long frames (``image``, ``target``, ``label``, ``reader``, ``cx``, ``cy``,
``n_sentences``); pingouin needs complete targets, so :func:`gazex_lib.analysis.icc` drops the
targets a reader lacks and counts them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["sentence_centroids", "targets_by_planted_finding", "targets_by_label", "TARGET_COLUMNS"]

TARGET_COLUMNS = ["image", "target", "label", "reader", "cx", "cy", "n_sentences"]


def sentence_centroids(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (reading, sentence) of the key-frame table's holistic frames:
    ``reading_id, sentence_index, text, cx, cy`` (original px; NaN without a box)."""
    h = table[table["frame_kind"] == "holistic"]
    out = h[["reading_id", "sentence_index", "text"]].copy()
    has = h["has_box"].astype(bool).to_numpy()
    out["cx"] = np.where(has, h["box_orig_cx"].to_numpy(dtype=float), np.nan)
    out["cy"] = np.where(has, h["box_orig_cy"].to_numpy(dtype=float), np.nan)
    dup = out.duplicated(["reading_id", "sentence_index"])
    if dup.any():
        r = out[dup].iloc[0]
        raise ValueError(f"key-frame table: two holistic frames for reading {r['reading_id']} sentence "
                         f"{r['sentence_index']}")
    return out.reset_index(drop=True)


def _mean_per_target(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    g = rows.groupby(["image", "target", "label", "reader"], sort=True)
    out = g.agg(cx=("cx", "mean"), cy=("cy", "mean"), n_sentences=("cx", "count")).reset_index()
    return out[TARGET_COLUMNS]


def targets_by_planted_finding(centroids: pd.DataFrame, truth: dict, readings) -> pd.DataFrame:
    """Targets of the synthetic multi-reader readings ``readings`` (ids), matched by the planted
    finding each sentence describes (``truth``: :func:`gazex_lib.data.synthetic.load_truth`).
    The truth's sentence ``k`` is the key-frame table's ``sentence_index`` ``k``; a sentence text
    that disagrees raises ``ValueError`` (a misalignment would pair the wrong gaze)."""
    by_key = centroids.set_index(["reading_id", "sentence_index"])
    rows = []
    for rid in readings:
        rec = truth["readings"][rid]
        findings = truth["images"][rec["dicom_id"]]["findings"]
        for k, s in enumerate(rec["sentences"]):
            if s.get("finding") is None or (rid, k) not in by_key.index:
                continue
            got = by_key.loc[(rid, k)]
            if " ".join(str(got["text"]).split()) != " ".join(s["text"].split()):
                raise ValueError(f"{rid} sentence {k}: key frames say {got['text']!r}, the truth "
                                 f"{s['text']!r}")
            f = findings[s["finding"]]
            rows.append({"image": rec["dicom_id"], "target": f"{rec['dicom_id']}#{s['finding']}",
                         "label": f["chexbert_label"], "reader": rec["reader"], "cx": got["cx"], "cy": got["cy"]})
    return _mean_per_target(pd.DataFrame(rows))


def targets_by_label(centroids: pd.DataFrame, metadata: pd.DataFrame, sentence_labels: pd.DataFrame,
                     reader_of: dict) -> pd.DataFrame:
    """Targets of real multi-reader readings: by image and positive label. ``sentence_labels``:
    the 14-label frame of ``centroids``' sentences (row-aligned, e.g. from
    :mod:`gazex_lib.eval.labellers`); ``reader_of``: reading id -> reader (REFLACX does not
    release reader identity; without it each reading counts as its own reader)."""
    if len(sentence_labels) != len(centroids):
        raise ValueError(f"{len(sentence_labels)} label rows for {len(centroids)} sentences")
    image = centroids["reading_id"].map(metadata["dicom_id"])
    rows = []
    for lab in (c for c in sentence_labels.columns if c != "No Finding"):
        pos = (sentence_labels[lab].to_numpy() == 1.0)
        for i in np.flatnonzero(pos):
            rid = centroids["reading_id"].iloc[i]
            rows.append({"image": image.iloc[i], "target": f"{image.iloc[i]}#{lab}", "label": lab,
                         "reader": reader_of.get(rid, rid), "cx": centroids["cx"].iloc[i],
                         "cy": centroids["cy"].iloc[i]})
    return _mean_per_target(pd.DataFrame(rows))
