"""Sentence gaze windows: the raw samples behind each dictated sentence.

For every sentence of ``ds.sentences(id)`` (official segmentation, see
:mod:`gazex_lib.data.sentences`) the window holds the gaze samples with
``window_start_s <= t <= window_end_s`` (closed, ``window_start_s = first word start -
window_lead_s``, paper: 2 s), then:

1. **NaN rows dropped, counted** (``n_nan``): a sample needs finite ``timestamp_sample,
   x_position, y_position`` and both angular resolutions (the official ``dropna`` subset).
   The official code drops them from the whole file first; dropping per window gives the
   same samples. Rows with a NaN timestamp belong to no window; the key-frame pipeline
   counts them per reading (``n_nan_timestamp``, :mod:`gazex_lib.gaze.pipeline`).
2. **Percentile trim** (``trim``, percentiles in %: paper ``(5, 95)``, config ``gaze.trim``;
   ``None`` = off): keep rows with ``x`` in ``[P5(x), P95(x)]`` **and** ``y`` in
   ``[P5(y), P95(y)]``, both bounds inclusive, percentiles by ``numpy.percentile`` with the
   default ``"linear"`` method, computed over the window's valid samples, as the official
   code does. The official code trims the ¼-scaled values (``x / 4``); scaling by a power of
   two commutes exactly with linear interpolation, so trimming the original pixels keeps the
   identical rows. ``n_trimmed`` counts the removed rows.

Positions stay in **original image pixels** (maps scale them). Sample order is the file
order (the official cKDTree tie-breaking depends on it).

**Empty windows are kept** (``status="no_gaze"``: no valid sample; ``"trimmed_empty"``:
the trim removed every sample), so windows, frames and sentences stay aligned by
construction. ``skip_empty_sentences=True`` reproduces the **official bug**: the scripts
``continue`` past such sentences, so their ``frame_index`` has fewer entries than
``patch_sentences`` and the two lists misalign after the first empty sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SentenceWindow", "sentence_windows", "windows_from_tables", "windows_table",
           "trim_mask", "WINDOW_STATUSES", "GAZE_REQUIRED"]

#: Gaze columns that must be finite (official dropna subset).
GAZE_REQUIRED = ("timestamp_sample", "x_position", "y_position",
                 "angular_resolution_x_pixels_per_degree",
                 "angular_resolution_y_pixels_per_degree")
WINDOW_STATUSES = ("ok", "no_gaze", "trimmed_empty")
_EMPTY = np.zeros(0)


@dataclass(frozen=True)
class SentenceWindow:
    """One sentence and its gaze samples (arrays in file order, original pixels, seconds)."""
    sentence_index: int
    text: str
    t_start_s: float            #: first word start (s, audio clock)
    t_end_s: float              #: end of the '.' token (s)
    window_start_s: float       #: t_start_s - lead
    window_end_s: float         #: t_end_s
    t: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    x: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    y: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    ppd_x: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    ppd_y: np.ndarray = field(default_factory=lambda: _EMPTY, repr=False)
    n_raw: int = 0              #: rows with a finite timestamp inside the window
    n_nan: int = 0              #: of those, dropped for NaN position / resolution
    n_trimmed: int = 0          #: of the valid ones, removed by the percentile trim
    trim_bounds: tuple | None = None   #: (x_lo, x_hi, y_lo, y_hi) original pixels, or None
    reading_id: str | None = None
    trailing: bool = False      #: the kept trailing-words sentence (trailing_words="keep")

    @property
    def n_samples(self) -> int:
        """Samples kept (after NaN drop and trim)."""
        return len(self.t)

    @property
    def status(self) -> str:
        """``"ok"``, ``"no_gaze"`` (no valid sample) or ``"trimmed_empty"``."""
        if self.n_samples:
            return "ok"
        return "no_gaze" if self.n_raw - self.n_nan == 0 else "trimmed_empty"

    def samples(self) -> pd.DataFrame:
        """The kept samples as a DataFrame ``t, x, y, ppd_x, ppd_y``."""
        return pd.DataFrame({"t": self.t, "x": self.x, "y": self.y,
                             "ppd_x": self.ppd_x, "ppd_y": self.ppd_y})


def _check_trim(trim):
    if trim is None:
        return None
    lo, hi = (float(v) for v in trim)
    if not 0 <= lo < hi <= 100:
        raise ValueError(f"trim must be None or (low, high) percentiles with 0 <= low < high "
                         f"<= 100, got {trim!r}")
    return lo, hi


def trim_mask(x: np.ndarray, y: np.ndarray, trim):
    """``(mask, (x_lo, x_hi, y_lo, y_hi))``: rows with x and y inside their percentile range
    ``trim = (low, high)`` in % (paper: (5, 95); inclusive, ``numpy.percentile`` linear).
    Empty input -> empty mask, bounds None."""
    lo, hi = _check_trim(trim)
    if len(x) == 0:
        return np.zeros(0, dtype=bool), None
    x_lo, x_hi = np.percentile(x, [lo, hi])
    y_lo, y_hi = np.percentile(y, [lo, hi])
    mask = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
    return mask, (float(x_lo), float(x_hi), float(y_lo), float(y_hi))


def windows_from_tables(gaze: pd.DataFrame, sentences: pd.DataFrame, *, trim,
                        skip_empty_sentences: bool,
                        reading_id: str | None = None) -> list[SentenceWindow]:
    """Windows from a gaze table (REFLACX columns) and a sentences table
    (``ds.sentences(id)`` columns; its ``window_start_s`` already includes the lead).

    ``trim``: ``(low, high)`` percentiles in % or ``None`` (paper: (5, 95), ``gaze.trim``);
    ``skip_empty_sentences`` (ours: False, official: True; ``gaze.skip_empty_sentences``)."""
    trim = _check_trim(trim)
    missing = [c for c in GAZE_REQUIRED if c not in gaze.columns]
    if missing:
        raise ValueError(f"gaze table lacks columns {missing}")
    arr = gaze[list(GAZE_REQUIRED)].to_numpy(dtype=np.float64)
    t_all = arr[:, 0]
    finite_t = np.isfinite(t_all)
    row_ok = np.isfinite(arr).all(axis=1)
    out = []
    for s in sentences.itertuples(index=False):
        lo, hi = float(s.window_start_s), float(s.window_end_s)
        in_win = finite_t & (t_all >= lo) & (t_all <= hi)
        n_raw = int(in_win.sum())
        sel = in_win & row_ok
        n_nan = n_raw - int(sel.sum())
        rows = arr[sel]
        bounds, n_trim = None, 0
        if trim is not None and len(rows):
            keep, bounds = trim_mask(rows[:, 1], rows[:, 2], trim)
            n_trim = int((~keep).sum())
            rows = rows[keep]
        w = SentenceWindow(
            sentence_index=int(s.sentence_index), text=str(s.text),
            t_start_s=float(s.timestamp_start_s), t_end_s=float(s.timestamp_end_s),
            window_start_s=lo, window_end_s=hi,
            t=rows[:, 0].copy(), x=rows[:, 1].copy(), y=rows[:, 2].copy(),
            ppd_x=rows[:, 3].copy(), ppd_y=rows[:, 4].copy(),
            n_raw=n_raw, n_nan=n_nan, n_trimmed=n_trim, trim_bounds=bounds,
            reading_id=reading_id, trailing=bool(getattr(s, "trailing", False)))
        if skip_empty_sentences and w.status != "ok":
            continue
        out.append(w)
    return out


def sentence_windows(ds, reading_id: str, *, trim, skip_empty_sentences: bool,
                     window_lead_s: float | None = None,
                     trailing_words: str | None = None) -> list[SentenceWindow]:
    """One :class:`SentenceWindow` per sentence of ``ds.sentences(reading_id)``, in order.

    ``window_lead_s`` / ``trailing_words`` default to the dataset's (configs
    ``data.window_lead_s``, paper 2 s; ``data.trailing_words``). ``trim``: ``(low, high)``
    percentiles in % (paper: (5, 95), the P5-P95 trim; ``gaze.trim``), ``None`` disables it.
    ``skip_empty_sentences=False`` keeps empty windows (our fix, the profiles'
    ``gaze.skip_empty_sentences``); ``True`` drops them (official behaviour, misaligns
    frames).
    """
    sentences = ds.sentences(reading_id, window_lead_s=window_lead_s,
                             trailing_words=trailing_words)
    return windows_from_tables(ds.gaze(reading_id), sentences, trim=trim,
                               skip_empty_sentences=skip_empty_sentences,
                               reading_id=reading_id)


def windows_table(windows: list[SentenceWindow]) -> pd.DataFrame:
    """One row per window: indices, text, times and the sample accounting."""
    rows = [{"reading_id": w.reading_id, "sentence_index": w.sentence_index, "text": w.text,
             "t_start_s": w.t_start_s, "t_end_s": w.t_end_s,
             "window_start_s": w.window_start_s, "window_end_s": w.window_end_s,
             "n_raw": w.n_raw, "n_nan": w.n_nan, "n_trimmed": w.n_trimmed,
             "n_samples": w.n_samples, "status": w.status} for w in windows]
    cols = ["reading_id", "sentence_index", "text", "t_start_s", "t_end_s", "window_start_s",
            "window_end_s", "n_raw", "n_nan", "n_trimmed", "n_samples", "status"]
    return pd.DataFrame(rows, columns=cols)
