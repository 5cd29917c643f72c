"""Grounding metrics: IoU of ``(x_min, y_min, x_max, y_max)`` boxes (MS-CXR).

:func:`box_iou` follows ``torchvision.ops.box_iou``: continuous coordinates, area
``(x_max - x_min) * (y_max - y_min)``, the pairwise ``(N, M)`` matrix. One difference, stated:
where the union is empty (two zero-area boxes) torchvision returns NaN, we return 0, so that a
degenerate prediction scores as a miss, not as a hole in the mean. Inverted boxes
(``x_max < x_min``) are an error: they are damaged data, not a prediction to score.

:func:`grounding_scores` scores row-aligned predictions (one box per phrase): ``miou`` (the
mean IoU), ``acc@0.5`` and ``acc@0.3`` (the share of pairs with IoU >= 0.5, >= 0.3), ``n``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "grounding_scores", "IOU_THRESHOLDS"]

IOU_THRESHOLDS = (0.5, 0.3)


def _boxes(b, name: str) -> np.ndarray:
    arr = np.asarray(b, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must be (N, 4) boxes (x_min, y_min, x_max, y_max), got shape "
                         f"{np.shape(b)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds a non-finite coordinate")
    bad = np.flatnonzero((arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1]))
    if len(bad):
        raise ValueError(f"{name}[{int(bad[0])}] = {arr[bad[0]].tolist()} is inverted "
                         "(x_max < x_min or y_max < y_min)")
    return arr


def box_iou(a, b) -> np.ndarray:
    """Pairwise IoU ``(N, M)`` of xyxy boxes ``a`` (N, 4) and ``b`` (M, 4) (module docstring)."""
    a, b = _boxes(a, "a"), _boxes(b, "b")
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def grounding_scores(pred_boxes, true_boxes) -> dict:
    """``{"miou", "acc@0.5", "acc@0.3", "n"}`` of row-aligned predicted and true boxes."""
    p, t = _boxes(pred_boxes, "pred_boxes"), _boxes(true_boxes, "true_boxes")
    if len(p) != len(t):
        raise ValueError(f"{len(p)} predicted boxes for {len(t)} true ones: one per phrase")
    iou = np.diagonal(box_iou(p, t)) if len(p) else np.zeros(0)
    out = {"miou": float(iou.mean()) if len(iou) else float("nan")}
    for thr in IOU_THRESHOLDS:
        out[f"acc@{thr}"] = float((iou >= thr).mean()) if len(iou) else float("nan")
    out["n"] = int(len(iou))
    return out
