"""One label vocabulary: the 14 CheXbert labels, and the single table that maps REFLACX labels to it.

REFLACX has two label sets (phase 1, and phases 2-3). Per-image answers are certainties
0-5 (0 = not selected, 1 Unlikely ... 5 Definitely present); ``Support devices`` (and
``Quality issue`` in phase 1) are booleans. Following torchxrayvision, a mapped label matrix
holds 1.0 (positive), 0.0 (negative) and NaN (unknown: no REFLACX label maps to it).

Documented decisions (``LABEL_MAP`` below is the only place they live):

* ``Enlarged hilum``, ``Hiatal hernia``, ``High lung volume / emphysema``, ``Emphysema``,
  ``Airway wall thickening``, ``Quality issue`` and ``Other`` have no CheXbert counterpart
  and are left unmapped (kept in the raw columns, never folded into another label).
* ``Pleural abnormality`` (phases 2-3) maps to ``Pleural Effusion``; phase 1 distinguishes
  ``Pleural effusion`` (-> Pleural Effusion) from ``Pleural thickening`` (-> Pleural Other).
* ``Fibrosis``, ``Interstitial lung disease`` and ``Groundglass opacity`` map to ``Lung Opacity``.
* ``Pneumonia`` has no REFLACX label: it is NaN for every REFLACX reading.
* ``No Finding`` is 1 when no mapped *finding* (everything except Support Devices) is positive.
* A certainty counts as positive when ``> POSITIVE_ABOVE`` (2: "Possibly" or higher, as in
  the REFLACX paper's analyses).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: CheXbert / CheXpert label order.
CHEXBERT_LABELS = (
    "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
    "Pleural Other", "Fracture", "Support Devices", "No Finding",
)

#: REFLACX phase-1 label columns, alphabetical as written.
REFLACX_PHASE1_LABELS = (
    "Airway wall thickening", "Atelectasis", "Consolidation", "Emphysema",
    "Enlarged cardiac silhouette", "Fibrosis", "Fracture", "Groundglass opacity", "Mass",
    "Nodule", "Other", "Pleural effusion", "Pleural thickening", "Pneumothorax",
    "Pulmonary edema", "Quality issue", "Support devices", "Wide mediastinum",
)

#: REFLACX phase-2 and phase-3 label columns, alphabetical as written.
REFLACX_PHASE23_LABELS = (
    "Abnormal mediastinal contour", "Acute fracture", "Atelectasis", "Consolidation",
    "Enlarged cardiac silhouette", "Enlarged hilum", "Groundglass opacity", "Hiatal hernia",
    "High lung volume / emphysema", "Interstitial lung disease", "Lung nodule or mass", "Other",
    "Pleural abnormality", "Pneumothorax", "Pulmonary edema", "Support devices",
)

#: Boolean label columns (not certainties) per phase.
BOOLEAN_LABELS = {1: ("Quality issue", "Support devices"), 2: ("Support devices",),
                  3: ("Support devices",)}

#: Free-text label column (``|``-joined "other" findings).
FREE_TEXT_LABEL = "Other"

POSITIVE_ABOVE = 2

#: REFLACX label -> CheXbert label (None: deliberately unmapped). Covers both label sets.
LABEL_MAP: dict[str, str | None] = {
    # phases 2-3
    "Abnormal mediastinal contour": "Enlarged Cardiomediastinum",
    "Acute fracture": "Fracture",
    "Enlarged hilum": None,
    "Hiatal hernia": None,
    "High lung volume / emphysema": None,
    "Interstitial lung disease": "Lung Opacity",
    "Lung nodule or mass": "Lung Lesion",
    "Pleural abnormality": "Pleural Effusion",
    # phase 1
    "Airway wall thickening": None,
    "Emphysema": None,
    "Fibrosis": "Lung Opacity",
    "Fracture": "Fracture",
    "Mass": "Lung Lesion",
    "Nodule": "Lung Lesion",
    "Pleural effusion": "Pleural Effusion",
    "Pleural thickening": "Pleural Other",
    "Quality issue": None,
    "Wide mediastinum": "Enlarged Cardiomediastinum",
    # shared
    "Atelectasis": "Atelectasis",
    "Consolidation": "Consolidation",
    "Enlarged cardiac silhouette": "Cardiomegaly",
    "Groundglass opacity": "Lung Opacity",
    "Other": None,
    "Pneumothorax": "Pneumothorax",
    "Pulmonary edema": "Edema",
    "Support devices": "Support Devices",
}


def phase_labels(phase: int) -> tuple[str, ...]:
    """The label columns of ``metadata_phase_{phase}.csv`` (and of the ellipse files)."""
    if phase == 1:
        return REFLACX_PHASE1_LABELS
    if phase in (2, 3):
        return REFLACX_PHASE23_LABELS
    raise ValueError(f"REFLACX phase must be 1, 2 or 3, got {phase!r}")


def mapping_table() -> pd.DataFrame:
    """The mapping as a table: one row per REFLACX label, with the phases that use it."""
    rows = []
    for name, target in sorted(LABEL_MAP.items()):
        phases = [p for p in (1, 2) if name in phase_labels(p)]
        rows.append({"reflacx_label": name, "chexbert_label": target,
                     "phases": "1" if phases == [1] else "2, 3" if phases == [2] else "1, 2, 3"})
    return pd.DataFrame(rows)


def _positive(values: pd.Series, name: str) -> pd.Series:
    """Per-reading 1.0/0.0/NaN for one raw REFLACX label column."""
    if name in BOOLEAN_LABELS[1] + BOOLEAN_LABELS[2]:
        as_text = values.astype("string").str.strip().str.lower()
        out = as_text.map({"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0})
        return out.astype(float)
    num = pd.to_numeric(values, errors="coerce")
    return (num > POSITIVE_ABOVE).astype(float).where(num.notna())


def to_chexbert(metadata: pd.DataFrame) -> pd.DataFrame:
    """Map REFLACX per-image label columns to a (n_readings, 14) CheXbert matrix.

    ``metadata`` rows may mix phases: a label column absent from a row's phase is NaN
    there and is ignored. Several REFLACX labels mapping to one CheXbert label combine by
    max (any positive wins). The result is row-aligned with ``metadata`` (same index).
    """
    out = pd.DataFrame(np.nan, index=metadata.index, columns=list(CHEXBERT_LABELS))
    for name, target in LABEL_MAP.items():
        if target is None or name not in metadata.columns:
            continue
        pos = _positive(metadata[name], name)
        out[target] = np.fmax(out[target].to_numpy(), pos.to_numpy())
    findings = [c for c in CHEXBERT_LABELS if c not in ("Support Devices", "No Finding")]
    any_known = out[findings].notna().any(axis=1)
    any_positive = (out[findings] == 1.0).any(axis=1)
    out["No Finding"] = np.where(any_known, (~any_positive).astype(float), np.nan)
    return out


def prevalence_table(labels_df: pd.DataFrame) -> pd.DataFrame:
    """Per label: ``n_positive, n_negative, n_unknown, fraction_positive, fraction_unknown``.

    Definition: ``fraction_positive = n_positive / (n_positive + n_negative)`` — unknown
    (NaN) entries are **excluded from the denominator**; it is NaN when no entry is known.
    ``fraction_unknown = n_unknown / n_rows``. Values must be 1, 0 or NaN.
    """
    if not isinstance(labels_df, pd.DataFrame):
        raise ValueError(f"labels_df must be a pandas DataFrame, got {type(labels_df).__name__}")
    if labels_df.shape[1] == 0:
        raise ValueError("labels_df has no label columns")
    values = labels_df.apply(pd.to_numeric, errors="coerce")
    bad = values.notna() & ~values.isin([0.0, 1.0])
    bad |= values.isna() & labels_df.notna()  # non-numeric text
    if bad.to_numpy().any():
        col = labels_df.columns[bad.any(axis=0).to_numpy()][0]
        raise ValueError(f"labels_df column {col!r} holds values other than 1, 0 or NaN")
    pos = (values == 1.0).sum()
    neg = (values == 0.0).sum()
    unk = values.isna().sum()
    known = pos + neg
    return pd.DataFrame({
        "n_positive": pos.astype(int), "n_negative": neg.astype(int), "n_unknown": unk.astype(int),
        "fraction_positive": (pos / known.where(known > 0)).astype(float),
        "fraction_unknown": (unk / max(len(values), 1)).astype(float),
    })
