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
* the planted findings at their ellipses (see :mod:`.anatomy`), each drawn by its kind's
  painter in :mod:`.findings_paint`.

Everything is drawn on a work grid of at most :data:`WORK_MAX_WIDTH` columns in full-resolution
pixel coordinates, tone-mapped, resized to the film size and given film noise. The anatomy's
random texture is drawn from ``rng`` *before* the findings, so a phantom with and without a
finding share the same anatomy. Thin structures (vessels, ribs, devices) are rasterised as
splatted points or PIL polygons, the film noise comes from random bytes through a table: a
896 x 1120 film takes ~60-80 ms on one core, a 2544 x 3056 one ~0.25 s.

Modules: :mod:`._canvas` (the work grid and array helpers), :mod:`._thorax` (the anatomy's
geometry), :mod:`.findings_paint` (the finding painters), this one (:func:`render`, the
film's tone curve and noise, :func:`encode_jpeg`).

Units: film pixels (full resolution) for every position and size; densities in attenuation
units (0 = air, 1 ~ trunk soft tissue); the output is uint8 grey (0 = black = air).
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ._canvas import (  # noqa: F401  (WORK_MAX_WIDTH: importable from here as before)
    _BODY, _BONE, _LUNG_AIR, WORK_MAX_WIDTH, _blur_f, _Canvas, _ellipse_on, _ramp,
    _segment_dist, _smooth_field, _smoothstep,
)
from ._thorax import (
    _body, _draw_vessels, _heart_mask, _hila, _lung_shape, _mediastinum, _rib_curves,
    _side_out, _vessel_tree,
)
from .anatomy import Anatomy
from .findings_paint import AMPLITUDE_GAIN, Scene, check_kinds, paint_finding, pleural_space

__all__ = ["WORK_MAX_WIDTH", "render", "encode_jpeg"]


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


def render(anatomy: Anatomy, findings: list[dict], rng: np.random.Generator) -> np.ndarray:
    """The phantom as a ``(height, width)`` uint8 array (0 black = air), ``anatomy.width``
    by ``anatomy.height`` film pixels, with ``findings`` (:func:`.anatomy.plant_findings`)
    drawn in order. A finding kind without a painter raises ``ValueError`` before anything
    is drawn."""
    check_kinds(findings)
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
            region, line = pleural_space(cv, a, f, lung, e)
            markings *= 1 - region
            cv.d += -0.12 * AMPLITUDE_GAIN["pneumothorax"] * region + 0.22 * line
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
    scene = Scene(cv=cv, a=a, lung=lung, lung_soft=lung_soft, air=air, ribs=ribs, rng=rng, e=e)
    for f in findings:
        paint_finding(scene, f)

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


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    """Baseline greyscale JPEG bytes with fixed settings (deterministic for a given libjpeg)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=int(quality), optimize=False,
                                        progressive=False)
    return buf.getvalue()
