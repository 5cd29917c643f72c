"""The phantom's thorax geometry: lung envelopes, heart, mediastinum, hila, vessel trees,
ribs and the body outline (drawn by :func:`.phantom.render`).

Units: coordinates and sizes in **full-resolution film pixels** (``x``: (1, w), ``y``: (h, 1)
grids of :class:`._canvas._Canvas`); masks and thickness profiles are in [0, 1]; ``e`` is
the edge softness in film pixels. Side ``s``: 0 = image-left lung (patient's right),
1 = image-right.
"""
from __future__ import annotations

import numpy as np

from ._canvas import _Canvas, _enlarge, _ellipse_on, _ramp, _smoothstep, _soften
from .anatomy import Anatomy


def _side_out(s: int) -> float:
    """+1 if lateral is image-right (s = 1), -1 for the image-left lung (s = 0)."""
    return -1.0 if s == 0 else 1.0


def _lung_shape(a: Anatomy, s: int, x, y, e: float) -> np.ndarray:
    """The lung envelope of side ``s`` (before the mediastinum cuts it): a rounded apex,
    a lateral wall widening to the costophrenic angle, the base on the dome."""
    cx, cy, rx, ry = a.lungs[s]
    out = _side_out(s)
    top = cy - ry
    base = a.domes[s][0] + a.domes[s][1]
    v = (y - top) / (base - top)
    u = (x - cx) * out
    apex_u = -0.15 * rx
    pl = np.sqrt(np.clip(1.0 - (1.0 - v / 0.95) ** 2, 0, 1))
    ulat = apex_u + (1.04 * rx - apex_u) * pl + 0.14 * rx * np.clip(v - 0.55, 0, None)
    pm = np.sqrt(np.clip(1.0 - (1.0 - v / 0.7) ** 2, 0, 1))
    umed = apex_u - 1.05 * rx * pm
    dome = np.asarray(a.dome_y(s, x), dtype=np.float32)
    return _ramp((ulat - u) / e) * _ramp((u - umed) / e) * _ramp((dome - y) / e) * (v > 0)


def _heart_mask(a: Anatomy, x, y, e: float, profile: bool = False):
    """Cardiac silhouette in the heart box: an egg wider to the image right (left ventricle),
    its apex low on the right, the right-atrial border (image left) gently convex.
    With ``profile``, also its projected thickness (1 in the middle, 0 at the border)."""
    hx, hy, hrx, hry = a.heart
    xc, yc = hx - 0.18 * hrx, hy + 0.1 * hry
    px = (x - xc) / np.where(x < xc, 0.82 * hrx, 1.18 * hrx)
    qy = (y - yc) / np.where(y < yc, 1.1 * hry, 0.9 * hry)
    qy = qy - 0.28 * np.clip(px, 0, None) ** 2  # the apex droops to the lower right
    dist2 = px * px + qy * qy
    mask = _ramp((1.0 - np.sqrt(dist2)) * min(hrx, hry) / e)
    if profile:
        return mask, np.sqrt(np.clip(1.0 - dist2, 0, 1))
    return mask


def _mediastinum(a: Anatomy, x, y, e: float) -> np.ndarray:
    """Central soft-tissue column (down to the abdomen), the aortic knob and pulmonary trunk
    on the image right, the superior vena cava border on the image left."""
    H, W = a.height, a.width
    m = a.spine_x
    hw = a.mediastinum_half_width
    widen = hw * (0.9 + 0.22 * _smoothstep((y - 0.12 * H) / (0.3 * H)))
    col = _ramp((widen - np.abs(x - m)) / e)
    knob = _ellipse_on(x, y, m + hw - 0.012 * W, 0.285 * H, 0.048 * W, 0.036 * H, e)
    trunk = _ellipse_on(x, y, m + hw - 0.012 * W, 0.365 * H, 0.034 * W, 0.04 * H, e)
    svc = _ellipse_on(x, y, m - hw - 0.002 * W, 0.36 * H, 0.02 * W, 0.12 * H, 4 * e)
    return np.maximum(np.maximum(col, knob), np.maximum(trunk, svc))


