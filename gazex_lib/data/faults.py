"""Domain faults of a REFLACX reading: files that parse, but describe something impossible.

Issue 10's policy, in one place:

* **Structural damage is an error** (:mod:`gazex_lib.data._csv`): row shape, encoding,
  unparsable or overflowing numbers, values outside a column's sanity range, missing columns.
  The message names the file, the physical line and the column.
* **Domain faults are counted**: the reading is counted under the fault's reason in the
  quality report (:mod:`gazex_lib.data.quality`) and excluded from what is built on the faulty
  file: its accessor raises :class:`ReadingFaultError` (a ``LookupError``, like a discarded
  reading), so the key frames, and everything after them, skip it. One odd timestamp in 3,032
  readings must not abort a GPU run halfway through.
* **``strict=True``** (``load_reflacx(root, strict=True)``) turns every domain fault into a
  :class:`~gazex_lib.data._csv.ReflacxFormatError` naming the file and the first faulty row.

The faults (:data:`FAULT_REASONS`), each with the file it blocks (:data:`FAULT_FILES`):

==============================  ===========================================================
``words_out_of_order``          a word starts before the word before it
``word_negative_duration``      a word ends before it starts
``transcript_mismatch``         ``transcription.txt`` disagrees with the timestamped words,
                                compared as the REFLACX writer asserts it
                                (``text.replace('.', ' .').replace(',', ' ,')`` against the
                                words joined by spaces), whitespace-insensitive
``fixation_negative_duration``  a fixation ends before it starts
``fixation_outside_recording``  a fixation starts before the first gaze sample or ends after
                                the last one, by more than :data:`RECORDING_TOLERANCE_S`
                                (EyeLink computes fixations from those samples; checked when
                                ``gaze_data/`` is present)
``empty_fixations``             the reading has eye-tracking data (not discarded) but its
                                ``fixations.csv`` has no row
``impossible_chest_box``        ``xmin > xmax`` or ``ymin > ymax``, or a side more than
                                :data:`BOX_TOLERANCE` of the image size outside the image
``impossible_ellipse``          the same for any anomaly ellipse's bounding box
==============================  ===========================================================

Boxes may reach a little outside the image: radiologists draw on a screen where the image
does not fill the view, and the writer clips nothing. A side up to 5 % of the image's width
(height) beyond its edge is accepted; further out it is a fault.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FAULT_REASONS", "FAULT_FILES", "BOX_TOLERANCE", "RECORDING_TOLERANCE_S",
           "ReadingFaultError", "word_faults",
           "fixation_faults", "box_faults", "transcript_tokens", "FaultChecks"]

FAULT_REASONS = {
    "words_out_of_order": "a word starts before the word before it",
    "word_negative_duration": "a word ends before it starts",
    "transcript_mismatch": "transcription.txt disagrees with the timestamped words",
    "fixation_negative_duration": "a fixation ends before it starts",
    "fixation_outside_recording": "a fixation lies outside the gaze recording's time span",
    "empty_fixations": "eye-tracking data recorded, but fixations.csv has no row",
    "impossible_chest_box": "the chest box is inverted or lies far outside the image",
    "impossible_ellipse": "an ellipse's box is inverted or lies far outside the image",
}
#: The per-reading file each fault blocks (schema.READING_FILES keys).
FAULT_FILES = {
    "words_out_of_order": "words", "word_negative_duration": "words",
    "transcript_mismatch": "words", "fixation_negative_duration": "fixations",
    "fixation_outside_recording": "fixations",
    "empty_fixations": "fixations", "impossible_chest_box": "chest_box",
    "impossible_ellipse": "ellipses",
}
#: How far (a share of the image width or height) a box side may lie outside the image.
BOX_TOLERANCE = 0.05
#: How far (s) a fixation may reach beyond the first or last gaze sample (samples are 1 ms apart).
RECORDING_TOLERANCE_S = 0.1


class ReadingFaultError(LookupError):
    """A reading's file has a domain fault: what is built on it skips the reading (module
    docstring); the quality report counts it."""

    def __init__(self, reading_id: str, faults: dict, what: str):
        self.reading_id, self.faults = reading_id, dict(faults)
        listed = ", ".join(f"{r} ({FAULT_REASONS[r]}: {n})" for r, n in sorted(faults.items()))
        super().__init__(f"reading {reading_id!r}: {what} is excluded for a domain fault: "
                         f"{listed}")


def transcript_tokens(text: str) -> list[str]:
    """The word tokens the REFLACX writer derives from a transcript (module docstring)."""
    return text.replace(".", " .").replace(",", " ,").split()


def word_faults(words: pd.DataFrame, transcription: str | None) -> dict[str, tuple[int, int]]:
    """``{reason: (count, first row position)}`` of the word faults (empty when clean).
    ``transcription=None`` skips the cross-check."""
    out = {}
    start = words["timestamp_start_word"].to_numpy(dtype=np.float64)
    end = words["timestamp_end_word"].to_numpy(dtype=np.float64)
    back = np.flatnonzero(np.diff(start) < 0) + 1
    if len(back):
        out["words_out_of_order"] = (len(back), int(back[0]))
    neg = np.flatnonzero(end < start)
    if len(neg):
        out["word_negative_duration"] = (len(neg), int(neg[0]))
    if transcription is not None:
        tokens = [str(w) for w in words["word"]]
        said = transcript_tokens(transcription)
        if said != " ".join(tokens).split():
            first = next((k for k, (a, b) in enumerate(zip(said, tokens)) if a != b),
                         min(len(said), len(tokens)))
            out["transcript_mismatch"] = (1, int(first))
    return out


def fixation_faults(fixations: pd.DataFrame,
                    recording_s: tuple[float, float] | None = None) -> dict[str, tuple[int, int]]:
    """``{reason: (count, first row position)}`` of the fixation faults (an empty table is
    :data:`FAULT_REASONS` ``empty_fixations``, position -1). ``recording_s``: the first and
    last gaze sample times (s), when the gaze is at hand."""
    if not len(fixations):
        return {"empty_fixations": (1, -1)}
    start = fixations["timestamp_start_fixation"].to_numpy(dtype=np.float64)
    end = fixations["timestamp_end_fixation"].to_numpy(dtype=np.float64)
    out = {}
    neg = np.flatnonzero(end < start)
    if len(neg):
        out["fixation_negative_duration"] = (len(neg), int(neg[0]))
    if recording_s is not None and np.all(np.isfinite(recording_s)):
        lo, hi = recording_s
        off = np.flatnonzero((start < lo - RECORDING_TOLERANCE_S) | (end > hi + RECORDING_TOLERANCE_S))
        if len(off):
            out["fixation_outside_recording"] = (len(off), int(off[0]))
    return out


def box_faults(boxes: pd.DataFrame, width: int, height: int, reason: str,
               tolerance: float = BOX_TOLERANCE) -> dict[str, tuple[int, int]]:
    """``{reason: (count, first row position)}`` for boxes (``xmin, ymin, xmax, ymax``) that
    are inverted or lie more than ``tolerance`` of the image size outside a ``width`` x
    ``height`` image."""
    if not len(boxes):
        return {}
    x0, y0, x1, y1 = (boxes[c].to_numpy(dtype=np.float64) for c in ("xmin", "ymin", "xmax", "ymax"))
    dx, dy = tolerance * width, tolerance * height
    bad = ((x0 > x1) | (y0 > y1) | (x0 < -dx) | (y0 < -dy) | (x1 > width - 1 + dx)
           | (y1 > height - 1 + dy))
    idx = np.flatnonzero(bad)
    return {reason: (len(idx), int(idx[0]))} if len(idx) else {}


class FaultChecks:
    """The domain-fault side of :class:`~gazex_lib.data.reflacx.ReflacxDataset` (a mixin: it
    uses the dataset's loaders, ``metadata``, ``strict`` and its ``_faults`` cache)."""

    def reading_faults(self, reading_id: str) -> dict[str, int]:
        """``{reason: count}`` of the reading's domain faults (module docstring); ``{}`` when
        clean. Reads the reading's small files (words, transcript, fixations, boxes) once."""
        out = {}
        for kind in ("words", "fixations", "chest_box", "ellipses"):
            out.update({r: n for r, (n, _) in self._file_faults(reading_id, kind).items()})
        return out

    def _file_faults(self, reading_id: str, kind: str) -> dict:
        key = (reading_id, kind)
        if key not in self._faults:
            self._faults[key] = self._compute_faults(reading_id, kind)
        return self._faults[key]

    def _compute_faults(self, reading_id: str, kind: str) -> dict:
        discarded = self.is_discarded(reading_id)
        if kind == "words":
            return {} if discarded else word_faults(self._load_words(reading_id),
                                                    self._read_transcription(reading_id))
        if kind == "fixations":
            if discarded:
                return {}
            span = None
            if self.has_gaze_data and self.gaze_path_exists(reading_id):
                t = self._load_gaze(reading_id)["timestamp_sample"].to_numpy(dtype=np.float64)
                t = t[np.isfinite(t)]
                span = (float(t.min()), float(t.max())) if len(t) else None
            return fixation_faults(self._load_fixations(reading_id), span)
        meta = self.metadata.loc[reading_id]
        w, h = int(meta["image_size_x"]), int(meta["image_size_y"])
        if kind == "chest_box":
            return box_faults(self._load_chest_box(reading_id), w, h, "impossible_chest_box")
        return box_faults(self._load_ellipses(reading_id), w, h, "impossible_ellipse")

    def _check_usable(self, reading_id: str, kind: str) -> None:
        """Raise when ``kind``'s file of the reading has a domain fault: ReadingFaultError, or
        ReflacxFormatError naming the file and the first faulty row when ``strict``."""
        faults = self._file_faults(reading_id, kind)
        if not faults:
            return
        from gazex_lib.data import schema
        from gazex_lib.data._csv import ReflacxFormatError, line_of

        if self.strict:
            reason, (n, pos) = sorted(faults.items())[0]
            path = self._file(reading_id, kind)
            at = f"row {pos + 1} (line {line_of(path, pos)})" if pos >= 0 else "no data row"
            raise ReflacxFormatError(f"{path}: {at}: {reason}: {FAULT_REASONS[reason]} "
                                     f"({n} in the file; strict=True)")
        raise ReadingFaultError(reading_id, {r: n for r, (n, _) in faults.items()},
                                schema.READING_FILES[kind])
