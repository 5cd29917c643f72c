"""Clinical efficacy: F1 of the 14 CheXbert labels of generated reports against references.

``clinical_f1(ref_labels, hyp_labels, *, labels=14, average="micro", uncertain="negative")``

**Inputs.** Two frames with the 14 CheXbert columns in CheXbert's order
(:data:`gazex_lib.data.labels.CHEXBERT_LABELS`), one row per report, values 1 (positive),
0 (negative), -1 (uncertain) and NaN (blank: not mentioned). Rows are paired by position.
**Both sides must come from the same labeller**, run on the reference text and on the generated
text: the CheXpert CSV that MIMIC-CXR ships was made by another labeller (CheXpert's rules) from
the full report, so it is *not* a reference for generated text labelled by CheXbert (or by the
rule-based fallback). Mixing labellers measures the labellers' disagreement as much as the model.

**Binarisation.** 1 -> positive; -1 -> positive when ``uncertain="positive"``, else negative;
0 and blank -> negative (every published convention below counts blanks as negative).

**Averages** (scikit-learn's ``precision_recall_fscore_support``, ``zero_division=0``):

* ``micro``: TP, FP, FN summed over every label and report;
* ``macro``: F1 (precision, recall) of each label, then their unweighted mean;
* ``example``: F1 (precision, recall) of each report over its labels, then their mean
  (scikit-learn's ``average="samples"``; a report with no positive on either side scores 0).

``labels=5`` keeps the five CheXpert competition labels: Cardiomegaly, Edema, Consolidation,
Atelectasis, Pleural Effusion (:data:`FIVE_LABELS`).

**Published conventions** (:func:`clinical_f1_table`, one row each):

==================  =============================================  ====================
row                 source                                         settings
==================  =============================================  ====================
``llava_rad``       LLaVA-Rad (Chaves et al.)                      micro and macro, 14 and 5
                                                                   labels, uncertain negative
``f1chexbert``      f1chexbert / RadEval                           the same, uncertain positive
``promptmrg``       PromptMRG (Jin et al.)                         example-based, 14 labels
``r2gen``           R2Gen (Chen et al.), scikit-learn              micro and macro, 14 labels,
                                                                   uncertain and blank negative
==================  =============================================  ====================

GazeX does not say which it used, so the book reports them all.

**Resampling.** :func:`clinical_counts` returns per-report, per-label TP, FP, FN once;
:func:`f1_from_counts` rescores any resample of reports (rows, with repeats) from them, equal to
:func:`clinical_f1` on the resampled frames.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gazex_lib.data.labels import CHEXBERT_LABELS

__all__ = ["FIVE_LABELS", "AVERAGES", "UNCERTAIN", "CONVENTIONS", "binarize", "clinical_f1", "label_values",
           "clinical_counts", "f1_from_counts", "clinical_f1_table"]

#: The five CheXpert competition labels.
FIVE_LABELS = ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")
AVERAGES = ("micro", "macro", "example")
UNCERTAIN = ("negative", "positive")
#: (row name, source, labels, average, uncertain) of :func:`clinical_f1_table`.
CONVENTIONS = (
    ("llava_rad_micro_14", "LLaVA-Rad", 14, "micro", "negative"),
    ("llava_rad_macro_14", "LLaVA-Rad", 14, "macro", "negative"),
    ("llava_rad_micro_5", "LLaVA-Rad", 5, "micro", "negative"),
    ("llava_rad_macro_5", "LLaVA-Rad", 5, "macro", "negative"),
    ("f1chexbert_micro_14", "f1chexbert / RadEval", 14, "micro", "positive"),
    ("f1chexbert_macro_14", "f1chexbert / RadEval", 14, "macro", "positive"),
    ("f1chexbert_micro_5", "f1chexbert / RadEval", 5, "micro", "positive"),
    ("f1chexbert_macro_5", "f1chexbert / RadEval", 5, "macro", "positive"),
    ("promptmrg_example_14", "PromptMRG", 14, "example", "negative"),
    ("r2gen_micro_14", "R2Gen (scikit-learn)", 14, "micro", "negative"),
    ("r2gen_macro_14", "R2Gen (scikit-learn)", 14, "macro", "negative"),
)


def _columns(labels) -> list[str]:
    if labels == 14:
        return list(CHEXBERT_LABELS)
    if labels == 5:
        return list(FIVE_LABELS)
    raise ValueError(f"labels must be 14 or 5, got {labels!r}")


def label_values(df, name: str) -> np.ndarray:
    """The ``(n, 14)`` float array of a label frame in CheXbert's order, after checking it: a
    DataFrame with every CheXbert column, values 1, 0, -1 or NaN (the error names the row and
    column of the first bad value)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame with the 14 CheXbert columns")
    missing = [c for c in CHEXBERT_LABELS if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks CheXbert column(s) {missing}")
    vals = df[list(CHEXBERT_LABELS)].to_numpy(dtype=np.float64)
    bad = ~np.isnan(vals) & ~np.isin(vals, (1.0, 0.0, -1.0))
    if bad.any():
        r, c = (int(v[0]) for v in np.nonzero(bad))
        raise ValueError(f"{name}: row {r}, column {CHEXBERT_LABELS[c]!r}: {float(vals[r, c])!r} is not "
                         "1, 0, -1 or blank")
    return vals


def _frame(df, name: str) -> pd.DataFrame:
    label_values(df, name)
    return df


def binarize(df: pd.DataFrame, *, labels=14, uncertain: str = "negative") -> np.ndarray:
    """``(n, k)`` 0/1 int array of the chosen labels (module docstring)."""
    if uncertain not in UNCERTAIN:
        raise ValueError(f"uncertain must be one of {UNCERTAIN}, got {uncertain!r}")
    vals = df[_columns(labels)].to_numpy(dtype=np.float64)
    pos = vals == 1.0
    if uncertain == "positive":
        pos |= vals == -1.0
    return pos.astype(np.int64)


def _pair(ref_labels, hyp_labels, labels, uncertain):
    ref, hyp = _frame(ref_labels, "ref_labels"), _frame(hyp_labels, "hyp_labels")
    if len(ref) != len(hyp):
        raise ValueError(f"ref_labels has {len(ref)} rows, hyp_labels {len(hyp)}: one "
                         "reference per hypothesis")
    return (binarize(ref, labels=labels, uncertain=uncertain),
            binarize(hyp, labels=labels, uncertain=uncertain))


def clinical_f1(ref_labels, hyp_labels, *, labels=14, average: str = "micro",
                uncertain: str = "negative") -> dict:
    """``{"f1", "precision", "recall", "n_reports", "labels", "average", "uncertain"}``
    (module docstring); scikit-learn computes the scores."""
    from sklearn.metrics import precision_recall_fscore_support

    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    y_true, y_pred = _pair(ref_labels, hyp_labels, labels, uncertain)
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average="samples" if average == "example" else average, zero_division=0)
    return {"f1": float(f), "precision": float(p), "recall": float(r),
            "n_reports": int(len(y_true)), "labels": int(labels), "average": average,
            "uncertain": uncertain}


