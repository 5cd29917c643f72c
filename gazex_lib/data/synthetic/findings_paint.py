"""Painters of the planted findings on a phantom, one per finding kind, in a registry.

A painter is registered for its kind(s) with :func:`painter` and called by
:func:`paint_finding` as ``fn(scene, finding)``: it adds the finding to the densities
``scene.cv.d`` in place. ``finding`` is a dict of :func:`.anatomy.plant_findings`
(``kind``, ``center_px``, ``axes_px``, ``side``, ``severity``, for devices ``device`` and
``path_px``). Every kind of :data:`.anatomy.KINDS` has a painter; an unknown kind raises a
``ValueError`` naming it and the known kinds (:func:`check_kinds`).

Units: positions and sizes in **full-resolution film pixels**; densities in attenuation
units (see :mod:`._canvas`). Painters draw from ``scene.rng`` in a fixed order, so a film is
reproducible byte for byte.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._canvas import _LUNG_AIR, _Canvas, _ellipse_on, _ramp, _smooth_field, _soften
from ._thorax import _hila, _lung_shape, _side_out
from .anatomy import EDEMA_BASAL_V, Anatomy


@dataclass
class Scene:
    """What the painters draw on and with (all arrays on the work grid of ``cv``)."""
    cv: _Canvas                  #: the canvas; painters add to ``cv.d`` (densities)
    a: Anatomy
    lung: list                   #: the two lung masks (image-left, image-right), in [0, 1]
    lung_soft: np.ndarray        #: lungs, softened and partly hidden behind the heart
    air: np.ndarray              #: the lung air taken off the densities (before findings)
    ribs: np.ndarray             #: the rib densities (dimmed under fluid)
    rng: np.random.Generator
    e: float                     #: edge softness (film px)


#: Extra amplitude (a simulation constant, not a config value) of the kinds that were too faint
#: to see once the ci film (896 x 1120) is shrunk to what a model sees (224 x 280 or 112 x 140).
#: Measured with :func:`.conspicuity.measure_kinds` (single-finding films, seeds 0-11, medians):
#: ``signal`` = mean grey change inside the ellipse at 1/4 scale, ``cnr`` = |signal| / grey std
#: of the film without the finding inside the ellipse (generator 3 -> 4; at 1/8 scale within 3
#: grey levels of these, except the thin devices)::
#:
#:     kind            signal v3  cnr v3   signal v4  cnr v4
#:     effusion             66.4    1.34        66.4    1.34
#:     pneumothorax        -16.4    0.36       -33.7    1.42   gain 2 (and lateral ones)
#:     edema                14.7    0.23        30.0    0.47   gain 2 (its ellipse spans the heart)
#:     atelectasis          41.6    0.85        55.9    1.77
#:     consolidation        57.4    2.33        56.4    2.29
#:     groundglass          27.8    0.99        36.1    1.28   gain 1.3 (still the faintest opacity)
#:     nodule               56.0    3.90        55.9    3.77
#:     mass                 69.9    3.66        69.6    3.64
#:     support_device       49.5    1.65        49.4    1.69   (31 at 1/8 scale)
#:
#: ``tests/test_phantom.py`` asserts |signal| >= 25 at 1/4 scale for every painted kind
#: (cardiomegaly is drawn by the anatomy's heart; its ratio is tested on the pixels).
AMPLITUDE_GAIN: dict[str, float] = {"edema": 2.0, "pneumothorax": 2.0, "groundglass": 1.3}

Painter = Callable[[Scene, dict], None]
_PAINTERS: dict[str, Painter] = {}


def painter(*kinds: str) -> Callable[[Painter], Painter]:
    """Register the decorated function as the painter of ``kinds``."""
    def register(fn: Painter) -> Painter:
        for kind in kinds:
            if kind in _PAINTERS:
                raise ValueError(f"finding kind {kind!r} already has a painter "
                                 f"({_PAINTERS[kind].__name__})")
            _PAINTERS[kind] = fn
        return fn
    return register


def known_kinds() -> list[str]:
    """The finding kinds that have a painter, sorted."""
    return sorted(_PAINTERS)


def check_kinds(findings: list[dict]) -> None:
    """Raise ``ValueError`` naming the first finding kind without a painter."""
    for f in findings:
        if f["kind"] not in _PAINTERS:
            raise ValueError(f"unknown finding kind {f['kind']!r}; known kinds: {known_kinds()}")


def paint_finding(scene: Scene, f: dict) -> None:
    """Add finding ``f`` to ``scene.cv.d`` with its kind's painter."""
    check_kinds([f])
    _PAINTERS[f["kind"]](scene, f)


