"""How visible a planted finding is on the film at the size a model sees it.

:func:`finding_contrast` compares one film rendered with and without a finding (same anatomy,
same texture: :func:`.phantom.render` draws the anatomy's randomness before the findings),
both shrunk by ``factor`` the way an image processor shrinks them (PIL bicubic, antialiased),
inside the finding's ellipse and in a ring around it:

* ``signal``: mean grey change the finding makes inside its ellipse (with - without), in
  grey levels (0-255). Negative for a darkening finding (pneumothorax).
* ``local_contrast``: mean grey inside the ellipse minus the mean of the ring around it
  (1.3-2.0 times the ellipse), on the film *with* the finding: what a reader of that film
  sees, anatomy included (an effusion next to the bright abdomen has a small one).
* ``clutter``: standard deviation of the film *without* the finding inside the ellipse: the
  anatomy under the finding (ribs, vessels, borders) and noise it must stand out from.
* ``cnr``: ``|signal| / clutter``.

For a support device the "ellipse" is a tube along ``path_px`` (within about one shrunk pixel
of the path) and the ring the pixels 3-6 shrunk pixels away from it. :func:`measure_kinds`
tabulates the medians over a few films per kind (the numbers quoted in
:data:`.findings_paint.AMPLITUDE_GAIN`); ``tests/test_phantom.py`` asserts a floor at 1/4
scale.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

__all__ = ["shrink", "finding_masks", "finding_contrast", "measure_kinds"]


def shrink(img: np.ndarray, factor: float) -> np.ndarray:
    """``img`` (uint8 or float grey, ``(H, W)``) resized to ``(round(W / factor), round(H /
    factor))`` with PIL bicubic (antialiased), as float."""
    h, w = img.shape
    size = (max(1, int(round(w / factor))), max(1, int(round(h / factor))))
    im = Image.fromarray(np.clip(np.asarray(img, dtype=np.float32), 0, 255), mode="F")
    return np.asarray(im.resize(size, Image.Resampling.BICUBIC), dtype=float)


def _path_distance(xx: np.ndarray, yy: np.ndarray, path: np.ndarray) -> np.ndarray:
    d = np.full(xx.shape, np.inf)
    for (x0, y0), (x1, y1) in zip(path[:-1], path[1:]):
        vx, vy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * vx + (yy - y0) * vy) / max(vx * vx + vy * vy, 1e-9), 0, 1)
        d = np.minimum(d, np.hypot(xx - x0 - t * vx, yy - y0 - t * vy))
    return d


def finding_masks(finding: dict, shape: tuple[int, int], factor: float) -> tuple[np.ndarray, np.ndarray]:
    """``(inside, ring)`` boolean masks of ``finding`` on a grid ``shape`` that is the film
    shrunk by ``factor`` (pixel centres mapped back to film pixels)."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w].astype(float)
    xx, yy = (xx + 0.5) * factor, (yy + 0.5) * factor
    if finding.get("path_px"):
        d = _path_distance(xx, yy, np.asarray(finding["path_px"], dtype=float)) / factor
        return d <= 1.0, (d >= 3.0) & (d <= 6.0)
    (cx, cy), (rx, ry) = finding["center_px"], finding["axes_px"]
    a = math.radians(float(finding.get("angle_deg", 0.0)))
    u = math.cos(a) * (xx - cx) + math.sin(a) * (yy - cy)
    v = -math.sin(a) * (xx - cx) + math.cos(a) * (yy - cy)
    # at least half a shrunk pixel of radius, so that a small nodule keeps its centre pixel
    r = np.hypot(u / max(rx, 0.5 * factor), v / max(ry, 0.5 * factor))
    return r <= 1.0, (r >= 1.3) & (r <= 2.0)


def finding_contrast(with_finding: np.ndarray, without: np.ndarray, finding: dict,
                     factor: float = 4.0) -> dict:
    """``signal``, ``local_contrast``, ``clutter`` and ``cnr`` (see the module docstring) of
    ``finding`` on a film rendered with and without it, shrunk by ``factor``."""
    a, b = shrink(with_finding, factor), shrink(without, factor)
    inside, ring = finding_masks(finding, a.shape, factor)
    if not inside.any() or not ring.any():
        raise ValueError(f"finding {finding.get('kind')!r} has no pixels at factor {factor}")
    signal = float((a - b)[inside].mean())
    local = float(a[inside].mean() - a[ring].mean())
    clutter = float(b[inside].std())
    return {"signal": signal, "local_contrast": local, "clutter": clutter,
            "cnr": abs(signal) / max(clutter, 1e-6)}


def measure_kinds(kinds, seeds=range(6), size: tuple[int, int] = (896, 1120),
                  factors=(4.0, 8.0)) -> dict:
    """``{kind: {factor: {metric: median over seeds}}}`` for single-finding films of
    ``size``: image ``seed`` draws its anatomy and finding from ``default_rng(seed)`` and
    its pixels from ``default_rng(1000 + seed)``, with and without the finding."""
    from .anatomy import make_anatomy, plant_findings
    from .phantom import render

    out: dict = {}
    for kind in kinds:
        rows: dict = {f: [] for f in factors}
        for seed in seeds:
            rng = np.random.default_rng(seed)
            a = make_anatomy(rng, *size, kind == "cardiomegaly")
            f = plant_findings(rng, a, [kind])
            pix = render(a, f, np.random.default_rng(1000 + seed))
            base = render(a, [], np.random.default_rng(1000 + seed))
            for fac in factors:
                rows[fac].append(finding_contrast(pix, base, f[0], fac))
        out[kind] = {fac: {k: float(np.median([r[k] for r in rs])) for k in rs[0]} for fac, rs in rows.items()}
    return out
