"""How far the rule-based fallback agrees with CheXbert, per label, on the user's own reports.

:func:`labeller_agreement` compares two label frames of the same texts (CheXbert's first).
Per label it reports:

* ``agreement``: the share of texts where both give the same value, blank counted as a value
  of its own (four classes: blank, positive, negative, uncertain);
* ``kappa``: Cohen's kappa over those four classes (scikit-learn's ``cohen_kappa_score``);
  NaN when both labellers give one class only;
* ``f1_positive``: F1 of the fallback's positives against CheXbert's (uncertain counted as
  negative, LLaVA-Rad's convention), with ``positive_rate_reference`` and
  ``positive_rate_other`` beside it so a reader sees prevalence.

The ``overall`` row pools every label's cells. The command ``python -m gazex_lib.run
labeller-agreement --reports FILE.csv`` runs both labellers on a CSV's report column and prints
this table (it needs ``labeller.chexbert_path`` and ``labeller.tokenizer_path``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.eval.metrics.clinical import label_values

__all__ = ["labeller_agreement", "AGREEMENT_COLUMNS"]

AGREEMENT_COLUMNS = ("n", "agreement", "kappa", "f1_positive", "positive_rate_reference",
                     "positive_rate_other")
_BLANK = 9.0


def _codes(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = label_values(frame, name)
    return np.where(np.isnan(values), _BLANK, values)


def _row(ref: np.ndarray, oth: np.ndarray) -> dict:
    from sklearn.metrics import cohen_kappa_score, f1_score

    kappa = (float(cohen_kappa_score(ref, oth)) if len(np.union1d(ref, oth)) > 1 else float("nan"))
    rp, op = ref == 1.0, oth == 1.0
    return {"n": int(ref.size), "agreement": float(np.mean(ref == oth)), "kappa": kappa,
            "f1_positive": float(f1_score(rp, op, zero_division=0)),
            "positive_rate_reference": float(rp.mean()), "positive_rate_other": float(op.mean())}


def labeller_agreement(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per-label agreement of ``other`` (the fallback) with ``reference`` (CheXbert): one row per
    CheXbert label plus ``overall`` (module docstring). The frames must have the same rows."""
    if len(reference) != len(other):
        raise ValueError(f"reference has {len(reference)} rows, other {len(other)}: label the same texts")
    ref, oth = _codes(reference, "reference"), _codes(other, "other")
    rows = {lab: _row(ref[:, j], oth[:, j]) for j, lab in enumerate(CHEXBERT_LABELS)}
    rows["overall"] = _row(ref.ravel(), oth.ravel())
    out = pd.DataFrame.from_dict(rows, orient="index")[list(AGREEMENT_COLUMNS)]
    out.index.name = "label"
    out.attrs.update(reference=reference.attrs.get("labeller"), other=other.attrs.get("labeller"))
    return out