def _geometry(f: dict):
    """``(cx, cy), (rx, ry), s``: the finding's centre and semi-axes (px) and lung side."""
    return f["center_px"], f["axes_px"], 0 if f["side"] == "right" else 1


# ------------------------------------------------------------------------ painters
@painter("cardiomegaly")
def _cardiomegaly(scene: Scene, f: dict) -> None:
    """Nothing to add: drawn through the anatomy's heart size (``make_anatomy``)."""


@painter("pneumothorax")
def _pneumothorax(scene: Scene, f: dict) -> None:
    """Nothing to add here: drawn with the lung markings (:func:`pleural_space`, called by
    ``render`` before the markings are added)."""


@painter("effusion")
def _effusion(scene: Scene, f: dict) -> None:
    # fluid fills the base up to a meniscus that climbs the lateral chest wall; it hides the
    # dome and blunts the costophrenic angle
    cv, H = scene.cv, scene.a.height
    (cx, cy), (rx, ry), s = _geometry(f)
    out = _side_out(s)
    sl, x, y = cv.window(cx - 1.6 * rx, cy - 2.2 * ry, cx + 2.0 * rx, cy + 2.5 * ry)
    lat = np.clip(((x - cx) * out / rx + 1) / 2, 0, 1.4)
    y_m = cy - 0.45 * ry - 1.3 * ry * lat ** 2
    medial = _ramp(((x - cx) * out + 1.25 * rx) / (0.3 * rx))
    fluid = np.clip((y - y_m) / (0.025 * H), 0, 1) ** 1.5 * medial  # replaces the air (recess too)
    amp = 0.88 if f["severity"] == "small" else 0.95
    cv.d[sl] += _LUNG_AIR * amp * fluid * scene.air[sl]
    wet = fluid * np.minimum(3 * scene.air[sl], 1)
    cv.d[sl] += 0.03 * wet - 0.6 * wet * scene.ribs[sl]  # dense, homogeneous: the ribs fade


@painter("edema")
def _edema(scene: Scene, f: dict) -> None:
    """Bilateral hazy opacity, perihilar (zone ``mid``) or basal-predominant (``lower``), and
    Kerley B lines at the lateral bases."""
    cv, a, rng = scene.cv, scene.a, scene.rng
    W, H = a.width, a.height
    amp = (0.12 if f["severity"] == "mild" else 0.18) * AMPLITUDE_GAIN["edema"]
    for side, (hx, hy) in enumerate(_hila(a)):
        lrx, lry = a.lungs[side][2], a.lungs[side][3]
        if f.get("zone") == "lower":
            bx, by = a.lung_point(side, EDEMA_BASAL_V, 0.1)
            blob = np.exp(-(((cv.x - bx) / (0.8 * lrx)) ** 2) - ((cv.y - by) / (0.3 * lry)) ** 2)
        else:
            blob = np.exp(-(((cv.x - hx) / (0.75 * lrx)) ** 2) - ((cv.y - hy - 0.05 * lry) / (0.55 * lry)) ** 2)
        cv.d += amp * blob * scene.lung_soft * (1 + 0.25 * _smooth_field(rng, cv.w, cv.h, 24))
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
    cv.d += 0.09 * kl * scene.lung_soft


