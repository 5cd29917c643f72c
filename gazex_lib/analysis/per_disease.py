"""Per-disease gaze agreement between the model and the radiologists (the Fig. 4c analogue).

Input: one row per positive finding sentence (``pairs``) with its CheXbert ``label``, the
radiologist's gaze centroid ``rad_cx, rad_cy`` and the model's predicted observation centroid
``model_cx, model_cy`` (original px), the sentence's ``dwell_s`` (gaze time in its window, s),
``n_clusters`` (gaze clusters of its key frames) and the reading's ``pixels_per_degree``.

:func:`per_disease_table` gives, per label (CheXbert order) and ``all``:

* ``n`` pairs, median ``dwell_s``, mean ``n_clusters``;
* the centroid error (Euclidean distance, model to radiologist): mean in px and in degrees of
  visual angle (px / the reading's pixels per degree);
* ICC(2,1) per axis between the two "raters" (model, radiologist) over the label's sentences,
  with pingouin's F-based 95 % interval (:func:`gazex_lib.analysis.icc`).

A label with fewer than ``min_pairs`` complete pairs gets ``n`` and nothing else (NaN), and
``note`` says why: no number is shown for a category too small to carry one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["PAIR_COLUMNS", "per_disease_table", "axis_icc"]

PAIR_COLUMNS = ("label", "rad_cx", "rad_cy", "model_cx", "model_cy", "dwell_s", "n_clusters",
                "pixels_per_degree")


def axis_icc(pairs: pd.DataFrame, axis: str) -> dict:
    """ICC(2,1) of model against radiologist on ``axis`` (``x`` or ``y``) over ``pairs``:
    ``{"ICC", "ci_low", "ci_high", "n"}``."""
    from gazex_lib.analysis.agreement import icc

    a = pairs[[f"rad_c{axis}", f"model_c{axis}"]].dropna()
    long = pd.DataFrame({"target": np.repeat(np.arange(len(a)), 2),
                         "rater": ["radiologist", "model"] * len(a),
                         "rating": a.to_numpy().ravel()})
    row = icc(long, "target", "rater", "rating").set_index("form").loc["ICC2"]
    return {"ICC": float(row["ICC"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]), "n": len(a)}


def _row(part: pd.DataFrame, min_pairs: int) -> dict:
    complete = part.dropna(subset=["rad_cx", "rad_cy", "model_cx", "model_cy"])
    out = {"n": len(part), "n_complete": len(complete)}
    if len(complete) < min_pairs:
        out["note"] = f"fewer than {min_pairs} complete pairs: no estimate"
        return out
    err = np.hypot(complete["model_cx"] - complete["rad_cx"], complete["model_cy"] - complete["rad_cy"])
    out.update(dwell_s=float(complete["dwell_s"].median()), n_clusters=float(complete["n_clusters"].mean()),
               error_px=float(err.mean()), error_deg=float((err / complete["pixels_per_degree"]).mean()),
               note="")
    for axis in ("x", "y"):
        r = axis_icc(complete, axis)
        out.update({f"icc_{axis}": r["ICC"], f"icc_{axis}_low": r["ci_low"], f"icc_{axis}_high": r["ci_high"]})
    return out


def per_disease_table(pairs: pd.DataFrame, *, min_pairs: int) -> pd.DataFrame:
    """The per-disease table (module docstring), one row per CheXbert label present, then ``all``."""
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs lacks columns {missing}")
    if min_pairs < 3:
        raise ValueError(f"min_pairs must be at least 3 (an ICC needs them), got {min_pairs}")
    rows = {lab: _row(pairs[pairs["label"] == lab], min_pairs) for lab in CHEXBERT_LABELS
            if (pairs["label"] == lab).any()}
    rows["all"] = _row(pairs, min_pairs)
    cols = ["n", "n_complete", "dwell_s", "n_clusters", "error_px", "error_deg", "icc_x", "icc_x_low",
            "icc_x_high", "icc_y", "icc_y_low", "icc_y_high", "note"]
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols)
    out.index.name = "label"
    return out
