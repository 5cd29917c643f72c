"""Similarity of attention maps: model against radiologists, radiologist against radiologist.

The paper reports a cosine similarity "above 0.9, matching inter-radiologist agreement" without
saying how the model's map is made. Ours: the model answers FVP with boxes, so its map is
:func:`box_map`, one Gaussian per predicted box, centred on the box's centroid, with standard
deviations of a quarter of the box's width and height (so the box spans about +-2 sigma),
weights equal. The radiologist's map is the sentence's attention map from the gaze pipeline
(:mod:`gazex_lib.gaze.maps`), on the same grid.

:func:`cosine_similarity` is the cosine of the two maps as vectors (both non-negative, so it lies
in [0, 1]; 0 when either map is empty). It ignores the maps' total mass, not their shape: a
map twice as intense is as similar.
"""
from __future__ import annotations

import numpy as np

__all__ = ["box_map", "cosine_similarity", "SIGMA_PER_BOX"]

#: Gaussian standard deviation as a share of the box's width (x) and height (y).
SIGMA_PER_BOX = 0.25


def box_map(boxes, shape: tuple[int, int]) -> np.ndarray:
    """A ``shape = (height, width)`` map (float64) of Gaussians at the ``boxes`` (``(x0, y0, x1,
    y1)`` in the map's pixels; module docstring). A box of zero width or height counts as one
    pixel wide."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros(shape, dtype=np.float64)
    for x0, y0, x1, y1 in boxes:
        if x1 < x0 or y1 < y0:
            raise ValueError(f"box ({x0}, {y0}, {x1}, {y1}) has its corners the wrong way round")
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        sx, sy = max(x1 - x0, 1.0) * SIGMA_PER_BOX, max(y1 - y0, 1.0) * SIGMA_PER_BOX
        out += np.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2))
    return out


def cosine_similarity(a, b) -> float:
    """Cosine of two maps of the same shape (module docstring)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"maps differ in shape: {a.shape} vs {b.shape}")
    if (a < 0).any() or (b < 0).any():
        raise ValueError("attention maps must be non-negative")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a.ravel(), b.ravel()) / (na * nb))
