"""Five simulated radiologists: their habits, their answers, and their scanpaths.

A reader's *habits* (:class:`ReaderHabits`) are fixed per reader across the dataset, so
reader effects are real and recoverable: fixation duration (lognormal mean ``dwell_ms_mean``),
saccade speed (deg/s), spatial scatter of fixations around the intended target
(``noise_deg``, converted to pixels with the reading's pixels per degree), how much they
deviate from the ABCDE inspection order (``order_jitter``, in order-key units) and how often
they glance back at an earlier finding (``revisit_prob``). ``miss_scale`` scales the chance of
missing a subtle finding; ``ellipse_scale`` how generously they draw ellipses.

:class:`Scanpath` builds a sequence of fixations on the sample clock (integer sample
indices, 0 = start of the audio recording); :mod:`.gaze` turns it into raw samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gazex_lib.data.labels import BOOLEAN_LABELS, FREE_TEXT_LABEL, phase_labels

from . import config as C
from .anatomy import KINDS, Anatomy, reflacx_label


@dataclass(frozen=True)
class ReaderHabits:
    """Habits of one simulated radiologist (units in the field names / docstring above)."""

    name: str
    noise_deg: float
    dwell_ms_mean: float
    saccade_speed: float
    order_jitter: float
    revisit_prob: float
    miss_scale: float
    ellipse_scale: float

    def to_truth(self, pixels_per_degree: float) -> dict:
        """The truth record: ``noise_px`` (1-sigma fixation scatter, px), ``dwell_ms_mean``
        (ms), ``saccade_speed`` (deg/s), ``order_jitter`` (ABCDE order-key units, sigma),
        ``revisit_prob`` (per sentence), ``miss_scale``, ``ellipse_scale``."""
        return {"noise_px": round(self.noise_deg * pixels_per_degree, 2), "noise_deg": self.noise_deg,
                "dwell_ms_mean": self.dwell_ms_mean, "saccade_speed": self.saccade_speed,
                "order_jitter": self.order_jitter, "revisit_prob": self.revisit_prob,
                "miss_scale": self.miss_scale, "ellipse_scale": self.ellipse_scale}


READERS: dict[str, ReaderHabits] = {h.name: h for h in (
    ReaderHabits("R1", 0.35, 260.0, 450.0, 0.3, 0.10, 1.0, 1.00),
    ReaderHabits("R2", 0.50, 330.0, 380.0, 0.8, 0.25, 1.3, 1.15),
    ReaderHabits("R3", 0.25, 220.0, 520.0, 0.2, 0.05, 0.7, 0.95),
    ReaderHabits("R4", 0.60, 390.0, 330.0, 1.2, 0.35, 1.6, 1.10),
    ReaderHabits("R5", 0.40, 290.0, 420.0, 0.5, 0.15, 1.0, 1.05),
)}
READER_NAMES = tuple(READERS)

OTHER_FINDINGS = ("Scoliosis", "Calcified granuloma", "Old rib fracture")


# --------------------------------------------------------------------------- answers
def decide_report(rng: np.random.Generator, findings: list[dict], habits: ReaderHabits) -> tuple[list[int], dict]:
    """Which planted findings (indices) this reader reports, and a certainty (3-5) for each."""
    reported, certainty = [], {}
    for i, f in enumerate(findings):
        consp = KINDS[f["kind"]]["conspicuity"]
        if rng.random() < (1.0 - consp) * 0.6 * habits.miss_scale:
            continue
        p = (0.08, 0.22, 0.70) if consp >= 0.85 else (0.3, 0.4, 0.3)
        reported.append(i)
        certainty[i] = int(rng.choice([3, 4, 5], p=p))
    return reported, certainty


def label_row(rng: np.random.Generator, phase: int, findings: list[dict], reported: list[int],
              certainty: dict, other: str) -> dict:
    """The per-reading label columns of ``metadata_phase_{phase}.csv``.

    Reported findings give their certainty (3-5; the max when two share a label); other
    certainty labels are 0, occasionally 1-2 (a "less likely" answer); ``Support devices``
    (and ``Quality issue``, phase 1) are booleans; ``Other`` is the free text.
    """
    row: dict = {}
    for lab in phase_labels(phase):
        if lab in BOOLEAN_LABELS[phase]:
            row[lab] = bool(lab == "Quality issue" and rng.random() < 0.03)
        elif lab == FREE_TEXT_LABEL:
            row[lab] = other
        else:
            row[lab] = int(rng.integers(1, 3)) if rng.random() < 0.04 else 0
    for i in reported:
        lab = reflacx_label(findings[i]["kind"], phase)
        if lab in BOOLEAN_LABELS[phase]:
            row[lab] = True
        else:
            row[lab] = max(certainty[i], row[lab] if row[lab] >= 3 else 0)
    return row


def draw_ellipses(rng: np.random.Generator, findings: list[dict], reported: list[int], certainty: dict,
                  habits: ReaderHabits, ppd: float, width: int, height: int) -> list[dict]:
    """One ellipse (bounding rectangle, float px) per reported finding: the planted ellipse,
    scaled by the reader's ``ellipse_scale`` and jittered."""
    out = []
    noise_px = habits.noise_deg * ppd
    for i in reported:
        f = findings[i]
        (cx, cy), (ax, ay) = f["center_px"], f["axes_px"]
        ax, ay = ax * habits.ellipse_scale, ay * habits.ellipse_scale
        jx = rng.normal(0, 0.08 * ax + 0.3 * noise_px, size=2)
        jy = rng.normal(0, 0.08 * ay + 0.3 * noise_px, size=2)
        x0, x1 = sorted((cx - ax + jx[0], cx + ax + jx[1]))
        y0, y1 = sorted((cy - ay + jy[0], cy + ay + jy[1]))
        x0, x1 = float(np.clip(x0, 0, width - 2)), float(np.clip(x1, x0 + 1, width - 1))
        y0, y1 = float(np.clip(y0, 0, height - 2)), float(np.clip(y1, y0 + 1, height - 1))
        out.append({"finding": i, "xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1, "certainty": certainty[i]})
    return out


def draw_chest_box(rng: np.random.Generator, anatomy: Anatomy) -> list[float]:
    """The reader's chest bounding box (px): the anatomy's, with a little jitter."""
    box = np.asarray(anatomy.chest_box) + rng.normal(0, 0.008 * anatomy.width, size=4)
    box = np.clip(box, 0, [anatomy.width - 1, anatomy.height - 1] * 2)
    return [float(v) for v in box]


# --------------------------------------------------------------------------- scanpath
class Scanpath:
    """Fixations appended one by one on the sample clock.

    ``cursor`` is the next free sample index (time ``cursor / rate`` seconds on the audio
    clock). Each :meth:`fixate` adds a saccade from the previous fixation (20-60 ms, linear)
    and a fixation whose target is the intended point plus the reader's scatter and a
    per-reading calibration offset.
    """

    def __init__(self, rng: np.random.Generator, habits: ReaderHabits, ppd: float, rate: int,
                 start_sample: int, width: int, height: int):
        self.rng, self.h, self.ppd, self.rate = rng, habits, float(ppd), int(rate)
        self.start = self.cursor = int(start_sample)
        self.width, self.height = width, height
        self.calib = rng.normal(0, C.CALIBRATION_DEG * ppd, size=2)
        sigma = 0.45
        self._mu = math.log(habits.dwell_ms_mean) - sigma * sigma / 2
        self._sigma = sigma
        # per fixation: target x, y; drift end x, y; saccade samples; fixation samples; tag
        self.rows: list[tuple[float, float, float, float, int, int, int]] = []
        self._last: tuple[float, float] | None = None

    def ms(self, ms: float) -> int:
        """Milliseconds -> samples (at least 1)."""
        return max(1, int(round(ms * self.rate / 1000.0)))

    @property
    def seconds(self) -> float:
        return self.cursor / self.rate

    def fixate(self, x: float, y: float, tag: int = -1, dur_ms: float | None = None,
               exact: bool = False) -> None:
        """Saccade to and fixate near ``(x, y)``; ``exact`` skips scatter and clipping (used
        for deliberate off-image glances)."""
        rng = self.rng
        if not exact:
            x, y = np.array([x, y]) + rng.normal(0, self.h.noise_deg * self.ppd, size=2) + self.calib
            x = float(np.clip(x, 3, self.width - 4))
            y = float(np.clip(y, 3, self.height - 4))
        if dur_ms is None:
            dur_ms = float(np.clip(rng.lognormal(self._mu, self._sigma), 80, 1500))
        n_sacc = 0
        if self._last is not None:
            amp = math.hypot(x - self._last[0], y - self._last[1]) / self.ppd
            sacc_ms = 20 + 2.5 * amp * 400.0 / self.h.saccade_speed
            n_sacc = self.ms(float(np.clip(sacc_ms, *C.SACCADE_MS)))
        drift = rng.normal(0, C.DRIFT_DEG * self.ppd, size=2)
        n_fix = self.ms(dur_ms)
        self.rows.append((x, y, x + drift[0], y + drift[1], n_sacc, n_fix, int(tag)))
        self._last = (x + drift[0], y + drift[1])
        self.cursor += n_sacc + n_fix

    def look(self, region, tag: int = -1, until: int | None = None, n: int | None = None,
             spread: float = 1.0) -> None:
        """Fixate inside ``region = (cx, cy, ax, ay, ...)`` ``n`` times, or until ``cursor``
        reaches sample ``until`` (at least one fixation)."""
        cx, cy, ax, ay = region[:4]
        k = 0
        while True:
            r, th = math.sqrt(self.rng.random()) * spread, self.rng.uniform(0, 2 * math.pi)
            self.fixate(cx + ax * r * math.cos(th), cy + ay * r * math.sin(th), tag)
            k += 1
            if (n is not None and k >= n) or (until is not None and self.cursor >= until) or (
                    n is None and until is None):
                break

    def glance_off_image(self) -> None:
        """A short fixation clearly outside the image (e.g. at the report screen's edge)."""
        rng = self.rng
        side = int(rng.integers(3))
        m = float(rng.uniform(25, 150))
        if side == 0:
            x, y = -m, rng.uniform(0.2, 0.8) * self.height
        elif side == 1:
            x, y = self.width + m, rng.uniform(0.2, 0.8) * self.height
        else:
            x, y = rng.uniform(0.2, 0.8) * self.width, self.height + m
        self.fixate(float(x), float(y), tag=-2, dur_ms=float(rng.uniform(150, 400)), exact=True)

    def arrays(self) -> dict[str, np.ndarray]:
        """The fixation plan as arrays (for :func:`gazex_lib.data.synthetic.gaze.make_samples`)."""
        a = np.array([r[:4] for r in self.rows], dtype=float).reshape(-1, 4)
        b = np.array([r[4:] for r in self.rows], dtype=np.int64).reshape(-1, 3)
        return {"x0": a[:, 0], "y0": a[:, 1], "x1": a[:, 2], "y1": a[:, 3],
                "n_sacc": b[:, 0], "n_fix": b[:, 1], "tag": b[:, 2]}
