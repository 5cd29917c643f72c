"""Raw gaze samples and EyeLink-like fixations from a :class:`~.radiologists.Scanpath`.

Everything here is vectorised over samples. Samples are on the audio clock at
``sampling_rate_hz``; blinks and track loss are NaN rows in x, y and pupil; a fixation is a
run of valid samples that belong to one planned fixation (a blink splits it), at least
``MIN_FIXATION_MS`` long. Its start/end are the times of its first/last sample and its
position and pupil are the means of its *written* (rounded) samples, so ``fixations.csv``
can be recomputed from ``gaze.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazex_lib.data.schema import FIXATION_COLUMNS, GAZE_COLUMNS

from . import config as C
from .writer import float_strings, int_strings

_ANG = ["angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree"]
_WIN = ["window_width", "window_level"]
_SHOWN = ["xmin_shown_from_image", "ymin_shown_from_image", "xmax_shown_from_image", "ymax_shown_from_image"]
_SCREEN = ["xmin_in_screen_coordinates", "ymin_in_screen_coordinates",
           "xmax_in_screen_coordinates", "ymax_in_screen_coordinates"]
_INT_STATE = _ANG + _SHOWN + _SCREEN


@dataclass
class Gaze:
    """Samples (``t`` seconds 3 dp, ``x``/``y`` rounded px or NaN, ``pupil`` 3 dp or NaN), the
    display-state index of each sample, and the fixations (one row per fixation)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    pupil: np.ndarray
    state_idx: np.ndarray
    states: list[dict]
    fix: dict[str, np.ndarray]
    n_offimage: int

    @property
    def n_nan(self) -> int:
        return int(np.isnan(self.x).sum())