@painter("consolidation", "groundglass")
def _opacity(scene: Scene, f: dict) -> None:
    """Airspace opacity: dense and patchy with air bronchograms (consolidation), or faint
    (groundglass)."""
    cv, rng, W = scene.cv, scene.rng, scene.a.width
    (cx, cy), (rx, ry), s = _geometry(f)
    sl, x, y = cv.window(cx - 1.5 * rx, cy - 1.5 * ry, cx + 1.5 * rx, cy + 1.5 * ry)
    n1 = _smooth_field(rng, x.shape[1], y.shape[0], 5)
    n2 = _smooth_field(rng, x.shape[1], y.shape[0], 14)
    dist = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) * (1 + 0.22 * n1)
    blob = _ramp((1 - dist) / 0.3)
    if f["kind"] == "consolidation":
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
        dens = 0.13 * AMPLITUDE_GAIN["groundglass"] * blob ** 0.7 * np.clip(0.85 + 0.3 * n2, 0, 1)
    cv.d[sl] += dens * scene.lung_soft[sl]


@painter("atelectasis")
def _atelectasis(scene: Scene, f: dict) -> None:
    cv = scene.cv
    (cx, cy), (rx, ry), s = _geometry(f)
    sl, x, y = cv.window(cx - 1.4 * rx, cy - 1.4 * rx, cx + 1.4 * rx, cy + 1.4 * rx)
    ang = math.radians(f.get("angle_deg", 0.0))
    c, sn = math.cos(ang), math.sin(ang)
    u, v = c * (x - cx) + sn * (y - cy), -sn * (x - cx) + c * (y - cy)
    # plate-like band, thicker medially (a flattened wedge)
    t = np.clip(u / rx, -1, 1)
    half = ry * (0.75 + 0.25 * t * _side_out(s) * -1)
    band = _ramp((half - np.abs(v)) / (0.2 * ry)) * _ramp((1 - np.abs(u) / rx) * rx / (0.25 * rx))
    cv.d[sl] += 0.24 * band * scene.lung_soft[sl]


@painter("nodule", "mass")
def _lesion(scene: Scene, f: dict) -> None:
    """A round, well-defined nodule or a larger lobulated mass."""
    cv, rng, k = scene.cv, scene.rng, f["kind"]
    (cx, cy), (rx, ry), _ = _geometry(f)
    sl, x, y = cv.window(cx - 1.4 * rx, cy - 1.4 * ry, cx + 1.4 * rx, cy + 1.4 * ry)
    th = np.arctan2(y - cy, x - cx)
    wob = 0.0 if k == "nodule" else (0.07 * np.sin(5 * th + float(rng.uniform(0, 6.3)))
                                     + 0.04 * np.sin(3 * th + float(rng.uniform(0, 6.3))))
    dist = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - wob
    sphere = np.sqrt(np.clip(1 - dist ** 2, 0, 1)) ** 0.5
    edge = _ramp((1 - dist) * rx / max(1.0, 0.7 * cv.s))
    cv.d[sl] += (0.22 if k == "nodule" else 0.27) * edge * (0.55 + 0.45 * sphere)


@painter("support_device")
def _support_device(scene: Scene, f: dict) -> None:
    """The device's polyline ``path_px``: an endotracheal tube (wide, with a radiopaque
    stripe), an enteric tube or a central line (thin, bright)."""
    cv, W = scene.cv, scene.a.width
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


# ------------------------------------------------------------------------ pneumothorax
def pleural_space(cv: _Canvas, a: Anatomy, f: dict, lung: list, e: float):
    """(pleural space without lung markings, visceral pleural line) of a pneumothorax, both
    in [0, 1] on the work grid: the lung edge is the lung's own outline shrunk towards its
    base, so the line runs parallel to the chest wall, passing between the finding's centre
    and the hilum; an apical space (zone ``upper``) reaches up to the apex, a lateral one
    (``mid``) runs along the chest wall around the finding."""
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
    if f.get("zone") == "mid":  # lateral: the space runs along the chest wall, centred on the finding
        box = _ellipse_on(x, y, fx + out * 0.3 * fax, fy, 1.9 * fax, 1.9 * fay, 6 * e)
    else:  # apical cap
        box = _ellipse_on(x, y, fx + out * 0.3 * fax, fy - 0.5 * fay, 1.9 * fax, 2.3 * fay, 6 * e)
    lm = np.clip(1.5 * lung[s][sl], 0, 1) * box
    region = np.zeros((cv.h, cv.w), np.float32)
    line = np.zeros_like(region)
    region[sl] = lm * (1 - shrunk)
    line[sl] = lm * (4 * shrunk * (1 - shrunk)) ** 2
    return region, line