def clinical_counts(ref_labels, hyp_labels, *, labels=14, uncertain: str = "negative") -> dict:
    """Per-report, per-label ``tp``, ``fp``, ``fn`` (``(n, k)`` int arrays): the sufficient
    statistics of every average (:func:`f1_from_counts`)."""
    y_true, y_pred = _pair(ref_labels, hyp_labels, labels, uncertain)
    return {"tp": y_true & y_pred, "fp": (1 - y_true) & y_pred, "fn": y_true & (1 - y_pred)}


def _prf(tp, fp, fn):
    tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return p, r, f


def f1_from_counts(counts: dict, rows=None, *, average: str = "micro") -> dict:
    """``{"f1", "precision", "recall"}`` of the reports ``rows`` (indices, repeats allowed;
    ``None``: all) from :func:`clinical_counts`, without relabelling anything."""
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    idx = slice(None) if rows is None else np.asarray(rows)
    tp, fp, fn = (counts[k][idx] for k in ("tp", "fp", "fn"))
    if average == "micro":
        p, r, f = _prf(tp.sum(), fp.sum(), fn.sum())
    elif average == "macro":
        p, r, f = (v.mean() for v in _prf(tp.sum(0), fp.sum(0), fn.sum(0)))
    else:
        p, r, f = (v.mean() for v in _prf(tp.sum(1), fp.sum(1), fn.sum(1)))
    return {"f1": float(f), "precision": float(p), "recall": float(r)}


def clinical_f1_table(ref_labels, hyp_labels) -> pd.DataFrame:
    """Every published convention (:data:`CONVENTIONS`) as one table, a row each named after
    its source: ``convention, source, labels, average, uncertain, f1, precision, recall``."""
    rows = []
    for name, source, labels, average, uncertain in CONVENTIONS:
        got = clinical_f1(ref_labels, hyp_labels, labels=labels, average=average,
                          uncertain=uncertain)
        rows.append({"convention": name, "source": source, "labels": labels, "average": average,
                     "uncertain": uncertain, **{k: got[k] for k in ("f1", "precision", "recall")}})
    return pd.DataFrame(rows).set_index("convention")
