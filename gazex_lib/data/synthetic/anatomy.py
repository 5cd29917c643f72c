"""Anatomy of one phantom chest radiograph, the findings planted in it, and gaze regions.

All coordinates are original-image pixels ``(x, y)``, x to the right, y down; the patient
faces the viewer (PA convention), so the patient's *right* lung is on the image *left*.
An :class:`Anatomy` is drawn from the image's RNG; :func:`plant_findings` places 0-3
findings where they really occur (effusion at a base, pneumothorax apical or lateral, ...), each
as an ellipse ``center_px`` +- ``axes_px`` that both the phantom (:mod:`.phantom`) and the
readers' ellipses (:mod:`.radiologists`) use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


#: Finding kinds: REFLACX label in phase 1 and in phases 2-3, the CheXbert label, how
#: conspicuous the finding is (drives miss probability and certainty), ABCDE order key.
KINDS: dict[str, dict] = {
    "support_device": dict(labels=("Support devices", "Support devices"), chexbert="Support Devices",
                           conspicuity=0.97, order=4.0),
    "effusion": dict(labels=("Pleural effusion", "Pleural abnormality"), chexbert="Pleural Effusion",
                     conspicuity=0.9, order=3.0),
    "cardiomegaly": dict(labels=("Enlarged cardiac silhouette", "Enlarged cardiac silhouette"),
                         chexbert="Cardiomegaly", conspicuity=0.95, order=2.0),
    "atelectasis": dict(labels=("Atelectasis", "Atelectasis"), chexbert="Atelectasis",
                        conspicuity=0.7, order=1.7),
    "consolidation": dict(labels=("Consolidation", "Consolidation"), chexbert="Consolidation",
                          conspicuity=0.85, order=1.3),
    "edema": dict(labels=("Pulmonary edema", "Pulmonary edema"), chexbert="Edema",
                  conspicuity=0.85, order=1.5),
    "groundglass": dict(labels=("Groundglass opacity", "Groundglass opacity"), chexbert="Lung Opacity",
                        conspicuity=0.7, order=1.3),
    "nodule": dict(labels=("Nodule", "Lung nodule or mass"), chexbert="Lung Lesion",
                   conspicuity=0.7, order=1.3),
    "pneumothorax": dict(labels=("Pneumothorax", "Pneumothorax"), chexbert="Pneumothorax",
                         conspicuity=0.75, order=1.0),
    "mass": dict(labels=("Mass", "Lung nodule or mass"), chexbert="Lung Lesion",
                 conspicuity=0.9, order=1.3),
}

_KIND_WEIGHTS = {"support_device": 0.20, "effusion": 0.15, "cardiomegaly": 0.13, "atelectasis": 0.12,
                 "consolidation": 0.10, "edema": 0.08, "groundglass": 0.07, "nodule": 0.06,
                 "pneumothorax": 0.05, "mass": 0.04}
_N_FINDINGS_P = (0.25, 0.35, 0.25, 0.15)  # P(0, 1, 2, 3 planted findings)
_ZONE_V = {"upper": 0.25, "mid": 0.47, "lower": 0.68}  # share of lung height from the apex
EDEMA_BASAL_V = 0.8    # basal-predominant edema: its centre, as a share of lung height
LEFT_LINE_PROB = 0.35  # central lines through the left internal jugular vein


def reflacx_label(kind: str, phase: int) -> str:
    """The REFLACX label column of a finding kind in ``phase``."""
    return KINDS[kind]["labels"][0 if phase == 1 else 1]


@dataclass(frozen=True)
class Anatomy:
    """Geometry of one phantom (pixels). Lungs are ellipses cut by diaphragm domes.

    ``lungs[s] = (cx, cy, rx, ry)`` with ``s = 0`` the image-left (patient right) lung;
    ``domes[s] = (y_top, height)``: the dome's apex height and its rise over the lung width;
    ``heart = (cx, cy, rx, ry)``; ``chest_box = (xmin, ymin, xmax, ymax)``.
    """

    width: int
    height: int
    lungs: tuple[tuple[float, float, float, float], tuple[float, float, float, float]]
    domes: tuple[tuple[float, float], tuple[float, float]]
    heart: tuple[float, float, float, float]
    mediastinum_half_width: float
    spine_x: float
    body: tuple[float, float, float, float]
    chest_box: tuple[float, float, float, float]

    def to_dict(self) -> dict:
        r = lambda t: [round(float(v), 1) for v in t]  # noqa: E731
        return {"lungs": [r(l) for l in self.lungs], "domes": [r(d) for d in self.domes],
                "heart": r(self.heart), "mediastinum_half_width": round(self.mediastinum_half_width, 1),
                "spine_x": round(self.spine_x, 1), "body": r(self.body), "chest_box": r(self.chest_box)}

    def lung_point(self, side: int, v: float, lateral: float = 0.0) -> tuple[float, float]:
        """A point of lung ``side`` at share ``v`` of its height (0 apex) and ``lateral`` in
        [-1, 1] of its half-width (+1 = towards the chest wall)."""
        cx, cy, rx, ry = self.lungs[side]
        top = cy - ry
        y = top + v * (self.dome_y(side, cx) - top)
        out = -1.0 if side == 0 else 1.0
        dy = (y - cy) / ry
        half = rx * np.sqrt(max(1.0 - dy * dy, 0.05))
        return cx + out * lateral * half * 0.8, y

    def dome_y(self, side: int, x: float | np.ndarray) -> float | np.ndarray:
        """Height of diaphragm dome ``side`` at column ``x`` (the lung ends above it)."""
        cx, _, rx, _ = self.lungs[side]
        top, rise = self.domes[side]
        d = (np.asarray(x, dtype=float) - cx) / (1.15 * rx)
        return top + rise * np.minimum(d * d, 1.5)


def make_anatomy(rng: np.random.Generator, width: int, height: int, enlarged_heart: bool) -> Anatomy:
    """Draw one plausible adult PA/AP chest geometry (small per-image variation)."""
    W, H = float(width), float(height)
    j = lambda s: float(rng.normal(0.0, s))  # noqa: E731
    mid = 0.5 * W + j(0.006 * W)
    lung_rx, lung_ry = (0.165 + j(0.008)) * W, (0.315 + j(0.012)) * H
    lung_cy = (0.44 + j(0.01)) * H
    gap = (0.19 + j(0.006)) * W
    lungs = ((mid - gap, lung_cy, lung_rx, lung_ry), (mid + gap, lung_cy + 0.01 * H, lung_rx * 0.97, lung_ry))
    base = lung_cy + 0.82 * lung_ry
    domes = ((base - 0.045 * H, 0.07 * H), (base - 0.03 * H, 0.07 * H))  # patient right dome higher
    # cardiac silhouette: about 1/3 of its width left of the midline; CTR ~0.45 (enlarged ~0.6)
    scale = 1.0 if not enlarged_heart else 1.35 + j(0.04)
    hrx, hry = (0.165 + j(0.006)) * W * scale, (0.115 + j(0.005)) * H * min(scale, 1.15)
    thorax = lungs[1][0] + 1.12 * lungs[1][2] - (lungs[0][0] - 1.12 * lungs[0][2])  # inner width at the bases
    lo, hi = (0.285, 0.36) if enlarged_heart else (0.19, 0.25)  # CTR 0.57-0.72, or 0.38-0.5
    hrx = float(np.clip(hrx, lo * thorax, hi * thorax))
    heart = (mid + (0.055 + j(0.005)) * W * scale, domes[1][0] + 0.02 * H - hry + j(0.005) * H, hrx, hry)
    body = (mid, 0.56 * H, (0.47 + j(0.01)) * W, 0.62 * H)
    xmin = lungs[0][0] - 1.12 * lung_rx - 0.01 * W
    xmax = lungs[1][0] + 1.12 * lungs[1][2] + 0.01 * W
    ymin = lung_cy - lung_ry - 0.02 * H
    ymax = max(domes[0][0] + domes[0][1], domes[1][0] + domes[1][1]) + 0.01 * H
    return Anatomy(width, height, lungs, domes, heart, (0.06 + j(0.004)) * W, mid, body,
                   (xmin, ymin, xmax, ymax))


def choose_kinds(rng: np.random.Generator) -> list[str]:
    """Draw 0-3 distinct finding kinds (never both ``nodule`` and ``mass``)."""
    n = int(rng.choice(len(_N_FINDINGS_P), p=_N_FINDINGS_P))
    names = list(_KIND_WEIGHTS)
    p = np.array([_KIND_WEIGHTS[k] for k in names])
    kinds: list[str] = []
    while len(kinds) < n:
        k = names[int(rng.choice(len(names), p=p / p.sum()))]
        if k in kinds or {k, *kinds} >= {"nodule", "mass"}:
            continue
        kinds.append(k)
    return kinds


def plant_findings(rng: np.random.Generator, anatomy: Anatomy, kinds: list[str]) -> list[dict]:
    """Place findings of the given ``kinds``; returns JSON-ready dicts in ABCDE order.

    Each finding has ``kind``, ``chexbert_label``, ``reflacx_labels`` (by phase ``"1"``,
    ``"2"``, ``"3"``), ``side`` (the patient's: ``right`` = image left; or ``bilateral`` /
    ``null``), ``zone``, ``severity``, ``center_px``, ``axes_px`` (semi-axes), ``angle_deg``
    and, for devices, ``device`` and ``path_px`` (the polyline drawn). A ``cardiomegaly``
    finding needs an anatomy made with ``enlarged_heart=True``.

    Where each kind goes (all drawn from ``rng``; sides are equally likely unless stated), so
    that the kind alone does not locate a finding wherever anatomy allows it to vary:

    * ``effusion``: right or left base (zone ``lower`` always: fluid lies at a base), its
      height by severity.
    * ``pneumothorax``: right or left; apical cap (``upper``, 60 %) or lateral along the chest
      wall at mid height (``mid``, 40 %).
    * ``edema``: bilateral; perihilar (``mid``, 60 %) or basal-predominant (``lower``, 40 %).
    * ``atelectasis``: right or left, plate-like; at the base (``lower``, 65 %) or in the mid
      zone (``mid``, 35 %), medial to lateral, tilted +-12 degrees.
    * ``consolidation``, ``groundglass``, ``nodule``, ``mass``: right or left, any zone
      (``upper``/``mid``/``lower`` equally), anywhere within the zone's height (+-0.08 of lung
      height) and from medial to lateral (nodules and masses up to near the chest wall).
    * ``support_device``: a central line through the right (65 %) or left internal jugular
      vein (side ``right``/``left``, tip in the SVC), or an endotracheal or enteric tube
      (midline, no side: where a tube is is fixed by anatomy).
    * ``cardiomegaly``: the heart (no side, no zone): fixed by anatomy.
    """
    out = [_place(rng, anatomy, k) for k in kinds]
    out.sort(key=lambda f: (KINDS[f["kind"]]["order"], f["center_px"][1]))
    return out


def _place(rng: np.random.Generator, a: Anatomy, kind: str) -> dict:
    W, H = a.width, a.height
    s = int(rng.integers(2))
    side = ("right", "left")[s]
    zone = severity = None
    angle = 0.0
    extra: dict = {}
    if kind == "cardiomegaly":
        cx, cy, rx, ry = a.heart
        side, severity = None, str(rng.choice(["mild", "moderate"]))
    elif kind == "effusion":
        severity = str(rng.choice(["small", "moderate"], p=[0.65, 0.35]))
        depth = (0.07 if severity == "small" else 0.12) * H
        lx = a.lungs[s][0] + (-1 if s == 0 else 1) * 0.35 * a.lungs[s][2]
        top = float(a.dome_y(s, lx)) + 0.02 * H
        cx, cy, rx, ry = lx, top - 0.5 * depth, 0.6 * a.lungs[s][2], 0.5 * depth + 0.02 * H
        zone = "lower"
    elif kind == "pneumothorax":
        severity = str(rng.choice(["small", "moderate"], p=[0.7, 0.3]))
        zone = str(rng.choice(["upper", "mid"], p=[0.6, 0.4]))
        big = severity != "small"
        if zone == "upper":  # apical cap
            cx, cy = a.lung_point(s, 0.17, 0.45)
            rx, ry = 0.45 * a.lungs[s][2], (0.18 if big else 0.12) * a.lungs[s][3]
        else:  # lateral, along the chest wall
            cx, cy = a.lung_point(s, float(rng.uniform(0.38, 0.52)), 0.72)
            rx, ry = (0.22 if big else 0.17) * a.lungs[s][2], (0.3 if big else 0.24) * a.lungs[s][3]
    elif kind == "edema":
        side, severity = "bilateral", str(rng.choice(["mild", "moderate"]))
        zone = str(rng.choice(["mid", "lower"], p=[0.6, 0.4]))
        cx = 0.5 * (a.lungs[0][0] + a.lungs[1][0])
        rx = 0.62 * (a.lungs[1][0] - a.lungs[0][0])
        if zone == "mid":  # perihilar (bat wing)
            cy, ry = a.lungs[0][1] + 0.02 * H, 0.42 * a.lungs[0][3]
        else:  # basal predominance
            cy = 0.5 * (a.lung_point(0, EDEMA_BASAL_V)[1] + a.lung_point(1, EDEMA_BASAL_V)[1])
            ry = 0.28 * a.lungs[0][3]
    elif kind == "atelectasis":
        zone, severity = str(rng.choice(["lower", "mid"], p=[0.65, 0.35])), "mild"
        v = 0.86 if zone == "lower" else float(rng.uniform(0.5, 0.6))
        cx, cy = a.lung_point(s, v, float(rng.uniform(-0.2, 0.4)))
        rx, ry = (0.45 if zone == "lower" else 0.4) * a.lungs[s][2], 0.035 * H
        angle = float(rng.uniform(-12, 12))
    elif kind in ("consolidation", "groundglass", "nodule", "mass"):
        zone = str(rng.choice(list(_ZONE_V)))
        lesion = kind in ("nodule", "mass")
        v = _ZONE_V[zone] + float(rng.uniform(-0.08, 0.08))
        cx, cy = a.lung_point(s, v, float(rng.uniform(-0.3, 0.75) if lesion else rng.uniform(-0.2, 0.55)))
        r = {"consolidation": 0.075, "groundglass": 0.085, "nodule": 0.018, "mass": 0.045}[kind] * W
        r *= float(rng.uniform(0.85, 1.2))
        rx, ry = r * (1.0 if lesion else float(rng.uniform(0.8, 1.1))), r
        severity = {"nodule": "small", "mass": "large"}.get(kind, str(rng.choice(["mild", "moderate"])))
    elif kind == "support_device":
        device = str(rng.choice(["central line", "endotracheal tube", "enteric tube"]))
        side = None
        if device == "central line":  # internal jugular, more often the right one
            side = str(rng.choice(["right", "left"], p=[1 - LEFT_LINE_PROB, LEFT_LINE_PROB]))
        path = _device_path(rng, a, device, side)
        lo, hi = path.min(axis=0), path.max(axis=0)
        cx, cy = (lo + hi) / 2
        rx, ry = np.maximum((hi - lo) / 2, 0.02 * W) + 0.01 * W
        extra = {"device": device, "path_px": np.round(path, 1).tolist()}
    else:  # pragma: no cover - guarded by KINDS
        raise ValueError(kind)
    return {"kind": kind, "chexbert_label": KINDS[kind]["chexbert"],
            "reflacx_labels": {"1": KINDS[kind]["labels"][0], "2": KINDS[kind]["labels"][1],
                               "3": KINDS[kind]["labels"][1]},
            "side": side, "zone": zone, "severity": severity,
            "center_px": [round(float(cx), 1), round(float(cy), 1)],
            "axes_px": [round(float(rx), 1), round(float(ry), 1)], "angle_deg": round(angle, 1), **extra}


def _device_path(rng: np.random.Generator, a: Anatomy, device: str, side: str | None = None) -> np.ndarray:
    """A polyline (N, 2) in pixels: a right or left IJ central line (tip in the SVC, right of
    the spine), an ET tube or an enteric tube."""
    W, H = a.width, a.height
    m = a.spine_x
    t = np.linspace(0.0, 1.0, 24)[:, None]
    if device == "central line" and side == "left":  # down the left neck, across to the SVC
        p0 = np.array([m + 0.10 * W, 0.0])
        p1 = np.array([m + 0.07 * W, 0.27 * H])
        p2 = np.array([m - 0.035 * W, (0.33 + rng.normal(0, 0.015)) * H])
    elif device == "central line":
        p0 = np.array([m - 0.10 * W, 0.0])
        p1 = np.array([m - 0.06 * W, 0.17 * H])
        p2 = np.array([m - 0.035 * W, (0.33 + rng.normal(0, 0.015)) * H])
    elif device == "endotracheal tube":
        p0 = np.array([m, 0.0])
        p1 = np.array([m + rng.normal(0, 0.004) * W, 0.12 * H])
        p2 = np.array([m, (0.24 + rng.normal(0, 0.01)) * H])
    else:
        p0 = np.array([m, 0.0])
        p1 = np.array([m + 0.01 * W, 0.55 * H])
        p2 = np.array([m + 0.13 * W, (0.80 + rng.normal(0, 0.01)) * H])
    path = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t * t * p2  # quadratic Bezier
    return np.clip(path, 0, [W - 1, H - 1])


def gaze_regions(a: Anatomy) -> dict[str, tuple[float, float, float, float, float]]:
    """Named regions ``(cx, cy, ax, ay, order)`` a reader inspects, in ABCDE order keys
    (0 airway, 1 lungs top to bottom, 2 heart/mediastinum, 3 diaphragm, 4 bones/devices)."""
    W, H = a.width, a.height
    (rcx, rcy, rrx, rry), (lcx, lcy, lrx, lry) = a.lungs
    out = {"trachea": (a.spine_x, 0.17 * H, 0.012 * W, 0.06 * H, 0.0)}
    for name, s, cxx, rx, o in (("right", 0, rcx, rrx, 0.0), ("left", 1, lcx, lrx, 0.05)):
        for z, v in _ZONE_V.items():
            x, y = a.lung_point(s, v, 0.1)
            out[f"{name}_{z}"] = (x, y, 0.45 * rx, 0.07 * H, 1.0 + 0.3 * list(_ZONE_V).index(z) + o)
        x = cxx + (-1 if s == 0 else 1) * 0.85 * rx  # the lateral costophrenic angle
        out[f"{name}_costophrenic"] = (x, float(a.dome_y(s, x)) - 0.01 * H, 0.05 * W, 0.03 * H, 3.0 + o)
    out["hila"] = (a.spine_x, rcy, 0.16 * W, 0.05 * H, 1.5)
    out["heart"] = (a.heart[0], a.heart[1], 0.7 * a.heart[2], 0.6 * a.heart[3], 2.0)
    out["mediastinum"] = (a.spine_x, 0.3 * H, 0.04 * W, 0.07 * H, 2.2)
    out["apices"] = (a.spine_x, rcy - 0.8 * rry, 0.3 * W, 0.035 * H, 1.0)
    out["bases"] = (a.spine_x, a.domes[0][0] - 0.01 * H, 0.32 * W, 0.03 * H, 3.1)
    out["lungs"] = (a.spine_x, rcy, 0.33 * W, 0.22 * H, 1.4)
    out["bones"] = (a.spine_x, 0.4 * H, 0.4 * W, 0.25 * H, 4.0)
    return out
