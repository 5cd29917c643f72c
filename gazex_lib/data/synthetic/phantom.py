"""Procedural PA chest-radiograph phantoms (greyscale uint8), vectorised numpy.

The picture is a sum of densities, like a projection radiograph (0 = air, 1 = dense):

* body: neck, shoulders sloping to the arms, trunk with a flat-topped thickness profile,
  faint arms with dark axillae at the sides, air outside;
* lungs: dark fields with rounded apices, sharp lateral costophrenic angles, bases on the
  hemidiaphragm domes and medial borders cut by the mediastinum and the heart; a fine
  parenchymal texture and branching vascular trees radiating from bright hila;
* mediastinum: a central column with the trachea (air, darker) splitting into the main
  bronchi at the carina, the aortic knob and pulmonary trunk on the image right, the heart
  sitting on the diaphragm and bulging to the image right (patient's left);
* diaphragm: domes convex upward (image-left = patient-right dome higher), abdomen bright
  below them, a gastric bubble under the image-right dome in most films;
* bones: posterior ribs (curved bands sloping down laterally), fainter anterior ribs sloping
  down medially, clavicles, humeral heads, a faint spine behind the mediastinum;
* the planted findings at their ellipses (see :mod:`.anatomy`).

Everything is drawn on a work grid of at most :data:`WORK_MAX_WIDTH` columns in full-resolution
pixel coordinates, tone-mapped, resized to the film size and given film noise. The anatomy's
random texture is drawn from ``rng`` *before* the findings, so a phantom with and without a
finding share the same anatomy. Thin structures (vessels, ribs, devices) are rasterised as
splatted points or PIL polygons, the film noise comes from random bytes through a table: a
896 x 1120 film takes ~60-80 ms on one core, a 2544 x 3056 one ~0.25 s.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .anatomy import Anatomy

WORK_MAX_WIDTH = 640  # pixels of the work grid

# densities (attenuation units, 1 ~ full-thickness soft tissue of the trunk)
_AIR = 0.02
_BODY = 0.78
_LUNG_AIR = 0.56
_BONE = 0.13


def _ramp(z: np.ndarray) -> np.ndarray:
    """Soft step: 0 below -0.5, 1 above 0.5 (linear), float32."""
    return np.clip(z + 0.5, 0.0, 1.0, dtype=np.float32)


def _smoothstep(z):
    z = np.clip(z, 0.0, 1.0)
    return z * z * (3 - 2 * z)


class _Canvas:
    """A work grid in *full-resolution pixel coordinates* (``x``: (1, w), ``y``: (h, 1))."""

    def __init__(self, width: int, height: int):
        self.s = max(1, math.ceil(width / WORK_MAX_WIDTH))
        self.w, self.h = math.ceil(width / self.s), math.ceil(height / self.s)
        self.x = ((np.arange(self.w, dtype=np.float32) + 0.5) * self.s)[None, :]
        self.y = ((np.arange(self.h, dtype=np.float32) + 0.5) * self.s)[:, None]
        self.d = np.full((self.h, self.w), _AIR, dtype=np.float32)  # density

    def window(self, x0: float, y0: float, x1: float, y1: float):
        """Slices and sub-grids of the work grid covering the pixel box (clipped)."""
        c0, c1 = max(0, int(x0 // self.s)), min(self.w, max(0, int(x1 // self.s) + 2))
        r0, r1 = max(0, int(y0 // self.s)), min(self.h, max(0, int(y1 // self.s) + 2))
        return (slice(r0, r1), slice(c0, c1)), self.x[:, c0:c1], self.y[r0:r1, :]

    def ellipse(self, cx, cy, rx, ry, edge, angle_deg=0.0, pad=1.3, full=False, power=2.0):
        """Soft ellipse mask; returns (slices, mask) over its bounding box (or the whole grid)."""
        r = max(rx, ry) * pad + edge
        sl, x, y = (self.window(cx - r, cy - r, cx + r, cy + r) if not full
                    else ((slice(None), slice(None)), self.x, self.y))
        return sl, _ellipse_on(x, y, cx, cy, rx, ry, edge, angle_deg, power)

    def bands(self, polylines, widths, values, scale: int = 1) -> np.ndarray:
        """Polylines (pixel coordinates) drawn as bands of the given widths (pixels) on the work
        grid (or one ``scale`` times coarser, bilinearly enlarged back: softer), in [0, 1];
        overlapping bands take the later value."""
        f = self.s * scale
        w, h = math.ceil(self.w / scale), math.ceil(self.h / scale)
        img = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(img)
        for pts, wd, val in zip(polylines, widths, values):
            p = np.asarray(pts, dtype=np.float64) * (1.0 / f)
            fill = int(round(255 * val))
            if wd / f < 1.8 or len(p) < 2:
                draw.line(p.ravel().tolist(), fill=fill, width=max(1, int(round(wd / f))))
                continue
            d = np.empty_like(p)
            d[1:-1] = p[2:] - p[:-2]
            d[0], d[-1] = p[1] - p[0], p[-1] - p[-2]
            k = (0.5 * wd / f) / np.maximum(np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2), 1e-9)
            off = np.stack([-d[:, 1] * k, d[:, 0] * k], 1)
            draw.polygon(np.concatenate([p + off, (p - off)[::-1]]).ravel().tolist(), fill=fill)
        if scale > 1:
            img = img.resize((w * scale, h * scale), Image.Resampling.BILINEAR).crop((0, 0, self.w, self.h))
        return np.asarray(img, dtype=np.float32) * (1.0 / 255.0)

    def splat(self, x, y, wgt, scale: int = 1) -> np.ndarray:
        """Points (pixels) with weights accumulated bilinearly on a grid ``scale`` times coarser
        than the work grid (not enlarged back)."""
        f = self.s * scale
        w, h = math.ceil(self.w / scale), math.ceil(self.h / scale)
        fx = np.clip(np.asarray(x) / f - 0.5, 0, w - 1.001)
        fy = np.clip(np.asarray(y) / f - 0.5, 0, h - 1.001)
        x0, y0 = fx.astype(np.int64), fy.astype(np.int64)
        tx, ty = fx - x0, fy - y0
        i0 = y0 * w + x0
        idx = np.concatenate([i0, i0 + 1, i0 + w, i0 + w + 1])
        ww = np.concatenate([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty]) * np.tile(wgt, 4)
        return np.bincount(idx, ww, minlength=w * h).reshape(h, w).astype(np.float32)


def _enlarge(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear enlargement of a coarse grid by an integer factor, cropped to ``shape``."""
    h, w = shape
    k = math.ceil(h / a.shape[0])
    im = Image.fromarray(a, mode="F").resize((a.shape[1] * k, a.shape[0] * k), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32)[:h, :w]


