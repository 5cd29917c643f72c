"""Findings of the synthetic downstream studies (MIMIC-CXR studies without gaze, IU X-ray).

The REFLACX phantoms plant ten kinds (:data:`.anatomy.KINDS`). The downstream corpus needs all
14 CheXbert labels, so it adds four kinds, each with a placement and a painter registered
here (the REFLACX films never use them, so their bytes do not change):

* ``pneumonia``: placed and painted like a consolidation (any zone, right or left);
* ``pleural_thickening`` (Pleural Other): a thin dense crescent along the lateral chest wall
  near the apex;
* ``fracture``: a rib fracture at the lateral chest wall (a small callus crossed by a dark
  line), in the upper, mid or lower zone;
* ``widened_mediastinum`` (Enlarged Cardiomediastinum): the anatomy's mediastinum drawn wider
  (like cardiomegaly, through the anatomy: nothing to paint).

Every finding also gets a ``certainty`` in (0, 1) (a Beta(4, 1.5) draw): the report hedges a
finding whose certainty is below ``hedge_below`` ("possible ...", label -1).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._canvas import _ramp
from .anatomy import KINDS, Anatomy, make_anatomy, plant_findings
from .findings_paint import Scene, _opacity, painter

__all__ = ["NEW_KINDS", "KIND_WEIGHTS", "choose_downstream_kinds", "plant_downstream", "widen_mediastinum",
           "KIND_ORDER", "study_findings"]

NEW_KINDS = ("pneumonia", "pleural_thickening", "fracture", "widened_mediastinum")
#: Relative frequency of each kind among the downstream studies' findings.
KIND_WEIGHTS = {"support_device": 0.14, "effusion": 0.12, "cardiomegaly": 0.10, "atelectasis": 0.09,
                "consolidation": 0.07, "edema": 0.08, "groundglass": 0.06, "nodule": 0.05, "pneumothorax": 0.06,
                "mass": 0.03, "pneumonia": 0.07, "pleural_thickening": 0.04, "fracture": 0.05,
                "widened_mediastinum": 0.04}
#: ABCDE order key of every kind (reports list findings in this order).
KIND_ORDER = {**{k: v["order"] for k, v in KINDS.items()}, "pneumonia": 1.3, "pleural_thickening": 3.1,
              "fracture": 4.1, "widened_mediastinum": 2.1}
_N_FINDINGS_P = (0.45, 0.35, 0.2)     # P(1, 2, 3 findings) in a study that has any
WIDENING = 1.7                        # mediastinum half-width factor of a widened mediastinum


def choose_downstream_kinds(rng: np.random.Generator, no_finding_fraction: float) -> list[str]:
    """No kind (a normal study) with probability ``no_finding_fraction``, else 1-3 distinct
    kinds (never both ``nodule`` and ``mass``, never both ``pneumonia`` and ``consolidation``)."""
    if rng.random() < no_finding_fraction:
        return []
    n = 1 + int(rng.choice(len(_N_FINDINGS_P), p=_N_FINDINGS_P))
    names = list(KIND_WEIGHTS)
    p = np.array([KIND_WEIGHTS[k] for k in names])
    kinds: list[str] = []
    while len(kinds) < n:
        k = names[int(rng.choice(len(names), p=p / p.sum()))]
        if k in kinds or {k, *kinds} >= {"nodule", "mass"} or {k, *kinds} >= {"pneumonia", "consolidation"}:
            continue
        kinds.append(k)
    return kinds


def widen_mediastinum(anatomy: Anatomy) -> Anatomy:
    """The same anatomy with a widened mediastinum."""
    return dataclasses.replace(anatomy, mediastinum_half_width=anatomy.mediastinum_half_width * WIDENING)


def _finding(kind, label, side, zone, severity, cx, cy, rx, ry) -> dict:
    return {"kind": kind, "chexbert_label": label, "side": side, "zone": zone, "severity": severity,
            "center_px": [round(float(cx), 1), round(float(cy), 1)],
            "axes_px": [round(float(rx), 1), round(float(ry), 1)], "angle_deg": 0.0}


def _place_new(rng: np.random.Generator, a: Anatomy, kind: str) -> dict:
    W, H = a.width, a.height
    s = int(rng.integers(2))
    side = ("right", "left")[s]
    if kind == "pneumonia":
        f = plant_findings(rng, a, ["consolidation"])[0]
        f.update(kind="pneumonia", chexbert_label="Pneumonia")
        f.pop("reflacx_labels", None)
        return f
    if kind == "pleural_thickening":
        cx, cy = a.lung_point(s, 0.16, 1.05)
        return _finding(kind, "Pleural Other", side, "upper", "mild", cx, cy, 0.018 * W, 0.07 * H)
    if kind == "fracture":
        zone = str(rng.choice(["upper", "mid", "lower"]))
        v = {"upper": 0.25, "mid": 0.47, "lower": 0.68}[zone] + float(rng.uniform(-0.06, 0.06))
        cx, cy = a.lung_point(s, v, 1.08)
        return _finding(kind, "Fracture", side, zone, "mild", cx, cy, 0.022 * W, 0.012 * H)
    if kind == "widened_mediastinum":
        top = a.lungs[0][1] - a.lungs[0][3]
        half = a.mediastinum_half_width * WIDENING
        return _finding(kind, "Enlarged Cardiomediastinum", None, None, "moderate", a.spine_x,
                        top + 0.12 * H, half, 0.1 * H)
    raise ValueError(f"unknown downstream kind {kind!r}")


def study_findings(rng: np.random.Generator, width: int, height: int,
                   no_finding_fraction: float) -> tuple[Anatomy, list[dict]]:
    """``(anatomy, findings)`` of one downstream study: its kinds
    (:func:`choose_downstream_kinds`), an anatomy (enlarged heart for cardiomegaly, widened
    mediastinum for ``widened_mediastinum``) and the planted findings, in that draw order."""
    kinds = choose_downstream_kinds(rng, no_finding_fraction)
    anatomy = make_anatomy(rng, width, height, "cardiomegaly" in kinds)
    if "widened_mediastinum" in kinds:
        anatomy = widen_mediastinum(anatomy)
    return anatomy, plant_downstream(rng, anatomy, kinds)


def plant_downstream(rng: np.random.Generator, anatomy: Anatomy, kinds: list[str]) -> list[dict]:
    """Place ``kinds`` (old kinds through :func:`.anatomy.plant_findings`, new ones here), give
    each a ``certainty``, and return them in ABCDE order."""
    old = [k for k in kinds if k in KINDS]
    out = plant_findings(rng, anatomy, old) if old else []
    for f in out:
        f.pop("reflacx_labels", None)
    out += [_place_new(rng, anatomy, k) for k in kinds if k not in KINDS]
    for f in out:
        f["certainty"] = round(float(rng.beta(4.0, 1.5)), 3)
    out.sort(key=lambda f: (KIND_ORDER[f["kind"]], f["center_px"][1]))
    return out


# ------------------------------------------------------------------------ painters
@painter("pneumonia")
def _pneumonia(scene: Scene, f: dict) -> None:
    """Drawn as a consolidation."""
    _opacity(scene, {**f, "kind": "consolidation"})


@painter("widened_mediastinum")
def _widened_mediastinum(scene: Scene, f: dict) -> None:
    """Nothing to add: drawn through the anatomy (:func:`widen_mediastinum`)."""


def _ellipse_distance(scene: Scene, f: dict, pad_x: float, pad_y: float):
    """``(window slice, x, y, normalised distance to the finding's centre)`` around ``f``."""
    (cx, cy), (rx, ry) = f["center_px"], f["axes_px"]
    sl, x, y = scene.cv.window(cx - pad_x * rx, cy - pad_y * ry, cx + pad_x * rx, cy + pad_y * ry)
    return sl, x - cx, y - cy, np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)


@painter("pleural_thickening")
def _pleural_thickening(scene: Scene, f: dict) -> None:
    """A thin dense crescent along the chest wall."""
    sl, _, _, dist = _ellipse_distance(scene, f, 2.0, 1.3)
    scene.cv.d[sl] += 0.3 * _ramp((1 - dist) / 0.35)


@painter("fracture")
def _fracture(scene: Scene, f: dict) -> None:
    """A rib fracture: a small bright callus with a dark oblique line through it."""
    sl, dx, dy, dist = _ellipse_distance(scene, f, 1.5, 1.5)
    callus = _ramp((1 - dist) / 0.3)
    ang = math.radians(65.0)
    line = np.abs(math.cos(ang) * dx + math.sin(ang) * dy) < 0.18 * f["axes_px"][1]
    scene.cv.d[sl] += 0.35 * callus - 0.25 * callus * line
