"""The work grid of the phantoms (:class:`_Canvas`) and the array helpers they are drawn with.

Units: the canvas covers the film in **full-resolution pixel coordinates** (``x``, ``y`` are
pixel centres of the work grid, ``s`` film px per work pixel); values on it are **densities**
(attenuation units: 0 = air, 1 ~ full-thickness soft tissue of the trunk). Edge widths
(``edge``, ``e``) are in film pixels.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

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