def _soften(a: np.ndarray) -> np.ndarray:
    """3 x 3 binomial blur (edges replicated)."""
    p = np.pad(a, 1, mode="edge")
    v = p[:-2] + 2 * p[1:-1] + p[2:]
    return (v[:, :-2] + 2 * v[:, 1:-1] + v[:, 2:]) * (1.0 / 16.0)


def _ellipse_on(x, y, cx, cy, rx, ry, edge, angle_deg=0.0, power=2.0) -> np.ndarray:
    """Soft ellipse mask on the grids ``x`` (1, w) and ``y`` (h, 1); ``edge`` in pixels."""
    dx, dy = x - cx, y - cy
    if angle_deg:
        c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    if power == 2.0:
        dist = np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
    else:
        dist = (np.abs(dx / rx) ** power + np.abs(dy / ry) ** power) ** (1.0 / power)
    return _ramp((1.0 - dist) * min(rx, ry) / edge)


def _smooth_field(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Smooth noise in [-1, 1] (bicubic upsampling of a cells-wide random grid)."""
    ch = max(2, round(cells * h / max(w, 1)))
    small = rng.uniform(-1, 1, size=(ch, cells)).astype(np.float32)
    img = Image.fromarray(small, mode="F").resize((max(w, 1), max(h, 1)), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(img), -1, 1)


def _blur_f(arr: np.ndarray, k: float) -> np.ndarray:
    """Cheap wide blur of a float image: box-downsample by ``k`` then bilinear upsample."""
    h, w = arr.shape
    sw, sh = max(2, round(w / k)), max(2, round(h / k))
    im = Image.fromarray(arr, mode="F").resize((sw, sh), Image.Resampling.BOX)
    return np.asarray(im.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def _segment_dist(x, y, p0, p1):
    """Distance of grid points to the segment p0-p1."""
    (x0, y0), (x1, y1) = p0, p1
    vx, vy = x1 - x0, y1 - y0
    t = np.clip(((x - x0) * vx + (y - y0) * vy) / max(vx * vx + vy * vy, 1e-6), 0, 1)
    return np.sqrt((x - x0 - t * vx) ** 2 + (y - y0 - t * vy) ** 2)


# ------------------------------------------------------------------------ geometry
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


# ------------------------------------------------------------------------ render
def _normal_lut(sigma: float) -> np.ndarray:
    """256 quantiles of N(0, sigma^2) as int16: a byte of random bits -> Gaussian film noise."""
    from statistics import NormalDist

    q = [NormalDist(0.0, sigma).inv_cdf((i + 0.5) / 256) for i in range(256)]
    return np.round(np.asarray(q)).astype(np.int16)


_NOISE_LUT = _normal_lut(2.2)
#: (grey level << 8 | random byte) -> grey level plus film noise, clipped to 0..255
_FILM_LUT = np.clip(np.arange(256, dtype=np.int16)[:, None] + _NOISE_LUT[None, :], 0, 255).astype(np.uint8).ravel()
_TONE_N = 2048
_TONE_LUT = np.round(255.0 * (np.arange(_TONE_N) / (_TONE_N - 1.0)) ** 1.3).astype(np.uint8)
_TONE_FULL = 0.93  # density shown as white


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


def render(anatomy: Anatomy, findings: list[dict], rng: np.random.Generator) -> np.ndarray:
    """The phantom as a ``(height, width)`` uint8 array (0 black = air)."""
    a = anatomy
    W, H = a.width, a.height
    cv = _Canvas(W, H)
    X, Y = cv.x, cv.y
    m = a.spine_x
    e = max(0.005 * W, 0.8 * cv.s)  # edge softness (px)
    hl = _hila(a)
    top = a.lungs[0][1] - a.lungs[0][3]
    wr = _smoothstep((X - m) / (0.2 * W) + 0.5)
    dome_x = ((1 - wr) * a.dome_y(0, X) + wr * a.dome_y(1, X)).astype(np.float32)  # (1, w)
    r_abd = max(0, int((dome_x.min() - 4 * e) // cv.s))  # first row of the abdomen

    # --- random anatomy texture first (the same with or without findings)
    trees = [_vessel_tree(rng, hx, hy, _side_out(s), H, W) for s, (hx, hy) in enumerate(hl)]
    r_lung = max(0, int((top - 2 * e) // cv.s))
    tex = np.zeros((cv.h, cv.w), np.float32)
    tex[r_lung:r_abd + 4] = _smooth_field(rng, cv.w, r_abd + 4 - r_lung, max(8, cv.w // 5))[: cv.h - r_lung]
    mottle = _smooth_field(rng, cv.w, cv.h, 10)
    bowel = _smooth_field(rng, cv.w, cv.h - r_abd, 18)
    post, ant, clav = _rib_curves(a, rng)
    bubble = rng.random() < 0.65
    bub = (float(rng.uniform(-0.1, 0.35)), float(rng.uniform(0.8, 1.25)))

    # --- body (smooth: computed on a grid twice coarser)
    hw2, hh2 = math.ceil(cv.w / 2), math.ceil(cv.h / 2)
    xb = ((np.arange(hw2, dtype=np.float32) + 0.5) * 2 * cv.s)[None, :]
    yb = ((np.arange(hh2, dtype=np.float32) + 0.5) * 2 * cv.s)[:, None]
    body = np.asarray(Image.fromarray(_body(a, xb, yb, max(e, 2 * cv.s)), mode="F").resize(
        (2 * hw2, 2 * hh2), Image.Resampling.BILINEAR), dtype=np.float32)[: cv.h, : cv.w]
    cv.d += _BODY * body

    # --- mediastinum and heart (in their boxes)
    med = np.zeros((cv.h, cv.w), np.float32)
    msl, x, y = cv.window(m - 0.16 * W, 0, m + 0.2 * W, H)
    med[msl] = _mediastinum(a, x, y, e)
    hx, hy, hrx, hry = a.heart
    heart = np.zeros_like(med)
    heart_t = np.zeros_like(med)
    hsl, x, y = cv.window(hx - 1.1 * hrx, hy - 1.2 * hry, hx + 1.3 * hrx, hy + 1.3 * hry)
    heart[hsl], heart_t[hsl] = _heart_mask(a, x, y, 1.5 * e, profile=True)

    # --- lungs
    lung = []
    env = np.zeros((cv.h, cv.w), np.float32)  # both envelopes, before the mediastinum cuts them
    for s in (0, 1):
        cx, cy, rx, ry = a.lungs[s]
        sl, x, y = cv.window(cx - 1.7 * rx, cy - ry - 2 * e, cx + 1.7 * rx, a.domes[s][0] + 1.6 * a.domes[s][1])
        lm = np.zeros((cv.h, cv.w), np.float32)
        shape = _lung_shape(a, s, x, y, e)
        env[sl] = np.maximum(env[sl], shape)
        lm[sl] = shape * (1 - med[sl])
        lung.append(lm)
    L = lung[0] + lung[1]
    np.clip(L, 0, 1, out=L)
    Lvis = L * (1 - 0.8 * heart)  # some lung remains behind the heart
    deep = _blur_f(env, 0.035 * W / cv.s)  # 0 at the chest wall, apex and domes, 1 deep inside
    zv = (Y - top) / (a.domes[0][0] - top)  # 0 apex, 1 dome
    zone = (0.72 + 0.28 * _smoothstep(zv / 0.35)) * (1 - 0.22 * _smoothstep((zv - 0.55) / 0.5))
    air = Lvis * (0.62 * zone + (0.38 * zone) * np.clip(1.4 * deep - 0.2, 0, 1))
    # posterior costophrenic recesses: a little air below the domes
    for s in (0, 1):
        cx, cy, rx, ry = a.lungs[s]
        sl, x, y = cv.window(cx - 1.3 * rx, a.domes[s][0] - 2 * e, cx + 1.3 * rx, a.domes[s][0] + 2.5 * a.domes[s][1])
        dome = np.asarray(a.dome_y(s, x), dtype=np.float32)
        u = (x - cx) * _side_out(s)
        rec = np.exp(-np.clip(y - dome, 0, None) / (0.02 * H)) * _ramp((y - dome) / e)
        rec *= _ramp((1.0 * rx - u) / (3 * e)) * _ramp((u + 0.5 * rx) / (6 * e))
        air[sl] += 0.25 * rec * (1 - heart[sl]) * (1 - med[sl])
    cv.d -= _LUNG_AIR * air

    # hila (separable Gaussians), vessels, parenchymal texture
    hil = np.zeros_like(med)
    near = np.zeros_like(med)  # 1 at the hila, fading towards the periphery
    for (px, py) in hl:
        hil += np.exp(-((X - px) / (0.03 * W)) ** 2) * np.exp(-((Y - py) / (0.055 * H)) ** 2)
        near += np.exp(-((X - px) / (0.2 * W)) ** 2) * np.exp(-((Y - py) / (0.28 * H)) ** 2)
    cv.d += (0.14 * hil + 0.05 * near) * np.minimum(L + 0.3 * med, 1)
    vess = _draw_vessels(cv, trees)
    markings = (0.3 * vess * (0.4 + 0.6 * near) * (0.5 + 0.5 * np.minimum(1.5 * deep, 1)) + 0.04 * tex) * Lvis

    # pneumothorax removes the markings lateral to the pleural line
    for f in findings:
        if f["kind"] == "pneumothorax":
            region, line = _ptx_region(cv, a, f, lung, e)
            markings *= 1 - region
            cv.d += -0.12 * region + 0.22 * line
    cv.d += markings

    # abdomen below the domes (bowel gas low down), heart, soft-tissue thickness variation
    Ya = Y[r_abd:]
    abd = np.zeros_like(med)
    abd[r_abd:] = _ramp((Ya - dome_x) / (6 * e)) * np.minimum(body[r_abd:] * 1.3, 1)
    bw = (0.415 + 0.012 * Ya / H) * W
    gas = np.clip(1.6 * bowel - 0.6, 0, 1) * _smoothstep((Ya - dome_x - 0.12 * H) / (0.15 * H))
    cv.d[r_abd:] += abd[r_abd:] * (0.02 - 0.12 * gas * _ramp((bw - 0.06 * W - np.abs(X - m)) / (4 * e)))
    cv.d[hsl] += (0.01 * heart[hsl] + 0.025 * heart_t[hsl]) * (1 - abd[hsl])
    cv.d += (0.025 * mottle) * body

    # trachea and main bronchi, spine (in the central strip)
    carina_y = 0.33 * H
    tr_x = m - 0.004 * W
    sl, x, y = cv.window(m - 0.12 * W, 0, m + 0.14 * W, carina_y + 0.12 * H)
    trachea = (_ramp((0.015 * W - np.abs(x - tr_x)) / (2 * e)) * _ramp((carina_y - y) / e)
               * _ramp((y - 0.02 * H) / (4 * e)))
    for (bx, by), hwid in (((tr_x - 0.035 * W, carina_y + 0.04 * H), 0.011 * W),
                           ((tr_x + 0.045 * W, carina_y + 0.03 * H), 0.010 * W)):
        d = _segment_dist(x, y, (tr_x, carina_y - 0.015 * H), (bx, by))
        trachea = np.maximum(trachea, _ramp((hwid - d) / (2 * e)) * _ramp((y - carina_y + 0.02 * H) / e))
    cv.d[sl] -= 0.08 * trachea
    sl, x, y = cv.window(m - 0.045 * W, 0.03 * H, m + 0.045 * W, H)
    ph = (y / (0.042 * H)) % 1.0
    sdx = np.abs(x - m)
    spine = _ramp((0.032 * W - sdx) / (2 * e)) * (0.025 - 0.0075 * np.exp(-((ph - 0.5) / 0.09) ** 2))
    spine += 0.012 * np.exp(-(((sdx - 0.024 * W) / (0.006 * W)) ** 2)) * np.exp(-((ph - 0.25) / 0.14) ** 2)
    cv.d[sl] += spine * _ramp((y - 0.04 * H) / (4 * e))

    # gastric bubble under the image-right dome
    if bubble:
        cx, _, rx, _ = a.lungs[1]
        gx = cx + bub[0] * rx
        gy = float(a.dome_y(1, gx)) + 0.035 * H
        sl, x, y = cv.window(gx - 0.08 * W, gy - 0.05 * H, gx + 0.08 * W, gy + 0.05 * H)
        gb = _ellipse_on(x, y, gx, gy, 0.045 * W * bub[1], 0.028 * H, 3 * e) * _ramp((gy + 0.006 * H - y) / e)
        cv.d[sl] -= 0.17 * gb

    # bones: posterior ribs (bright cortex), anterior ribs fainter and softer, clavicles
    rib_w = 0.02 * H
    bones = cv.bands(post + post, [rib_w] * len(post) + [0.45 * rib_w] * len(post),
                     [1.0] * len(post) + [0.8] * len(post), scale=2)
    ant_l = cv.bands(ant, [0.026 * H] * len(ant), [1.0] * len(ant), scale=4)  # fainter, softer
    bod = np.minimum(body * 1.5, 1)
    ribs = bod * (0.2 + 0.8 * Lvis) * (1 - 0.4 * abd - 0.4 * med - 0.5 * heart) * _BONE * bones
    cv.d += ribs + bod * (0.35 + 0.65 * Lvis) * 0.05 * ant_l
    # clavicles: dense wherever they are (upper rows only)
    r_cl = min(cv.h, int(0.3 * H / cv.s))
    cla = cv.bands(clav + clav, [0.024 * H] * len(clav) + [0.012 * H] * len(clav),
                   [1.0] * len(clav) + [0.75] * len(clav), scale=2)
    cv.d[:r_cl] += 0.08 * bod[:r_cl] * cla[:r_cl]
    for s in (0, 1):  # humeral heads in the upper corners
        sl, mk = cv.ellipse(m + _side_out(s) * 0.5 * W, 0.15 * H, 0.06 * W, 0.055 * H, 4 * e)
        cv.d[sl] += 0.05 * mk

    # findings
    lung_soft = np.minimum(1.6 * L, 1) * (1 - 0.6 * heart)
    for f in findings:
        _draw_finding(cv, a, f, lung, lung_soft, air, ribs, rng, e)

    # film: mottle, tone curve (table), enlarge, Gaussian film noise (bytes -> table)
    dens = cv.d
    dens += 0.01 * mottle
    dens *= (_TONE_N - 1) / _TONE_FULL
    np.clip(dens, 0, _TONE_N - 1, out=dens)
    pim = Image.fromarray(_TONE_LUT[dens.astype(np.int32)], mode="L")
    if pim.size != (W, H):
        pim = pim.resize((cv.w * cv.s, cv.h * cv.s), Image.Resampling.BILINEAR).crop((0, 0, W, H))
    key = np.asarray(pim, dtype=np.uint16) << 8
    key |= np.frombuffer(rng.bytes(W * H), dtype=np.uint8).reshape(H, W)
    return _FILM_LUT[key]


def _ptx_region(cv: _Canvas, a: Anatomy, f: dict, lung: list, e: float):
    """(pleural space without lung markings, visceral pleural line) of a pneumothorax: the
    lung edge is the lung's own outline shrunk towards its base, so the line runs parallel
    to the chest wall, passing between the finding's centre and the hilum."""
    s = 0 if f["side"] == "right" else 1
    cx, cy, rx, ry = a.lungs[s]
    out = _side_out(s)
    ox, oy = cx - out * 0.3 * rx, cy + 0.45 * ry  # the lung collapses towards this point
    fx, fy = f["center_px"]
    fax, fay = f["axes_px"]
    # lung edge along the ray origin -> finding centre (1-D search on the envelope)
    t = np.linspace(0.3, 3.0, 400, dtype=np.float32)
    px, py = ox + t * (fx - ox), oy + t * (fy - oy)
    inside = np.diagonal(_lung_shape(a, s, px[None, :], py[:, None], 1e-3)) > 0.5
    t_edge = float(t[np.nonzero(inside)[0].max()]) if inside.any() else 1.2
    k = max(0.3, (1.0 - 0.45 * min(fax, fay) / math.hypot(fx - ox, fy - oy)) / t_edge)
    sl, x, y = cv.window(fx - 2.2 * fax, fy - 2.6 * fay, fx + 2.2 * fax, fy + 2.2 * fay)
    shrunk = _lung_shape(a, s, ox + (x - ox) / k, oy + (y - oy) / k, 1.2 * cv.s / k)
    box = _ellipse_on(x, y, fx + out * 0.3 * fax, fy - 0.5 * fay, 1.9 * fax, 2.3 * fay, 6 * e)
    lm = np.clip(1.5 * lung[s][sl], 0, 1) * box
    region = np.zeros((cv.h, cv.w), np.float32)
    line = np.zeros_like(region)
    region[sl] = lm * (1 - shrunk)
    line[sl] = lm * (4 * shrunk * (1 - shrunk)) ** 2
    return region, line


def _draw_finding(cv: _Canvas, a: Anatomy, f: dict, lung: list, lung_soft: np.ndarray, air: np.ndarray,
                  ribs: np.ndarray, rng: np.random.Generator, e: float) -> None:
    """Add finding ``f`` to the densities (``ribs``: the rib densities, dimmed under fluid)."""
    k = f["kind"]
    W, H = a.width, a.height
    (cx, cy), (rx, ry) = f["center_px"], f["axes_px"]
    s = 0 if f["side"] == "right" else 1
    if k == "effusion":
        # fluid fills the base up to a meniscus that climbs the lateral chest wall; it hides the
        # dome and blunts the costophrenic angle
        out = _side_out(s)
        sl, x, y = cv.window(cx - 1.6 * rx, cy - 2.2 * ry, cx + 2.0 * rx, cy + 2.5 * ry)
        lat = np.clip(((x - cx) * out / rx + 1) / 2, 0, 1.4)
        y_m = cy - 0.45 * ry - 1.3 * ry * lat ** 2
        medial = _ramp(((x - cx) * out + 1.25 * rx) / (0.3 * rx))
        fluid = np.clip((y - y_m) / (0.025 * H), 0, 1) ** 1.5 * medial  # replaces the air (recess too)
        amp = 0.88 if f["severity"] == "small" else 0.95
        cv.d[sl] += _LUNG_AIR * amp * fluid * air[sl]
        wet = fluid * np.minimum(3 * air[sl], 1)
        cv.d[sl] += 0.03 * wet - 0.6 * wet * ribs[sl]  # dense, homogeneous: the ribs fade
    elif k == "edema":
        amp = 0.12 if f["severity"] == "mild" else 0.18
        for side, (hx, hy) in enumerate(_hila(a)):
            lrx, lry = a.lungs[side][2], a.lungs[side][3]
            blob = np.exp(-(((cv.x - hx) / (0.75 * lrx)) ** 2) - ((cv.y - hy - 0.05 * lry) / (0.55 * lry)) ** 2)
            cv.d += amp * blob * lung_soft * (1 + 0.25 * _smooth_field(rng, cv.w, cv.h, 24))
        # Kerley B lines: short horizontal lines at the lateral bases
        polys = []
        for side in (0, 1):
            lcx, _, lrx, _ = a.lungs[side]
            out = _side_out(side)
            for _ in range(7 if f["severity"] != "mild" else 4):
                yb = float(a.domes[side][0]) - rng.uniform(0.01, 0.11) * H
                xw = lcx + out * (rng.uniform(0.85, 1.1) * lrx)
                polys.append(((xw, yb), (xw - out * rng.uniform(0.015, 0.03) * W, yb)))
        kl = _soften(cv.bands(polys, [max(1.0, 0.0025 * W)] * len(polys), [1.0] * len(polys)))
        cv.d += 0.09 * kl * lung_soft
    elif k in ("consolidation", "groundglass"):
        sl, x, y = cv.window(cx - 1.5 * rx, cy - 1.5 * ry, cx + 1.5 * rx, cy + 1.5 * ry)
        n1 = _smooth_field(rng, x.shape[1], y.shape[0], 5)
        n2 = _smooth_field(rng, x.shape[1], y.shape[0], 14)
        dist = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) * (1 + 0.22 * n1)
        blob = _ramp((1 - dist) / 0.3)
        if k == "consolidation":
            patch = blob * np.clip(0.8 + 0.35 * n2, 0, 1)
            amp = 0.3 if f["severity"] == "moderate" else 0.25
            dens = amp * patch
            if rng.random() < 0.6:  # air bronchograms
                out = _side_out(s)
                x0 = cx - out * 0.8 * rx
                polys = []
                for b in range(3):
                    ang = math.radians(rng.uniform(-35, 35))
                    p1 = (x0 + out * math.cos(ang) * 0.9 * rx, cy + math.sin(ang) * 0.9 * ry + (b - 1) * 0.25 * ry)
                    polys.append(((x0, cy + (b - 1) * 0.15 * ry), p1))
                br = _soften(cv.bands(polys, [0.006 * W] * 3, [1.0] * 3))[sl]
                dens -= 0.1 * br * blob ** 2
        else:
            dens = 0.13 * blob ** 0.7 * np.clip(0.85 + 0.3 * n2, 0, 1)
        cv.d[sl] += dens * lung_soft[sl]
    elif k == "atelectasis":
        sl, x, y = cv.window(cx - 1.4 * rx, cy - 1.4 * rx, cx + 1.4 * rx, cy + 1.4 * rx)
        ang = math.radians(f.get("angle_deg", 0.0))
        c, sn = math.cos(ang), math.sin(ang)
        u, v = c * (x - cx) + sn * (y - cy), -sn * (x - cx) + c * (y - cy)
        # plate-like band, thicker medially (a flattened wedge)
        t = np.clip(u / rx, -1, 1)
        half = ry * (0.75 + 0.25 * t * _side_out(s) * -1)
        band = _ramp((half - np.abs(v)) / (0.2 * ry)) * _ramp((1 - np.abs(u) / rx) * rx / (0.25 * rx))
        cv.d[sl] += 0.24 * band * lung_soft[sl]
    elif k in ("nodule", "mass"):
        sl, x, y = cv.window(cx - 1.4 * rx, cy - 1.4 * ry, cx + 1.4 * rx, cy + 1.4 * ry)
        th = np.arctan2(y - cy, x - cx)
        wob = 0.0 if k == "nodule" else (0.07 * np.sin(5 * th + float(rng.uniform(0, 6.3)))
                                         + 0.04 * np.sin(3 * th + float(rng.uniform(0, 6.3))))
        dist = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - wob
        sphere = np.sqrt(np.clip(1 - dist ** 2, 0, 1)) ** 0.5
        edge = _ramp((1 - dist) * rx / max(1.0, 0.7 * cv.s))
        cv.d[sl] += (0.22 if k == "nodule" else 0.27) * edge * (0.55 + 0.45 * sphere)
    elif k == "support_device":
        path = [tuple(p) for p in f["path_px"]]
        dev = f["device"]
        if dev == "endotracheal tube":
            tube = _soften(cv.bands([path], [0.016 * W], [1.0]))
            stripe = _soften(cv.bands([[(px + 0.004 * W, py) for px, py in path]], [0.005 * W], [1.0]))
            cv.d += 0.07 * tube + 0.35 * stripe
        elif dev == "enteric tube":
            tube = _soften(cv.bands([path], [0.006 * W], [1.0]))
            cv.d += 0.4 * tube
        else:
            tube = _soften(cv.bands([path], [0.0045 * W], [1.0]))
            cv.d += 0.45 * tube
    # cardiomegaly is drawn through the anatomy's heart size


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    """Baseline greyscale JPEG bytes with fixed settings (deterministic for a given libjpeg)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=int(quality), optimize=False,
                                        progressive=False)
    return buf.getvalue()