def _hila(a: Anatomy) -> list[tuple[float, float]]:
    """Hilar points (image-left, image-right); the left (image-right) hilum is higher."""
    hw = a.mediastinum_half_width
    W = a.width
    return [(a.spine_x - hw - 0.035 * W, a.lungs[0][1] - 0.02 * a.height),
            (a.spine_x + hw + 0.04 * W, a.lungs[0][1] - 0.045 * a.height)]


def _vessel_tree(rng: np.random.Generator, hx: float, hy: float, out: float, H: float, W: float):
    """Branching vessels from a hilum, vectorised per generation: the segments as quadratic
    Bezier curves ``(x0, y0, xm, ym, x1, y1)`` (arrays) and their generations."""
    n0 = 9
    ang = np.radians(np.linspace(-85, 80, n0) + rng.normal(0, 6, n0))
    length = H * (0.05 + 0.02 * rng.random(n0)) * (1 + 0.3 * np.clip(-np.sin(ang), 0, None))
    # roots spread along the hilum, upper vessels start higher
    x0 = hx + out * 0.01 * W * rng.random(n0)
    y0 = hy + 0.045 * H * np.sin(ang)
    segs, gens = [], []
    for g in range(7):
        n = len(ang)
        x1 = x0 + out * np.cos(ang) * length
        y1 = y0 + np.sin(ang) * length
        bend = rng.normal(0, 0.12, n) * length
        mx = 0.5 * (x0 + x1) - np.sin(ang) * bend * out
        my = 0.5 * (y0 + y1) + np.cos(ang) * bend
        segs.append(np.stack([x0, y0, mx, my, x1, y1]))
        gens.append(np.full(n, g))
        # children: a main branch continuing, a side branch at a wider angle
        side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        a_main = ang + np.radians(rng.normal(0, 7, n)) - side * np.radians(6)
        a_side = ang + side * np.radians(rng.uniform(24, 50, n))
        ang = np.concatenate([a_main, a_side])
        length = np.concatenate([length * rng.uniform(0.72, 0.86, n), length * rng.uniform(0.45, 0.65, n)])
        x0, y0 = np.concatenate([x1, x1]), np.concatenate([y1, y1])
        if g >= 4:  # prune a third of the twigs
            keep = rng.random(len(ang)) < 0.7
            ang, length, x0, y0 = ang[keep], length[keep], x0[keep], y0[keep]
    return np.concatenate(segs, axis=1), np.concatenate(gens)


def _draw_vessels(cv: _Canvas, trees) -> np.ndarray:
    """The vessel trees as a density layer: points sampled along the curves and splatted, the
    trunks on coarser grids (wider, softer), the twigs at work resolution."""
    seg = np.concatenate([t[0] for t in trees], axis=1)
    gen = np.concatenate([t[1] for t in trees])
    x0, y0, xm, ym, x1, y1 = seg
    step = 0.7 * cv.s
    n = np.maximum(2, np.ceil(np.hypot(x1 - x0, y1 - y0) / step).astype(np.int64))
    idx = np.repeat(np.arange(len(n)), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n)
    u = 1 - t
    px = u * u * x0[idx] + 2 * u * t * xm[idx] + t * t * x1[idx]
    py = u * u * y0[idx] + 2 * u * t * ym[idx] + t * t * y1[idx]
    g = gen[idx]
    wgt = 0.7 * (0.8 ** g)  # per point, ~ its spacing in work pixels
    g4 = 0.6 * cv.splat(px[g <= 1], py[g <= 1], wgt[g <= 1] / 4, 4)
    mid = (g >= 2) & (g <= 3)
    g2 = 0.7 * cv.splat(px[mid], py[mid], wgt[mid] / 2, 2)
    g2 += _enlarge(g4, g2.shape)
    out = 0.5 * cv.splat(px[g >= 4], py[g >= 4], wgt[g >= 4], 1)
    out += _enlarge(g2, out.shape)
    return _soften(out) if cv.s == 1 else out