def display_states(rng: np.random.Generator, n_samples: int, width: int, height: int, ppd: float,
                   zoom_center: tuple[float, float] | None) -> tuple[list[int], list[dict]]:
    """Piecewise-constant display settings: ``(start sample indices, states)``.

    Mostly one state (full image shown, window ~1.0/0.5); sometimes a window change or a
    zoomed-in segment (shown rect around ``zoom_center``, angular resolution / zoom).
    """
    sw, sh = C.SCREEN_SIZE
    scale = min(sw / width, sh / height) * float(rng.uniform(0.9, 0.99))
    w, h = width * scale, height * scale
    x0 = (sw - w) / 2 + float(rng.normal(0, 10))
    y0 = (sh - h) / 2
    base = {"ang_x": round(ppd * float(rng.uniform(0.96, 1.04))), "ang_y": round(ppd * float(rng.uniform(0.96, 1.04))),
            "window_width": round(float(rng.uniform(0.995, 1.0)), 5), "window_level": round(float(rng.uniform(0.495, 0.505)), 5),
            "shown": (0, 0, width, height), "screen": (round(x0), round(y0), round(x0 + w), round(y0 + h))}
    starts, states = [0], [base]
    if n_samples > 10_000 and rng.random() < C.WINDOW_CHANGE_PROB:
        s = dict(base, window_width=round(float(rng.uniform(0.6, 0.9)), 5),
                 window_level=round(float(rng.uniform(0.4, 0.6)), 5))
        starts.append(int(rng.integers(n_samples // 4, n_samples // 2)))
        states.append(s)
    if n_samples > 10_000 and zoom_center is not None and rng.random() < C.ZOOM_PROB:
        z = float(rng.uniform(1.4, 2.0))
        zw, zh = width / z, height / z
        zx = float(np.clip(zoom_center[0] - zw / 2, 0, width - zw))
        zy = float(np.clip(zoom_center[1] - zh / 2, 0, height - zh))
        prev = states[-1]
        s = dict(prev, ang_x=round(prev["ang_x"] / z), ang_y=round(prev["ang_y"] / z),
                 shown=(round(zx), round(zy), round(zx + zw), round(zy + zh)))
        a = int(rng.integers(n_samples // 2, 3 * n_samples // 4))
        starts += [a, a + int(rng.integers(n_samples // 10, n_samples // 5))]
        states += [s, prev]
    return starts, states


def make_samples(rng: np.random.Generator, plan: dict[str, np.ndarray], start_sample: int, rate: int,
                 width: int, height: int, ppd: float, lost: list[tuple[float, float]],
                 zoom_center: tuple[float, float] | None = None) -> Gaze:
    """Samples and fixations for a fixation ``plan`` (:meth:`Scanpath.arrays`).

    ``lost``: ``(t_start, t_end)`` seconds with no valid sample (track loss), in addition
    to blinks every ``BLINK_INTERVAL_S``.
    """
    n_fix = len(plan["tag"])
    # segments: saccade_i, fixation_i interleaved
    seg_len = np.empty(2 * n_fix, dtype=np.int64)
    seg_len[0::2], seg_len[1::2] = plan["n_sacc"], plan["n_fix"]
    prev_x1 = np.r_[plan["x0"][:1], plan["x1"][:-1]]
    prev_y1 = np.r_[plan["y0"][:1], plan["y1"][:-1]]
    sx = np.empty(2 * n_fix); ex = np.empty(2 * n_fix); sy = np.empty(2 * n_fix); ey = np.empty(2 * n_fix)
    sx[0::2], ex[0::2], sy[0::2], ey[0::2] = prev_x1, plan["x0"], prev_y1, plan["y0"]
    sx[1::2], ex[1::2], sy[1::2], ey[1::2] = plan["x0"], plan["x1"], plan["y0"], plan["y1"]
    N = int(seg_len.sum())
    seg = np.repeat(np.arange(2 * n_fix), seg_len)
    seg_start = np.cumsum(seg_len) - seg_len
    k = np.arange(N) - seg_start[seg]
    is_fix = (seg % 2) == 1
    n = seg_len[seg]
    frac = np.where(is_fix, k / np.maximum(n - 1, 1), (k + 1) / (n + 1))
    x = sx[seg] + (ex[seg] - sx[seg]) * frac
    y = sy[seg] + (ey[seg] - sy[seg]) * frac
    tremor = rng.normal(0, C.TREMOR_DEG * ppd, size=(2, N)) * is_fix
    x, y = x + tremor[0], y + tremor[1]
    label = np.where(is_fix, seg // 2, -1)

    idx = np.arange(N)
    t = np.round((start_sample + idx) / rate, 3)
    # pupil: slow variation around a per-reading base
    base = float(rng.uniform(0.7, 1.3))
    per = rng.uniform(4, 15, size=3) * rate
    ph = rng.uniform(0, 2 * np.pi, size=3)
    pupil = base * (1 + 0.04 * np.sin(2 * np.pi * idx[:, None] / per + ph).sum(axis=1))
    pupil = pupil + rng.normal(0, 0.004, size=N)

    # blinks and track loss
    invalid = np.zeros(N, dtype=bool)
    pos = int(rng.uniform(*C.BLINK_INTERVAL_S) * rate)
    while pos < N:
        invalid[pos:pos + int(rng.uniform(*C.BLINK_MS) * rate / 1000)] = True
        pos += int(rng.uniform(*C.BLINK_INTERVAL_S) * rate)
    for a, b in lost:
        invalid[max(0, int(a * rate) - start_sample):max(0, int(b * rate) - start_sample + 1)] = True
    x, y = np.round(x), np.round(y)
    x[invalid] = y[invalid] = np.nan
    pupil = np.round(pupil, 3)
    pupil[invalid] = np.nan
    label[invalid] = -1

    valid = ~invalid
    offimage = valid & ((x < 0) | (x >= width) | (y < 0) | (y >= height))

    starts_, states = display_states(rng, N, width, height, ppd, zoom_center)
    state_idx = np.searchsorted(np.asarray(starts_), idx, side="right") - 1

    # fixations = runs of one label >= 0, long enough
    change = np.flatnonzero(np.diff(label) != 0) + 1
    rs = np.r_[0, change]
    re = np.r_[change, N]
    keep = (label[rs] >= 0) & ((re - rs) >= max(1, round(C.MIN_FIXATION_MS * rate / 1000)))
    cnt = (re - rs).astype(float)
    xs = np.where(valid, x, 0.0)
    ys = np.where(valid, y, 0.0)
    ps = np.where(valid, pupil, 0.0)
    fx = np.round(np.add.reduceat(xs, rs) / cnt)[keep]
    fy = np.round(np.add.reduceat(ys, rs) / cnt)[keep]
    fp = np.round(np.add.reduceat(ps, rs) / cnt, 3)[keep]
    rs, re = rs[keep], re[keep]
    fix = {"t_start": t[rs], "t_end": t[re - 1], "x": fx, "y": fy, "pupil": fp,
           "state": state_idx[rs], "tag": plan["tag"][label[rs]], "n": (re - rs)}
    return Gaze(t, x, y, pupil, state_idx, states, fix, int(offimage.sum()))


def _state_columns(states: list[dict], idx: np.ndarray) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    table = {
        _ANG[0]: [str(int(s["ang_x"])) for s in states], _ANG[1]: [str(int(s["ang_y"])) for s in states],
        **{c: [str(int(s["shown"][i])) for s in states] for i, c in enumerate(_SHOWN)},
        **{c: [str(int(s["screen"][i])) for s in states] for i, c in enumerate(_SCREEN)},
    }
    for c, vals in table.items():
        cols[c] = np.asarray(vals, dtype=object)[idx]
    for c in _WIN:
        cols[c] = np.asarray([s[c] for s in states], dtype=float)[idx]
    return cols


def gaze_frame(g: Gaze) -> pd.DataFrame:
    """``gaze.csv`` as the writer formats it (0-dp columns as strings, NaN as '')."""
    cols = {"timestamp_sample": g.t, "x_position": int_strings(g.x), "y_position": int_strings(g.y),
            "pupil_area_normalized": g.pupil, **_state_columns(g.states, g.state_idx)}
    return pd.DataFrame({c: cols[c] for c in GAZE_COLUMNS})


def fixation_frame(g: Gaze) -> pd.DataFrame:
    """``fixations.csv`` as the writer formats it."""
    f = g.fix
    cols = {"timestamp_start_fixation": f["t_start"], "timestamp_end_fixation": f["t_end"],
            "x_position": int_strings(f["x"]), "y_position": int_strings(f["y"]),
            "pupil_area_normalized": f["pupil"], **_state_columns(g.states, f["state"])}
    return pd.DataFrame({c: cols[c] for c in FIXATION_COLUMNS})


def gaze_strings(g: Gaze) -> list[np.ndarray]:
    """``gaze.csv`` rows as the strings pandas would write, in ``GAZE_COLUMNS`` order: the
    four per-sample columns, then the 12 display columns pre-joined per display state."""
    states = _state_columns(g.states, np.arange(len(g.states)))
    parts = [float_strings(v) if v.dtype.kind == "f" else v for v in (states[c] for c in GAZE_COLUMNS[4:])]
    suffix = np.array([",".join(str(p[i]) for p in parts) for i in range(len(g.states))], dtype=object)
    return [float_strings(g.t), int_strings(g.x), int_strings(g.y), float_strings(g.pupil), suffix[g.state_idx]]
