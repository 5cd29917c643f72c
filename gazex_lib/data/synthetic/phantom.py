"""Procedural chest-radiograph phantoms (greyscale uint8), vectorised numpy.

The picture is a sum of densities, like a projection radiograph: soft-tissue body, air-filled
lungs (dark) cut by diaphragm domes, mediastinum and heart (bright; the heart sits to the
patient's left = image right), spine, ribs, clavicles, lung markings, then the planted
findings at their ellipses (see :mod:`.anatomy`). It is drawn on a work grid of at most
640 columns and resized to the film size, then film noise is added at full resolution.
A 896 x 1120 film takes a few tens of milliseconds.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .anatomy import Anatomy

WORK_MAX_WIDTH = 640  # pixels of the work grid


def _ramp(z: np.ndarray) -> np.ndarray:
    """Soft step: 0 below -0.5, 1 above 0.5 (linear), float32."""
    return np.clip(z + 0.5, 0.0, 1.0, dtype=np.float32)


class _Canvas:
    """A work grid in *full-resolution pixel coordinates* (``x``: (1, w), ``y``: (h, 1))."""

    def __init__(self, width: int, height: int):
        self.s = max(1, math.ceil(width / WORK_MAX_WIDTH))
        self.w, self.h = math.ceil(width / self.s), math.ceil(height / self.s)
        self.x = ((np.arange(self.w, dtype=np.float32) + 0.5) * self.s)[None, :]
        self.y = ((np.arange(self.h, dtype=np.float32) + 0.5) * self.s)[:, None]
        self.d = np.full((self.h, self.w), 0.03, dtype=np.float32)  # density

    def window(self, x0: float, y0: float, x1: float, y1: float):
        """Slices and sub-grids of the work grid covering the pixel box (clipped)."""
        c0, c1 = max(0, int(x0 // self.s)), min(self.w, int(x1 // self.s) + 2)
        r0, r1 = max(0, int(y0 // self.s)), min(self.h, int(y1 // self.s) + 2)
        return (slice(r0, r1), slice(c0, c1)), self.x[:, c0:c1], self.y[r0:r1, :]

    def ellipse(self, cx, cy, rx, ry, edge, angle_deg=0.0, pad=1.3, full=False, power=2.0):
        """Soft ellipse mask; returns (slices, mask) over its bounding box (or the whole grid)."""
        r = max(rx, ry) * pad + edge
        sl, x, y = (self.window(cx - r, cy - r, cx + r, cy + r) if not full
                    else ((slice(None), slice(None)), self.x, self.y))
        return sl, _ellipse_on(x, y, cx, cy, rx, ry, edge, angle_deg, power)


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
    ch = max(2, round(cells * h / w))
    small = rng.uniform(-1, 1, size=(ch, cells)).astype(np.float32)
    img = Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(img), -1, 1)


def render(anatomy: Anatomy, findings: list[dict], rng: np.random.Generator) -> np.ndarray:
    """The phantom as a ``(height, width)`` uint8 array (0 black = air)."""
    a = anatomy
    W, H = a.width, a.height
    cv = _Canvas(W, H)
    X, Y = cv.x, cv.y
    e = 0.006 * W  # edge softness (px)
    kinds = {f["kind"]: f for f in findings}

    # body and lungs
    bx, by, brx, bry = a.body
    sl, m = cv.ellipse(bx, by, brx, bry, 0.02 * W, full=True, power=3.0)
    cv.d += 0.33 * m
    lung = []
    for s in (0, 1):
        cx, cy, rx, ry = a.lungs[s]
        _, m = cv.ellipse(cx, cy, rx, ry, e, full=True)
        m *= _ramp((a.dome_y(s, X) - Y) / e)
        lung.append(m)
    L = lung[0] + lung[1]
    cv.d -= 0.25 * L

    # lung markings (vessels), stronger near the hila; absent in a pneumothorax
    M = 0.5 + 0.5 * _smooth_field(rng, cv.w, cv.h, 48)
    hil = sum(np.exp(-((X - a.lungs[s][0] - (1 if s == 0 else -1) * 0.55 * a.lungs[s][2]) / (0.5 * a.lungs[s][2])) ** 2
                     - ((Y - a.lungs[s][1]) / (0.5 * a.lungs[s][3])) ** 2) for s in (0, 1))
    markings = L * (0.04 + 0.09 * hil) * M ** 1.5
    if "pneumothorax" in kinds:
        f = kinds["pneumothorax"]
        s = 0 if f["side"] == "right" else 1
        cx, cy, rx, ry = a.lungs[s]
        pcx, pcy = cx - (1 if s == 0 else -1) * 0.1 * rx, cy + 0.15 * ry
        fx, fy = f["center_px"]
        R = math.hypot(fx - pcx, fy - pcy) - 0.3 * min(f["axes_px"])
        dist = np.sqrt((X - pcx) ** 2 + (Y - pcy) ** 2)
        _, box = cv.ellipse(fx, fy, f["axes_px"][0] * 1.5, f["axes_px"][1] * 1.5, 3 * e, full=True)
        region = lung[s] * box * _ramp((dist - R) / (0.3 * e))
        markings *= 1 - region
        cv.d += -0.07 * region + 0.12 * lung[s] * box * np.exp(-((dist - R) / (0.25 * e + 0.5 * cv.s)) ** 2)
    cv.d += markings

    # mediastinum, heart, spine, trachea
    hw = a.mediastinum_half_width
    cv.d += 0.2 * _ramp((hw - np.abs(X - a.spine_x)) / e) * _ramp((0.62 * H - Y) / (3 * e))
    hx, hy, hrx, hry = a.heart
    sl, m = cv.ellipse(hx, hy, hrx, hry, 1.5 * e)
    cv.d[sl] += 0.27 * m
    vert = 0.8 + 0.2 * np.cos(2 * np.pi * Y / (0.045 * H))
    cv.d += 0.13 * _ramp((0.032 * W - np.abs(X - a.spine_x)) / e) * vert
    cv.d -= 0.12 * _ramp((0.013 * W - np.abs(X - a.spine_x)) / (0.5 * e)) * _ramp((0.3 * H - Y) / e)

    # ribs: posterior arcs, each only over its band of rows
    for s in (-1, 1):
        for i in range(10):
            y0 = (0.13 + 0.057 * i) * H
            sl, x, y = cv.window(0, y0 - 0.06 * H, W, y0 + 0.04 * H)
            dx = (x - a.spine_x) * s / W
            yc = y0 + H * (1.8 * (dx - 0.14) ** 2 - 0.035)
            inside = _ramp((dx - 0.035) / 0.01) * _ramp((0.43 - dx) / 0.02)
            cv.d[sl] += 0.085 * inside * np.clip(1 - np.abs(y - yc) / (0.011 * H), 0, 1) ** 0.5
        # clavicle
        sl, x, y = cv.window(0, 0.04 * H, W, 0.24 * H)
        dx = (x - a.spine_x) * s / W
        yc = (0.17 - 0.17 * (dx - 0.05)) * H
        cv.d[sl] += 0.12 * _ramp((dx - 0.05) / 0.01) * _ramp((0.36 - dx) / 0.01) * np.clip(
            1 - np.abs(y - yc) / (0.013 * H), 0, 1)

    # findings
    lung_soft = np.clip(1.5 * L, 0, 1)
    for f in findings:
        _draw_finding(cv, a, f, lung, lung_soft, rng, e)

    img = np.clip(cv.d, 0, 1) ** 0.85
    img = img * 235 + 8
    if cv.s > 1 or img.shape != (H, W):
        img = np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((W, H), Image.Resampling.BILINEAR))
    img = img + rng.standard_normal((H, W), dtype=np.float32) * 2.0
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _draw_finding(cv: _Canvas, a: Anatomy, f: dict, lung: list, lung_soft: np.ndarray,
                  rng: np.random.Generator, e: float) -> None:
    k = f["kind"]
    (cx, cy), (rx, ry) = f["center_px"], f["axes_px"]
    s = 0 if f["side"] == "right" else 1
    if k == "effusion":
        out = -1 if s == 0 else 1
        sl, x, y = cv.window(cx - 1.4 * rx, cy - 1.4 * ry, cx + 1.4 * rx, cy + 1.6 * ry)
        lat = np.clip(((x - cx) * out / rx + 1) / 2, 0, 1)
        y_m = cy + 0.25 * ry - 1.1 * ry * lat ** 2
        box = _ellipse_on(x, y, cx, cy, rx * 1.25, ry * 1.6, 2 * e)
        fluid = lung[s][sl] * _ramp((y - y_m) / e) * box
        cv.d[sl] += (0.3 if f["severity"] == "small" else 0.34) * fluid
    elif k == "edema":
        amp = 0.14 if f["severity"] == "mild" else 0.2
        for side in (0, 1):
            lx, ly, lrx, lry = a.lungs[side]
            hx = lx + (1 if side == 0 else -1) * 0.4 * lrx
            blob = np.exp(-((cv.x - hx) / (0.45 * lrx)) ** 2 - ((cv.y - ly) / (0.5 * lry)) ** 2)
            cv.d += amp * blob * lung_soft
    elif k in ("consolidation", "groundglass", "atelectasis"):
        edge = (0.25 if k != "atelectasis" else 0.15) * min(rx, ry)
        sl, m = cv.ellipse(cx, cy, rx, ry, edge, f.get("angle_deg", 0.0))
        tex = 0.75 + 0.25 * _smooth_field(rng, m.shape[1], m.shape[0], 6)
        amp = {"consolidation": 0.24, "groundglass": 0.09, "atelectasis": 0.2}[k]
        if k == "groundglass":
            m = m ** 0.5 * tex
        cv.d[sl] += amp * m * tex * lung_soft[sl]
    elif k in ("nodule", "mass"):
        sl, x, y = cv.window(cx - 1.3 * rx, cy - 1.3 * ry, cx + 1.3 * rx, cy + 1.3 * ry)
        th = np.arctan2(y - cy, x - cx)
        wob = 0.0 if k == "nodule" else 0.08 * np.sin(5 * th + float(rng.uniform(0, 6.3)))
        dist = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - wob
        cv.d[sl] += (0.2 if k == "nodule" else 0.27) * _ramp((1 - dist) * rx / max(1.0, 0.6 * cv.s))
    elif k == "support_device":
        path = np.asarray(f["path_px"], dtype=float) / cv.s
        canvas = Image.new("L", (cv.w, cv.h), 0)
        width = max(1, round(0.005 * a.width / cv.s))
        if f["device"] == "endotracheal tube":
            width = max(2, round(0.012 * a.width / cv.s))
        ImageDraw.Draw(canvas).line([tuple(p) for p in path], fill=255, width=width, joint="curve")
        amp = 0.3 if f["device"] == "endotracheal tube" else 0.5
        cv.d += amp / 255.0 * np.asarray(canvas, dtype=np.float32)
    # cardiomegaly is drawn through the anatomy's heart size


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    """Baseline greyscale JPEG bytes with fixed settings (deterministic for a given libjpeg)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=int(quality), optimize=False,
                                        progressive=False)
    return buf.getvalue()