def _rib_curves(a: Anatomy, rng: np.random.Generator):
    """Centre lines of the posterior and anterior ribs and clavicles, in pixels."""
    W, H, m = a.width, a.height, a.spine_x
    post, ant, clav = [], [], []
    top = a.lungs[0][1] - a.lungs[0][3]
    base = max(a.domes[0][0], a.domes[1][0])
    step = (base - top) / 8.6
    t = np.linspace(0.0, 1.0, 28)
    for s in (0, 1):
        out = _side_out(s)
        lat_x = a.lungs[s][0] + out * 1.12 * a.lungs[s][2]
        wall = abs(lat_x - m) + 0.02 * W
        for i in range(11):
            y0 = top - 0.25 * step + i * step + rng.normal(0, 0.04 * step)
            reach = wall * min(1.0, 0.42 + 0.2 * i)
            dx = 0.03 * W + (reach - 0.03 * W) * t
            drop = (1.2 + 0.2 * min(i, 6)) * step
            yc = y0 - 0.25 * step * np.sin(np.pi * t) + drop * t ** 2
            post.append(np.stack([m + out * dx, yc], 1))
            if i >= 1:  # anterior rib: from the lateral wall medially and downward
                ta = np.linspace(0.0, 1.0, 20)
                adx = reach - (0.6 * reach) * ta
                ay = yc[-1] + 0.3 * step * np.sin(0.5 * np.pi * ta) + 1.1 * step * ta
                ant.append(np.stack([m + out * adx, ay], 1))
        # clavicle: from the sternal end up and out to the acromion, gently S-shaped
        tc = np.linspace(0.0, 1.0, 24)
        cdx = 0.035 * W + 0.34 * W * tc
        cy = top + 1.0 * step - 0.8 * step * tc - 0.15 * step * np.sin(2 * np.pi * tc)
        clav.append(np.stack([m + out * cdx, cy], 1))
    return post, ant, clav


def _body(a: Anatomy, x, y, e: float) -> np.ndarray:
    """Soft-tissue thickness: neck, sloping shoulders, trunk (flat-topped profile), arms with axillae."""
    W, H, m = a.width, a.height, a.spine_x
    dx = np.abs(x - m)  # (1, w)
    yy = y / H  # (h, 1)
    tsh = np.clip((dx - 0.1 * W) / (0.36 * W), 0, None)
    y_top = (-0.01 + 0.075 * np.sqrt(tsh) + 0.02 * tsh + 0.1 * np.clip(tsh - 0.85, 0, None) ** 2) * H
    upper = _ramp((y - y_top) / (1.5 * e))
    bw = (0.415 + 0.012 * yy) * W  # trunk half-width (h, 1)
    r2 = np.minimum(dx / bw, 1.2) ** 2
    trunk = np.sqrt(np.clip(1 - r2 * r2 * r2 * np.sqrt(r2), 0, 1)) * _ramp((bw - dx) / (1.5 * e))
    shoulder = (0.8 * (1 - _smoothstep((yy - 0.12) / 0.12))) * _ramp((0.5 * W - dx) / (8 * e))
    gap = 0.018 * W * _smoothstep((yy - 0.2) / 0.1)
    arm = _ramp((dx - bw - gap) / (2 * e)) * (0.75 * (1 - _smoothstep((yy - 0.3) / 0.35)))
    arm = np.maximum(arm, _ramp((dx - bw) / e) * (0.3 * (1 - _smoothstep((yy - 0.25) / 0.3))))
    body = np.maximum(np.maximum(trunk, shoulder), arm) * upper
    return body * (0.72 + 0.28 * _smoothstep((yy - 0.02) / 0.14))  # thinner neck
