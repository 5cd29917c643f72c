"""The planted effect of chapter 03: does the trained model beat the strongest baseline that
ignores the image (input-ignoring or text-only), on the test split, by more than the noise?

:func:`planted_effect` reads the table of :func:`~gazex_lib.analysis.image_bootstrap` (every
source's estimate and the paired differences ``trained - baseline``, intervals over images) and
returns, per probe metric, the ``03_pretraining.json`` ``planted_effect`` entry::

    {"trained": x, "best_baseline": name, "baseline": y, "diff": x - y,
     "ci_low": lo, "ci_high": hi, "n_images": k, "higher_is_better": bool,
     "image_blind": z, "image_blind_ci": [lo, hi]}

The strongest baseline is chosen on the test estimates by the metric's direction (higher IoU
and accuracy, lower error); on a tie, the first of ``baselines`` (list the simplest first). ``image_blind`` is the same model and recipe trained and evaluated
without the image; ``None`` (and ``image_blind_ci`` ``None``) when that control was not run.
The goal (issue 9): FVP and SDA ``ci_low > 0``, GTM error ``ci_high < 0``, and for FVP an
``image_blind_ci`` that excludes zero; :func:`goal_met` says which hold.
"""
from __future__ import annotations

import pandas as pd

from gazex_lib.eval import PROBE_METRICS

__all__ = ["planted_effect", "goal_met"]


def _row(table: pd.DataFrame, metric: str, kind: str, source: str, reference=None) -> pd.Series:
    sel = (table["metric"] == metric) & (table["kind"] == kind) & (table["source"] == source)
    if reference is not None:
        sel &= table["reference"] == reference
    rows = table[sel]
    if len(rows) != 1:
        raise KeyError(f"bootstrap table has {len(rows)} rows for {kind} {metric} {source}"
                       + (f" - {reference}" if reference else ""))
    return rows.iloc[0]


def planted_effect(table: pd.DataFrame, *, baselines, trained: str = "trained",
                   image_blind: str | None = None) -> dict:
    """``{metric: entry}`` (module docstring) from a bootstrap table that holds the value rows
    of ``trained``, every name in ``baselines`` (and ``image_blind``), and the ``diff`` rows
    ``trained - b`` for each of them."""
    out = {}
    for metric in sorted(set(table["metric"])):
        higher = PROBE_METRICS[metric]
        values = {b: float(_row(table, metric, "value", b)["estimate"]) for b in baselines}
        order = {b: i for i, b in enumerate(baselines)}     # ties: the first baseline named
        best = (max(values, key=lambda b: (values[b], -order[b])) if higher
                else min(values, key=lambda b: (values[b], order[b])))
        own = _row(table, metric, "value", trained)
        diff = _row(table, metric, "diff", trained, best)
        entry = {"trained": float(own["estimate"]), "best_baseline": best,
                 "baseline": values[best], "diff": float(diff["estimate"]),
                 "ci_low": float(diff["ci_low"]), "ci_high": float(diff["ci_high"]),
                 "n_images": int(diff["n_images"]), "higher_is_better": bool(higher),
                 "image_blind": None, "image_blind_ci": None}
        if image_blind is not None:
            blind = _row(table, metric, "diff", trained, image_blind)
            entry["image_blind"] = float(_row(table, metric, "value", image_blind)["estimate"])
            entry["image_blind_ci"] = [float(blind["ci_low"]), float(blind["ci_high"])]
        out[metric] = entry
    return out


def goal_met(effect: dict) -> dict:
    """``{check: bool}``: the trained model beats the strongest baseline with an interval that
    excludes zero (per metric), and beats the image-blind control on FVP (``None`` when the
    control is missing)."""
    checks = {}
    for metric, e in effect.items():
        checks[metric] = e["ci_low"] > 0 if e["higher_is_better"] else e["ci_high"] < 0
    fvp = effect.get("fvp_iou")
    if fvp is not None:
        ci = fvp["image_blind_ci"]
        checks["fvp_iou_vs_image_blind"] = None if ci is None else bool(ci[0] > 0)
    return checks
